"""The cache suite, run against the in-memory cache and against the real Redis on loopback."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any
from uuid import uuid4

import pytest

from angie.cache import Cache, CacheError, MemoryCache, RedisCache, cached, create_cache

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable


class FakeClock:
    """A monotonic clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def _new_cache(kind: str, request: pytest.FixtureRequest, clock: FakeClock) -> Cache:
    namespace = f"angie-test:{uuid4().hex}:"
    if kind == "memory":
        return MemoryCache(namespace, clock=clock)
    return RedisCache(request.getfixturevalue("redis_url"), namespace)


async def _discard(cache: Cache) -> None:
    await cache.invalidate_prefix("")
    await cache.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def cache(request: pytest.FixtureRequest, clock: FakeClock) -> AsyncIterator[Cache]:
    opened = _new_cache(request.param, request, clock)
    yield opened
    await _discard(opened)


@pytest.fixture
async def other_cache(
    cache: Cache, request: pytest.FixtureRequest, clock: FakeClock
) -> AsyncIterator[Cache]:
    """A second cache on the same backend (same Redis database), in another namespace."""
    opened = _new_cache("memory" if isinstance(cache, MemoryCache) else "redis", request, clock)
    yield opened
    await _discard(opened)


@pytest.fixture
def elapse(cache: Cache, clock: FakeClock) -> Callable[[float], Awaitable[None]]:
    """Let time pass: the memory cache's clock is advanced, Redis really waits."""

    async def elapse(seconds: float) -> None:
        if isinstance(cache, MemoryCache):
            clock.advance(seconds)
        else:
            await asyncio.sleep(seconds)

    return elapse


async def test_get_of_missing_key_returns_none(cache: Cache) -> None:
    assert await cache.get("missing") is None


@pytest.mark.parametrize(
    "value",
    [{"name": "hue", "tools": ["on", "off"], "n": 2}, ["a", 1, None, 2.5], "text", 42],
    ids=["dict", "list", "str", "int"],
)
async def test_set_then_get_round_trips_json_values(cache: Cache, value: Any) -> None:
    await cache.set("key", value)

    assert await cache.get("key") == value


async def test_set_overwrites_existing_value(cache: Cache) -> None:
    await cache.set("key", "old")
    await cache.set("key", "new")

    assert await cache.get("key") == "new"


async def test_delete_returns_true_when_key_existed(cache: Cache) -> None:
    await cache.set("key", 1)

    assert await cache.delete("key") is True
    assert await cache.get("key") is None


async def test_delete_returns_false_when_key_missing(cache: Cache) -> None:
    assert await cache.delete("missing") is False


async def test_value_expires_after_ttl(
    cache: Cache, elapse: Callable[[float], Awaitable[None]]
) -> None:
    await cache.set("key", "soon gone", ttl=0.2)
    assert await cache.get("key") == "soon gone"

    await elapse(0.35)

    assert await cache.get("key") is None


async def test_value_without_ttl_persists(
    cache: Cache, elapse: Callable[[float], Awaitable[None]]
) -> None:
    await cache.set("key", "kept")

    await elapse(0.35)

    assert await cache.get("key") == "kept"


async def test_invalidate_prefix_removes_exactly_matching_keys(cache: Cache) -> None:
    for key in ("tools:hue:list", "tools:hue:schema", "tools:hues:list", "agents:main"):
        await cache.set(key, key)

    removed = await cache.invalidate_prefix("tools:hue:")

    assert removed == 2
    assert await cache.get("tools:hue:list") is None
    assert await cache.get("tools:hue:schema") is None
    assert await cache.get("tools:hues:list") == "tools:hues:list"
    assert await cache.get("agents:main") == "agents:main"


@pytest.mark.parametrize(
    ("prefix", "decoy"),
    [("a*b", "axyb"), ("a?b", "axb"), ("[ab]", "a"), ("a\\b", "ab")],
    ids=["star", "question-mark", "brackets", "backslash"],
)
async def test_invalidate_prefix_matches_glob_characters_literally(
    cache: Cache, prefix: str, decoy: str
) -> None:
    await cache.set(f"{prefix}:1", 1)
    await cache.set(f"{prefix}:2", 2)
    await cache.set(f"{decoy}:1", "unrelated")

    removed = await cache.invalidate_prefix(prefix)

    assert removed == 2
    assert await cache.get(f"{decoy}:1") == "unrelated"


async def test_namespaces_isolate_two_caches(cache: Cache, other_cache: Cache) -> None:
    await cache.set("key", "mine")
    await other_cache.set("key", "theirs")

    assert await other_cache.invalidate_prefix("") == 1
    assert await cache.get("key") == "mine"
    assert await other_cache.get("key") is None


async def test_non_json_value_raises_cache_error_and_stores_nothing(cache: Cache) -> None:
    with pytest.raises(CacheError, match="not JSON-serialisable"):
        await cache.set("key", {1, 2})

    assert await cache.get("key") is None


