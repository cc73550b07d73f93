"""Run the vendors' blocking SDKs (phue, spotipy, PyGithub) from async tools, with a deadline."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable

from angie_mcp_core.errors import UpstreamTimeoutError

__all__ = ("call_blocking",)


# The deadline is a parameter, not the caller's asyncio.timeout(), so every tool passes its
# server's configured timeout and the error can name it.
async def call_blocking[**P, R](
    service: str,
    timeout: float,  # noqa: ASYNC109
    fn: Callable[P, R],
    /,
    *args: P.args,
    **kwargs: P.kwargs,
) -> R:
    """Run ``fn`` in a worker thread; past ``timeout`` seconds raise :class:`UpstreamTimeoutError`.

    The thread cannot be interrupted and finishes in the background, but the tool answers on
    time and the server keeps serving.
    """
    try:
        return await asyncio.wait_for(
            asyncio.to_thread(functools.partial(fn, *args, **kwargs)), timeout
        )
    except TimeoutError as err:
        raise UpstreamTimeoutError(service, timeout) from err
