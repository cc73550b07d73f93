"""Angie's cache: one async interface, kept in process (:class:`MemoryCache`) or in Redis.

What Angie caches, under which key prefix, and what removes each entry:

* MCP tool lists, per server — ``tools:<server>:``; invalidated when the supervisor restarts
  the server or its configuration changes.
* Agent and team definitions — ``agents:`` / ``teams:``; invalidated on any edit through the
  API or the CLI.
* Composed prompts — ``prompts:<user>:``; invalidated when a prompt version is saved.
* Rate-limit counters — ``ratelimit:``; never invalidated, they expire by TTL only.

Values are stored as JSON, so both implementations behave alike: a value must be
JSON-serialisable and comes back as JSON gives it (tuples as lists, dict keys as strings).
``get`` answers ``None`` for a miss, so a stored ``None`` reads as a miss.
"""

from __future__ import annotations

import functools
import inspect
import json
import math
import re
import time
from collections import OrderedDict
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol, cast, runtime_checkable
from urllib.parse import urlsplit

import redis.asyncio as aioredis
from redis import exceptions as redis_errors

from angie.errors import Unavailable

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterator

__all__ = (
    "Cache",
    "CacheError",
    "CachedFunction",
    "Clock",
    "MemoryCache",
    "RedisCache",
    "cached",
    "create_cache",
)

_GLOB_CHARS = re.compile(r"([*?\[\]\\])")
_SCAN_BATCH = 500  # keys per SCAN step and per UNLINK


class CacheError(Unavailable):
    """The cache cannot do what was asked: its backend is unreachable, or a value is not JSON."""


class Clock(Protocol):
    """Seconds from a monotonic source; tests inject one they can advance."""

    def __call__(self) -> float: ...


@runtime_checkable
class Cache(Protocol):
    """An async key-value cache whose keys all live under the instance's namespace."""

    async def get(self, key: str) -> Any | None: ...
    async def set(self, key: str, value: Any, ttl: float | None = None) -> None: ...
    async def delete(self, key: str) -> bool: ...
    async def invalidate_prefix(self, prefix: str) -> int: ...
    async def close(self) -> None: ...


