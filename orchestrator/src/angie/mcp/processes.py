"""What the supervisor does to the processes it starts, however they were started: tie them to
their parent's life and stop them with their process group."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import sys
import time

__all__ = ("die_with_parent", "group_alive", "stop_process_group")

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """In the child before exec: on Linux, get SIGTERM when its parent dies, even by SIGKILL,
    so no server outlives Angie holding its port and credentials."""
    if sys.platform != "linux":
        return
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


async def stop_process_group(pgid: int, grace: float) -> None:
    """SIGTERM a child's process group (it leads its own session), SIGKILL what is left of it
    after ``grace`` seconds: a server's own children go with it."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not group_alive(pgid):
            return
        await asyncio.sleep(0.05)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
