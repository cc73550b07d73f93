"""Storage throughput per backend: Angie's storage against the library it runs on alone, the
same files in the same run. Local disk and S3 (moto's server on 127.0.0.1) compare with obstore
called directly; SFTP (asyncssh's server on 127.0.0.1) with asyncssh's SFTP client directly.
The ratio is Angie's time over the library's (1.0 = no overhead)."""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncssh
import obstore
from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fakes.storage_servers import create_bucket, s3_server, sftp_server

from angie.storage import Storage, StorageCredentials, open_storage
from angie.storage.objects import ObjectStorage

ROUNDS = 5
SIZES = ((64 * 1024, 64), (4 * 1024 * 1024, 8))  # (bytes per file, files)

Side = Callable[[str, bytes], Awaitable[None]]


async def _angie(storage: Storage, prefix: str, data: bytes, count: int) -> None:
    for i in range(count):
        await storage.save(f"{prefix}/{i}.bin", data)
    for i in range(count):
        assert len(await storage.load(f"{prefix}/{i}.bin")) == len(data)


async def _obstore(store: object, prefix: str, data: bytes, count: int) -> None:
    for i in range(count):
        await obstore.put_async(store, f"{prefix}/{i}.bin", data)  # type: ignore[arg-type]
    for i in range(count):
        got = await obstore.get_async(store, f"{prefix}/{i}.bin")  # type: ignore[arg-type]
        assert len(await got.bytes_async()) == len(data)


async def _asyncssh(sftp: asyncssh.SFTPClient, root: str, data: bytes, count: int) -> None:
    await sftp.makedirs(root, exist_ok=True)
    for i in range(count):
        async with sftp.open(f"{root}/{i}.bin", "wb") as handle:
            await handle.write(data)
    for i in range(count):
        async with sftp.open(f"{root}/{i}.bin", "rb") as handle:
            assert len(await handle.read()) == len(data)


async def _measure(
    name: str,
    ours: Callable[[str, bytes, int], Awaitable[None]],
    base: Callable[[str, bytes, int], Awaitable[None]],
) -> None:
    for size, count in SIZES:
        data = os.urandom(size)
        mine: list[float] = []
        theirs: list[float] = []
        for r in range(ROUNDS):  # alternated so both sides see the same machine
            start = time.perf_counter()
            await ours(f"angie{r}-{size}", data, count)
            mine.append(time.perf_counter() - start)
            start = time.perf_counter()
            await base(f"base{r}-{size}", data, count)
            theirs.append(time.perf_counter() - start)
        moved = 2 * size * count / 1e6  # written and read back
        a, b = statistics.median(mine), statistics.median(theirs)
        print(
            f"{name:6} {size // 1024:>5} KB x{count:<3} angie {moved / a:8.1f} MB/s   "
            f"library {moved / b:8.1f} MB/s   ratio {a / b:5.2f}",
            flush=True,
        )


async def main() -> None:
    print(f"write then read back N files, median of {ROUNDS} rounds (MB/s of data moved)")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        local = open_storage(str(root / "angie"))
        assert isinstance(local, ObjectStorage)
        bare = obstore.store.LocalStore(root / "bare", mkdir=True)
        await _measure(
            "file",
            lambda p, d, n: _angie(local, p, d, n),
            lambda p, d, n: _obstore(bare, p, d, n),
        )

        async with sftp_server(root / "nas", root / "keys") as server:
            creds = StorageCredentials(
                password=SecretStr(server.password), known_hosts=server.known_hosts
            )
            sftp_storage = open_storage(
                f"sftp://{server.username}@127.0.0.1:{server.port}/angie", creds
            )
            async with (
                asyncssh.connect(
                    "127.0.0.1",
                    server.port,
                    username=server.username,
                    password=server.password,
                    known_hosts=str(server.known_hosts),
                ) as conn,
                conn.start_sftp_client() as sftp,
            ):
                await _measure(
                    "sftp",
                    lambda p, d, n: _angie(sftp_storage, p, d, n),
                    lambda p, d, n: _asyncssh(sftp, f"/bare/{p}", d, n),
                )
            await sftp_storage.aclose()

        with s3_server() as endpoint:
            create_bucket(endpoint, "bench")
            creds = StorageCredentials(
                access_key_id="testing", secret_access_key=SecretStr("testing")
            )
            s3 = open_storage(f"s3://bench/angie?endpoint={endpoint}", creds)
            s3_bare = obstore.store.S3Store(
                "bench",
                prefix="bare",
                endpoint=endpoint,
                region="us-east-1",
                access_key_id="testing",
                secret_access_key="testing",  # noqa: S106 (moto accepts any key)
                client_options={"allow_http": True},
            )
            await _measure(
                "s3",
                lambda p, d, n: _angie(s3, p, d, n),
                lambda p, d, n: _obstore(s3_bare, p, d, n),
            )


if __name__ == "__main__":
    asyncio.run(main())
