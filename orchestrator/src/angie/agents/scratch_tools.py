"""The scratch-file tools an agent gets: write, read, list and delete its conversation's
working files. The conversation is bound to the run from the task being run (looked up when a
tool is first called, not before); the model names files only, so it can never reach another
conversation's files."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from pydantic_ai import ModelRetry, RunContext
from pydantic_ai.toolsets import AbstractToolset, FunctionToolset, WrapperToolset
from pydantic_ai.toolsets.abstract import ToolsetTool

from angie.errors import Invalid, NotFound
from angie.storage.errors import StorageUnavailable
from angie.storage.scratch import ScratchFiles

__all__ = ("SCRATCH_SERVER", "scratch_toolset")

# The name the calls are audited under, as if a server's.
SCRATCH_SERVER = "scratch"
# What one read returns at most, so a big file cannot flood the model's context.
MAX_READ_CHARS = 50_000

# The conversation of the call being made; set by the run's binding, read by the tools.
_CONVERSATION: ContextVar[int] = ContextVar("scratch_conversation")
# The four tools, made once per scratch store (their schemas cost a few milliseconds to build).
_SHARED: weakref.WeakKeyDictionary[ScratchFiles, FunctionToolset[Any]] = weakref.WeakKeyDictionary()

Conversation = Callable[[], Awaitable[int]]


@dataclass
class _Bound(WrapperToolset[Any]):
    """The shared tools, each call bound to this run's conversation."""

    conversation: Conversation = field(kw_only=True)
    _found: asyncio.Future[int] | None = field(default=None, init=False, repr=False)

    async def _conversation_id(self) -> int:
        if self._found is None:  # no await before it is set: one lookup per run
            self._found = asyncio.ensure_future(self.conversation())
        return await self._found

    async def call_tool(
        self, name: str, tool_args: dict[str, Any], ctx: RunContext[Any], tool: ToolsetTool[Any]
    ) -> Any:
        token = _CONVERSATION.set(await self._conversation_id())
        try:
            return await super().call_tool(name, tool_args, ctx, tool)
        finally:
            _CONVERSATION.reset(token)


def scratch_toolset(files: ScratchFiles, conversation: Conversation) -> AbstractToolset[Any]:
    """Four tools over one conversation's scratch files, found by ``conversation`` when a tool
    is first called."""
    shared = _SHARED.get(files)
    if shared is None:
        shared = _SHARED[files] = _tools(files)
    return _Bound(shared, conversation=conversation)


def _tools(files: ScratchFiles) -> FunctionToolset[Any]:
    toolset: FunctionToolset[Any] = FunctionToolset()

    @toolset.tool_plain
    async def scratch_write(name: str, content: str) -> str:
        """Save a working file (notes, a draft, findings) for later steps of this conversation,
        replacing one of the same name. `name` is a relative file name such as
        `notes/plan.md` (letters, digits, spaces, `. _ -`; no `..`). Returns the size saved and
        the room left. The files of one conversation share a size limit."""
        try:
            saved = await files.write(_CONVERSATION.get(), name, content.encode())
            left = files.max_bytes - await files.used(_CONVERSATION.get())
        except (Invalid, NotFound, StorageUnavailable) as err:
            raise ModelRetry(str(err)) from err
        return f"saved {saved.key} ({saved.size} bytes); {left} bytes of scratch space left"

    @toolset.tool_plain
    async def scratch_read(name: str) -> str:
        """Read a working file saved earlier in this conversation (see scratch_list)."""
        try:
            data = await files.read(_CONVERSATION.get(), name)
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
            found = await files.list(_CONVERSATION.get())
        except StorageUnavailable as err:
            raise ModelRetry(str(err)) from err
        if not found:
            return "no scratch files yet"
        return "\n".join(f"{f.key}\t{f.size}\t{f.modified.isoformat()}" for f in found)

    @toolset.tool_plain
    async def scratch_delete(name: str) -> str:
        """Delete a working file of this conversation that is no longer needed."""
        try:
            await files.delete(_CONVERSATION.get(), name)
        except (Invalid, NotFound, StorageUnavailable) as err:
            raise ModelRetry(str(err)) from err
        return f"deleted {name}"

    return toolset
