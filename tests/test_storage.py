"""The storage contract, the same tests against the local disk, SFTP to a local asyncssh server
and S3 against moto's server; then what each refuses (bad keys, bad URLs, a backend down)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from fakes.storage_servers import create_bucket, free_port, s3_server, sftp_server
from pydantic import SecretStr

from angie.storage import (
    InvalidKey,
    Storage,
    StorageCredentials,
    StorageNotFound,
    StorageUnavailable,
    StorageUrlError,
    TooLarge,
    open_storage,
)

S3_SECRET = "moto-secret-key-not-logged"


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    with s3_server() as endpoint:
        yield endpoint


@pytest.fixture(params=["file", "sftp", "s3"])
async def storage(
    request: pytest.FixtureRequest, tmp_path: Path, s3_endpoint: str
) -> AsyncIterator[Storage]:
    kind = request.param
    if kind == "file":
        store = open_storage(f"file://{tmp_path / 'files'}")
        yield store
        await store.aclose()
    elif kind == "sftp":
        async with sftp_server(tmp_path / "nas", tmp_path / "keys") as server:
            store = open_storage(
                f"sftp://{server.username}@127.0.0.1:{server.port}/share/angie",
                StorageCredentials(
                    password=SecretStr(server.password), known_hosts=server.known_hosts
                ),
            )
            yield store
            await store.aclose()
    else:
        bucket = f"angie-{tmp_path.name.lower().replace('_', '-')[-40:]}"
        create_bucket(s3_endpoint, bucket)
        store = open_storage(
            f"s3://{bucket}/home?endpoint={s3_endpoint}",
            StorageCredentials(access_key_id="testing", secret_access_key=SecretStr(S3_SECRET)),
        )
        yield store
        await store.aclose()


async def test_saved_file_loads_back(storage: Storage) -> None:
    saved = await storage.save("notes/draft.md", b"# Plan\nfirst")
    assert saved.size == 12
    assert await storage.load("notes/draft.md") == b"# Plan\nfirst"


async def test_save_replaces(storage: Storage) -> None:
    await storage.save("a.txt", b"one")
    await storage.save("a.txt", b"two!")
    assert await storage.load("a.txt") == b"two!"
    assert (await storage.stat("a.txt")).size == 4


async def test_stream_yields_whole_content_in_chunks(storage: Storage) -> None:
    data = bytes(range(256)) * 4096  # 1 MiB
    await storage.save("big/blob.bin", data)
    chunks = [c async for c in storage.open_stream("big/blob.bin", chunk_size=64 * 1024)]
    assert b"".join(chunks) == data
    assert len(chunks) > 1


async def test_list_by_prefix_sorted(storage: Storage) -> None:
    for key in ("c/2.txt", "c/1.txt", "c/sub/3.txt", "d/4.txt", "cx.txt"):
        await storage.save(key, key.encode())
    assert [f.key for f in await storage.list("c/")] == ["c/1.txt", "c/2.txt", "c/sub/3.txt"]
    assert [f.key for f in await storage.list("c")] == [
        "c/1.txt",
        "c/2.txt",
        "c/sub/3.txt",
        "cx.txt",
    ]
    assert len(await storage.list()) == 5
    assert await storage.list("nothing/") == []


async def test_stat_gives_size_and_recent_time(storage: Storage) -> None:
    await storage.save("s.txt", b"12345")
    found = await storage.stat("s.txt")
    assert found.key == "s.txt"
    assert found.size == 5
    assert found.modified.tzinfo is not None


async def test_delete_removes(storage: Storage) -> None:
    await storage.save("gone.txt", b"x")
    await storage.delete("gone.txt")
    with pytest.raises(StorageNotFound, match=r"gone\.txt"):
        await storage.load("gone.txt")
    assert await storage.list() == []


@pytest.mark.parametrize("op", ["load", "stat", "delete", "stream"])
async def test_missing_key_is_not_found(storage: Storage, op: str) -> None:
    async def attempt() -> None:
        if op == "stream":
            [c async for c in storage.open_stream("missing.txt")]
        else:
            await getattr(storage, op)("missing.txt")

    with pytest.raises(StorageNotFound, match=r"no file 'missing\.txt'"):
        await attempt()


@pytest.mark.parametrize(
    "key",
    ["../escape.txt", "a/../../etc/passwd", "/etc/passwd", "a//b", "./a", "", "a\\b", "c:x", "a/"],
)
async def test_keys_that_climb_or_are_odd_are_refused(storage: Storage, key: str) -> None:
    with pytest.raises(InvalidKey):
        await storage.save(key, b"x")
    with pytest.raises(InvalidKey):
        await storage.load(key)


async def test_overlong_key_is_refused(storage: Storage) -> None:
    with pytest.raises(InvalidKey, match="at most 1024"):
        await storage.save("a/" * 600 + "b", b"x")


def test_save_over_object_limit_is_refused(tmp_path: Path) -> None:
    store = open_storage(f"file://{tmp_path}", max_object_bytes=10)
    import asyncio

    with pytest.raises(TooLarge, match="at most 10"):
        asyncio.run(store.save("f.bin", b"x" * 11))
    assert not (tmp_path / "f.bin").exists()


async def test_local_files_stay_under_the_root(tmp_path: Path) -> None:
    root = tmp_path / "root"
    store = open_storage(str(root))
    await store.save("in/side.txt", b"ok")
    assert (root / "in" / "side.txt").read_bytes() == b"ok"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["root"]  # noqa: ASYNC240


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://host/x", "not a storage Angie knows"),
        ("file://host/x", "local path"),
        ("file://relative", "local path"),
        ("sftp://host/path", "sftp://user@host"),
        ("sftp://me:pw@host/path", "must not hold a password"),
        ("s3://", "s3://bucket"),
        ("s3://b/p?endpont=http://x", "unknown S3 option"),
        ("s3://b/../x", "must not climb"),
        ("sftp://me@host/a/../../etc", "must not climb"),
    ],
)
def test_bad_urls_say_why(url: str, message: str) -> None:
    with pytest.raises(StorageUrlError, match=message):
        open_storage(url)


def test_s3_needs_both_keys() -> None:
    with pytest.raises(StorageUrlError, match="both"):
        open_storage("s3://b", StorageCredentials(access_key_id="only-id"))


async def test_sftp_down_is_unavailable() -> None:
    store = open_storage(
        f"sftp://angie@127.0.0.1:{free_port()}/x", StorageCredentials(password=SecretStr("pw"))
    )
    with pytest.raises(StorageUnavailable, match="connection refused"):
        await store.load("a.txt")


async def test_sftp_wrong_password_is_unavailable_without_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with sftp_server(tmp_path / "nas", tmp_path / "keys") as server:
        store = open_storage(
            f"sftp://angie@127.0.0.1:{server.port}/x",
            StorageCredentials(
                password=SecretStr("wrong-pass-123"), known_hosts=server.known_hosts
            ),
        )
        with pytest.raises(StorageUnavailable, match="credentials were refused") as err:
            await store.save("a.txt", b"x")
    assert "wrong-pass-123" not in str(err.value)
    assert "wrong-pass-123" not in caplog.text


async def test_sftp_unknown_host_key_is_refused(tmp_path: Path) -> None:
    async with sftp_server(tmp_path / "nas", tmp_path / "keys") as server:
        other = tmp_path / "other_known_hosts"
        other.write_text("")
        store = open_storage(
            f"sftp://angie@127.0.0.1:{server.port}/x",
            StorageCredentials(password=SecretStr(server.password), known_hosts=other),
        )
        with pytest.raises(StorageUnavailable, match="not in known_hosts"):
            await store.load("a.txt")


async def test_s3_down_is_unavailable_without_the_secret(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    store = open_storage(
        f"s3://b?endpoint=http://127.0.0.1:{free_port()}",
        StorageCredentials(access_key_id="testing", secret_access_key=SecretStr(S3_SECRET)),
    )
    with pytest.raises(StorageUnavailable, match="s3://b") as err:
        await store.save("a.txt", b"x")
    assert S3_SECRET not in str(err.value)
    assert S3_SECRET not in caplog.text


async def test_s3_missing_bucket_is_unavailable(s3_endpoint: str) -> None:
    store = open_storage(
        f"s3://no-such-bucket?endpoint={s3_endpoint}",
        StorageCredentials(access_key_id="testing", secret_access_key=SecretStr(S3_SECRET)),
    )
    with pytest.raises((StorageUnavailable, StorageNotFound)):
        await store.save("a.txt", b"x")