async def test_concurrent_tasks_each_see_their_own_value(cache: Cache) -> None:
    async def write_then_read(n: int) -> Any:
        await cache.set(f"task:{n}", n)
        return await cache.get(f"task:{n}")

    results = await asyncio.gather(*(write_then_read(n) for n in range(50)))

    assert results == list(range(50))


async def test_cached_returns_stored_result_without_calling_again(cache: Cache) -> None:
    calls: list[str] = []

    @cached(cache, ttl=None)
    async def list_tools(server: str) -> list[str]:
        calls.append(server)
        return ["on", "off"]

    assert await list_tools("hue") == ["on", "off"]
    assert await list_tools("hue") == ["on", "off"]
    assert calls == ["hue"]


async def test_cached_keeps_separate_entries_per_arguments(cache: Cache) -> None:
    calls: list[str] = []

    @cached(cache, ttl=None)
    async def list_tools(server: str) -> list[str]:
        calls.append(server)
        return [f"{server}-tool"]

    assert await list_tools("hue") == ["hue-tool"]
    assert await list_tools("sonos") == ["sonos-tool"]
    assert await list_tools(server="hue") == ["hue-tool"]
    assert calls == ["hue", "sonos"]


async def test_cached_calls_again_after_ttl(
    cache: Cache, elapse: Callable[[float], Awaitable[None]]
) -> None:
    calls: list[str] = []

    @cached(cache, ttl=0.2)
    async def list_tools(server: str) -> list[str]:
        calls.append(server)
        return ["on"]

    await list_tools("hue")
    await elapse(0.35)
    await list_tools("hue")

    assert calls == ["hue", "hue"]


async def test_cached_invalidate_forgets_only_that_call(cache: Cache) -> None:
    calls: list[str] = []

    @cached(cache, ttl=None)
    async def list_tools(server: str) -> list[str]:
        calls.append(server)
        return ["on"]

    await list_tools("hue")
    await list_tools("sonos")

    assert await list_tools.invalidate("hue") is True
    await list_tools("hue")
    await list_tools("sonos")
    assert calls == ["hue", "sonos", "hue"]


async def test_cached_entries_share_the_function_prefix(cache: Cache) -> None:
    @cached(cache, ttl=None)
    async def list_tools(server: str) -> list[str]:
        return [server]

    await list_tools("hue")
    await list_tools("sonos")

    assert list_tools.prefix is not None
    assert await cache.invalidate_prefix(list_tools.prefix) == 2


async def test_cached_stores_under_custom_key(cache: Cache) -> None:
    @cached(cache, ttl=None, key=lambda server: f"tools:{server}:list")
    async def list_tools(server: str) -> list[str]:
        return ["on"]

    await list_tools("hue")

    assert await cache.get("tools:hue:list") == ["on"]
    assert list_tools.prefix is None


async def test_cached_does_not_store_none(cache: Cache) -> None:
    calls: list[str] = []

    @cached(cache, ttl=None)
    async def find_agent(name: str) -> dict[str, str] | None:
        calls.append(name)
        return None

    await find_agent("ghost")
    await find_agent("ghost")

    assert calls == ["ghost", "ghost"]


async def test_cached_resolves_cache_getter_at_call_time(cache: Cache) -> None:
    current: list[Cache] = []

    @cached(lambda: current[0], ttl=None, key=lambda name: f"agents:{name}")
    async def load_agent(name: str) -> dict[str, str]:
        return {"name": name}

    current.append(cache)
    await load_agent("main")

    assert await cache.get("agents:main") == {"name": "main"}


async def test_cached_rejects_non_json_arguments_with_cache_error(cache: Cache) -> None:
    @cached(cache, ttl=None)
    async def describe(thing: object) -> str:
        return "thing"

    with pytest.raises(CacheError, match="pass key="):
        await describe(object())


async def test_memory_cache_evicts_least_recently_used_entry(clock: FakeClock) -> None:
    cache = MemoryCache("angie-test:", max_entries=2, clock=clock)
    await cache.set("a", 1)
    await cache.set("b", 2)
    await cache.get("a")

    await cache.set("c", 3)

    assert await cache.get("b") is None
    assert await cache.get("a") == 1
    assert await cache.get("c") == 3


async def test_redis_cache_on_closed_port_raises_cache_error() -> None:
    cache = RedisCache("redis://127.0.0.1:1/0", "angie-test:")
    try:
        with pytest.raises(CacheError, match=r"Redis at redis://127\.0\.0\.1:1/0 does not answer"):
            await cache.get("key")
    finally:
        await cache.close()


async def test_redis_cache_error_hides_the_password() -> None:
    cache = RedisCache("redis://angie:hunter2@127.0.0.1:1/0", "angie-test:")
    try:
        with pytest.raises(CacheError) as failure:
            await cache.get("key")
    finally:
        await cache.close()

    assert "hunter2" not in str(failure.value)


async def test_create_cache_without_url_is_in_memory() -> None:
    cache = create_cache(None)

    assert isinstance(cache, MemoryCache)
    await cache.close()


async def test_create_cache_with_url_uses_redis() -> None:
    cache = create_cache("redis://127.0.0.1:1/0")

    assert isinstance(cache, RedisCache)
    await cache.close()
