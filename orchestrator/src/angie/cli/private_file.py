"""Files that hold a credential: written whole, readable by this user only."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ("write_private",)


def write_private(path: Path, text: str) -> None:
    """Replace ``path`` with ``text``, readable by this user only (it holds a credential).

    A temporary file in the same folder, created 0600, then renamed over the old one: the
    credential is never readable by others, not even for a moment, nor the file ever half written.
    """
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
