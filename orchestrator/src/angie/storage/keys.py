"""Keys: the names files are stored under, checked where they enter so that no key can reach
outside the storage's root on any backend (disk, SFTP or a bucket)."""

from __future__ import annotations

import re

from angie.storage.errors import InvalidKey

__all__ = ("MAX_KEY_LENGTH", "MAX_PART_LENGTH", "check_key", "check_prefix", "join")

MAX_KEY_LENGTH = 1024
MAX_PART_LENGTH = 255
# Letters, digits and a few marks; no control characters, backslashes or colons, which some
# backends read as separators or drive letters.
_PART = re.compile(r"^[\w][\w .@+=,()-]*$")


def check_key(key: str) -> str:
    """``key`` if it is a relative path of plain parts (``notes/draft.md``), else InvalidKey."""
    if not isinstance(key, str) or not key:
        raise InvalidKey("a file name is needed")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidKey(f"the file name is {len(key)} characters long; at most {MAX_KEY_LENGTH}")
    if key.startswith("/"):
        raise InvalidKey(f"{key!r} is absolute; give a name relative to the storage")
    for part in key.split("/"):
        if part in ("", ".", ".."):
            raise InvalidKey(f"{key!r} has an empty, '.' or '..' part; names cannot climb out")
        if len(part) > MAX_PART_LENGTH:
            raise InvalidKey(f"a part of {key!r} is over {MAX_PART_LENGTH} characters")
        if not _PART.match(part) or part.endswith((" ", ".")):
            raise InvalidKey(
                f"{key!r} has a part with characters a file name cannot have "
                "(use letters, digits, spaces and . _ - @ + = , ( ))"
            )
    return key


def check_prefix(prefix: str) -> str:
    """A prefix to list under: empty (everything) or a key, with or without a trailing ``/``."""
    if prefix == "":
        return prefix
    return check_key(prefix.removesuffix("/")) + ("/" if prefix.endswith("/") else "")


def join(*parts: str) -> str:
    """Keys joined with ``/``, the result checked."""
    return check_key("/".join(p.strip("/") for p in parts if p))
