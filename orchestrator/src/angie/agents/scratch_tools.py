"""The scratch-file tools an agent gets: write, read, list and delete its conversation's
working files. The conversation is bound when the toolset is built from the task being run;
the model names files only, so it can never reach another conversation's files."""

from __future__ import annotations

from typing import Any

from pydantic_ai import ModelRetry
from pydantic_ai.toolsets import FunctionToolset

from angie.errors import Invalid, NotFound
from angie.storage.errors import StorageUnavailable
from angie.storage.scratch import ScratchFiles

__all__ = ("SCRATCH_SERVER", "scratch_toolset")

# The name the calls are audited under, as if a server's.
SCRATCH_SERVER = "scratch"
# What one read returns at most, so a big file cannot flood the model's context.
MAX_READ_CHARS = 50_000


def scratch_toolset(files: ScratchFiles, conversation_id: int) -> FunctionToolset[Any]:
    """Four tools over ``conversation_id``'s scratch files."""
    toolset: FunctionToolset[Any] = FunctionToolset()

    @toolset.tool_plain
    async def scratch_write(name: str, content: str) -> str:
        """Save a working file (notes, a draft, findings) for later steps of this conversation,
        replacing one of the same name. `name` is a relative file name such as
        `notes/plan.md` (letters, digits, spaces, `. _ -`; no `..`). Returns the size saved and
        the room left. The files of one conversation share a size limit."""
        try:
            saved = await files.write(conversation_id, name, content.encode())
            left = files.max_bytes - await files.used(conversation_id)
        except (Invalid, NotFound, StorageUnavailable) as err:
            raise ModelRetry(str(err)) from err
        return f"saved {saved.key} ({saved.size} bytes); {left} bytes of scratch space left"

    @toolset.tool_plain
    async def scratch_read(name: str) -> str:
        """Read a working file saved earlier in this conversation (see scratch_list)."""
        try:
            data = await files.read(conversation_id, name)
        except (Invalid, NotFound, StorageUnavailable) as err:
            raise ModelRetry(str(err)) from err
        text = data.decode("utf-8", errors="replace")
        if len(text) > MAX_READ_CHARS:
            return text[:MAX_READ_CHARS] + f"\n[… {len(text) - MAX_READ_CHARS} more characters]"
        return text

    @toolset.tool_plain
    async def scratch_list() -> str:
        """List this conversation's working files: name, size in bytes and when written."""
        try:
            found = await files.list(conversation_id)
        except StorageUnavailable as err:
            raise ModelRetry(str(err)) from err
        if not found:
            return "no scratch files yet"
        return "\n".join(f"{f.key}\t{f.size}\t{f.modified.isoformat()}" for f in found)

    @toolset.tool_plain
    async def scratch_delete(name: str) -> str:
        """Delete a working file of this conversation that is no longer needed."""
        try:
            await files.delete(conversation_id, name)
        except (Invalid, NotFound, StorageUnavailable) as err:
            raise ModelRetry(str(err)) from err
        return f"deleted {name}"

    return toolset