def _encode(key: str, value: Any) -> str:
    try:
        return json.dumps(value, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as err:
        raise CacheError(
            f"Cannot cache {key!r}: its value is not JSON-serialisable ({err})."
        ) from err


def _check_ttl(ttl: float | None) -> None:
    if ttl is not None and not ttl > 0:
        raise ValueError(f"ttl must be a positive number of seconds or None, not {ttl!r}")


class MemoryCache:
    """The in-process twin of :class:`RedisCache`, bounded to ``max_entries`` by LRU eviction.

    No method awaits between reading and writing its entries, so each one is atomic on the
    event loop and concurrent tasks need no lock.
    """

    def __init__(
        self, namespace: str = "angie:", *, max_entries: int = 10_000, clock: Clock = time.monotonic
    ) -> None:
        if max_entries < 1:
            raise ValueError(f"max_entries must be at least 1, not {max_entries}")
        self._namespace = namespace
        self._max_entries = max_entries
        self._clock = clock
        # Full key -> (JSON text, monotonic deadline or None), least recently used first.
        self._entries: OrderedDict[str, tuple[str, float | None]] = OrderedDict()

    def _live(self, full_key: str) -> str | None:
        entry = self._entries.get(full_key)
        if entry is None:
            return None
        text, deadline = entry
        if deadline is not None and self._clock() >= deadline:
            del self._entries[full_key]
            return None
        return text

    async def get(self, key: str) -> Any | None:
        full_key = self._namespace + key
        text = self._live(full_key)
        if text is None:
            return None
        self._entries.move_to_end(full_key)
        return json.loads(text)

    async def set(self, key: str, value: Any, ttl: float | None = None) -> None:
        _check_ttl(ttl)
        text = _encode(key, value)
        full_key = self._namespace + key
        self._entries[full_key] = (text, None if ttl is None else self._clock() + ttl)
        self._entries.move_to_end(full_key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    def _pop(self, full_key: str) -> bool:
        found = self._live(full_key) is not None
        self._entries.pop(full_key, None)
        return found

    async def delete(self, key: str) -> bool:
        return self._pop(self._namespace + key)

    async def invalidate_prefix(self, prefix: str) -> int:
        start = self._namespace + prefix
        return sum(self._pop(k) for k in [k for k in self._entries if k.startswith(start)])

    async def close(self) -> None:
        self._entries.clear()


class RedisCache:
    """A cache in Redis, shared by every Angie process that uses the same URL and namespace."""

    def __init__(self, url: str, namespace: str = "angie:", *, socket_timeout: float = 5.0) -> None:
        self._namespace = namespace
        self._client = aioredis.Redis.from_url(
            url, socket_timeout=socket_timeout, socket_connect_timeout=socket_timeout
        )
        parts = urlsplit(url)  # Named without its user info: a password never reaches a message.
        self._where = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path}"

    @contextmanager
    def _translated(self, action: str) -> Iterator[None]:
        try:
            yield
        except (redis_errors.ConnectionError, redis_errors.TimeoutError) as err:
            raise CacheError(
                f"Cannot {action}: Redis at {self._where} does not answer ({err})."
            ) from err
        except redis_errors.RedisError as err:
            raise CacheError(f"Cannot {action}: Redis at {self._where} failed ({err}).") from err

    async def get(self, key: str) -> Any | None:
        with self._translated(f"read {key!r} from the cache"):
            raw = await self._client.get(self._namespace + key)
        return None if raw is None else json.loads(raw)

    async def set(self, key: str, value: Any, ttl: float | None = None) -> None:
        _check_ttl(ttl)
        text = _encode(key, value)
        px = None if ttl is None else max(1, math.ceil(ttl * 1000))
        with self._translated(f"write {key!r} to the cache"):
            await self._client.set(self._namespace + key, text, px=px)

    async def delete(self, key: str) -> bool:
        with self._translated(f"delete {key!r} from the cache"):
            return bool(await self._client.unlink(self._namespace + key))

    async def invalidate_prefix(self, prefix: str) -> int:
        pattern = _GLOB_CHARS.sub(r"\\\1", self._namespace + prefix) + "*"
        removed = 0
        batch: list[bytes] = []
        with self._translated(f"invalidate the prefix {prefix!r}"):
            async for full_key in self._client.scan_iter(match=pattern, count=_SCAN_BATCH):
                batch.append(full_key)
                if len(batch) >= _SCAN_BATCH:
                    removed += await self._client.unlink(*batch)
                    batch.clear()
            if batch:
                removed += await self._client.unlink(*batch)
        return removed

    async def close(self) -> None:
        with self._translated("close the cache"):
            await self._client.aclose()


class CachedFunction[**P, R]:
    """An async function whose non-``None`` results are cached; see :func:`cached`."""

    def __init__(
        self,
        func: Callable[P, Awaitable[R]],
        source: Cache | Callable[[], Cache],
        ttl: float | None,
        key: Callable[..., str] | None,
    ) -> None:
        _check_ttl(ttl)
        functools.update_wrapper(self, func)
        self._func = func
        self._cache: Callable[[], Cache] = (lambda: source) if isinstance(source, Cache) else source
        self._ttl = ttl
        self._key = key
        self._signature = inspect.signature(func)
        self._name = f"{func.__module__}.{func.__qualname__}"
        #: Shared by every entry under the default key; ``None`` when ``key`` is given.
        self.prefix: str | None = None if key is not None else f"fn:{self._name}:"

    def key_for(self, *args: P.args, **kwargs: P.kwargs) -> str:
        """The cache key (without namespace) of one call."""
        if self._key is not None:
            return self._key(*args, **kwargs)
        bound = self._signature.bind(*args, **kwargs)
        bound.apply_defaults()
        try:
            arguments = json.dumps(bound.arguments, sort_keys=True, separators=(",", ":"))
        except (TypeError, ValueError) as err:
            raise CacheError(
                f"Cannot build a cache key for {self._name}: its arguments are not "
                f"JSON-serialisable ({err}); pass key= to cached()."
            ) from err
        return f"{self.prefix}{arguments}"

    async def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        cache = self._cache()
        key = self.key_for(*args, **kwargs)
        hit = await cache.get(key)
        if hit is not None:
            return cast("R", hit)
        result = await self._func(*args, **kwargs)
        if result is not None:
            await cache.set(key, result, ttl=self._ttl)
        return result

    async def invalidate(self, *args: P.args, **kwargs: P.kwargs) -> bool:
        """Forget the cached result of the call with these arguments; ``True`` if there was one."""
        return await self._cache().delete(self.key_for(*args, **kwargs))


class _Decorator(Protocol):
    def __call__[**P, R](self, func: Callable[P, Awaitable[R]], /) -> CachedFunction[P, R]: ...


def cached(
    cache: Cache | Callable[[], Cache],
    *,
    ttl: float | None,
    key: Callable[..., str] | None = None,
) -> _Decorator:
    """Cache an async function's results in ``cache`` (or the cache a getter returns per call).

    The default key is ``fn:<module>.<qualname>:`` (the wrapper's ``prefix``) followed by the
    bound arguments as JSON; pass ``key`` (taking the function's arguments) for readable keys
    such as ``tools:<server>:list``, or when arguments are not JSON. ``None`` results are not
    cached. Results must be JSON-serialisable; a hit returns them as JSON gives them back.
    Two concurrent misses both call the function; the last result stored wins. Decorate plain
    functions, not methods.
    """

    def decorate[**P, R](func: Callable[P, Awaitable[R]], /) -> CachedFunction[P, R]:
        return CachedFunction(func, cache, ttl, key)

    return decorate


def create_cache(redis_url: str | None, namespace: str = "angie:") -> Cache:
    """A :class:`RedisCache` when ``redis_url`` is given, else a :class:`MemoryCache`."""
    if redis_url:
        return RedisCache(redis_url, namespace)
    return MemoryCache(namespace)
