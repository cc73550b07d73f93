"""Cache overhead: Angie's cache against the bare backend doing the same work, in the same run.

MemoryCache is compared with a dict holding the same JSON text; RedisCache with redis.asyncio
GET/SET of the same JSON text. The ratio is Angie's time over the baseline's (1.0 = no overhead).
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable

import redis.asyncio as aioredis

from angie.cache import MemoryCache, RedisCache

ROUNDS = 5
OPS = 2_000
VALUE = {"tools": [{"name": f"hue_tool_{i}", "read_only": i % 2 == 0} for i in range(20)]}
REDIS_URL = os.environ.get("ANGIE_BENCH_REDIS_URL", "redis://127.0.0.1:6379/1")


async def _timed(
    ours: Callable[[int], Awaitable[None]], base: Callable[[int], Awaitable[None]]
) -> tuple[float, float]:
    """Median per-op time in µs of each side; rounds alternate so both see the same machine."""

    async def one_round(body: Callable[[int], Awaitable[None]]) -> float:
        start = time.perf_counter()
        for i in range(OPS):
            await body(i)
        return (time.perf_counter() - start) / OPS * 1e6

    await one_round(ours)  # warm-up: connections, caches, code paths
    await one_round(base)
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(ROUNDS):
        times[0].append(await one_round(ours))
        times[1].append(await one_round(base))
    return statistics.median(times[0]), statistics.median(times[1])


def _row(name: str, ours: float, base: float) -> None:
    print(
        f"{name:<28} angie {ours:8.2f} µs/op   baseline {base:8.2f} µs/op"
        f"   ratio {ours / base:5.2f}x"
    )


async def memory() -> None:
    cache = MemoryCache("bench:")
    plain: dict[str, str] = {}

    async def ours(i: int) -> None:
        await cache.set(f"k{i % 100}", VALUE, ttl=60)
        await cache.get(f"k{i % 100}")

    async def base(i: int) -> None:
        plain[f"bench:k{i % 100}"] = json.dumps(VALUE)
        json.loads(plain[f"bench:k{i % 100}"])

    _row("memory set+get", *await _timed(ours, base))


async def redis() -> None:
    namespace = f"bench:{uuid.uuid4().hex}:"
    cache = RedisCache(REDIS_URL, namespace)
    raw = aioredis.Redis.from_url(REDIS_URL)
    try:
        await raw.ping()
    except (OSError, aioredis.RedisError):
        print(f"redis set+get                skipped: no Redis at {REDIS_URL}")
        await raw.aclose()
        return

    async def ours(i: int) -> None:
        await cache.set(f"k{i % 100}", VALUE, ttl=60)
        await cache.get(f"k{i % 100}")

    async def base(i: int) -> None:
        await raw.set(f"{namespace}raw{i % 100}", json.dumps(VALUE), px=60_000)
        json.loads(await raw.get(f"{namespace}raw{i % 100}") or b"null")

    try:
        _row("redis set+get (loopback)", *await _timed(ours, base))
    finally:
        await cache.invalidate_prefix("")
        await cache.close()
        await raw.aclose()


async def main() -> None:
    size = len(json.dumps(VALUE))
    print(f"{ROUNDS} alternating rounds x {OPS} set+get pairs, median; value {size} B")
    await memory()
    await redis()


if __name__ == "__main__":
    asyncio.run(main())
