"""Real servers for the storage tests on 127.0.0.1: an SFTP server (asyncssh's own, chrooted to
a folder, password auth, host key checked by the client) and moto's S3 server, which keeps
buckets, keys and listings as S3 does."""

from __future__ import annotations

import logging
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncssh
import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class SftpServer:
    port: int
    username: str
    password: str
    known_hosts: Path
    root: Path
    server: asyncssh.SSHAcceptor

    def close(self) -> None:
        self.server.close()


class _Auth(asyncssh.SSHServer):
    def __init__(self, username: str, password: str) -> None:
        self._username = username
        self._password = password

    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        return username == self._username and password == self._password


@asynccontextmanager
async def sftp_server(root: Path, keys: Path) -> AsyncIterator[SftpServer]:
    """An SFTP server whose users see ``root`` as ``/``; ``keys`` holds its host key."""
    root.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 (test setup)
    keys.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240
    host_key = asyncssh.generate_private_key("ssh-ed25519")
    port = free_port()
    known_hosts = keys / "known_hosts"
    known_hosts.write_text(f"[127.0.0.1]:{port} {host_key.export_public_key().decode().strip()}\n")
    username, password = "angie", "s3cret-sftp-pass"

    def sftp_factory(chan: Any) -> asyncssh.SFTPServer:
        return asyncssh.SFTPServer(chan, chroot=str(root).encode())

    server = await asyncssh.listen(
        "127.0.0.1",
        port,
        server_host_keys=[host_key],
        server_factory=lambda: _Auth(username, password),
        sftp_factory=sftp_factory,
    )
    fake = SftpServer(port, username, password, known_hosts, root, server)
    try:
        yield fake
    finally:
        server.close()
        await server.wait_closed()


@contextmanager
def s3_server() -> Iterator[str]:
    """moto's S3 server on a free loopback port; yields its endpoint URL."""
    from moto.server import ThreadedMotoServer

    # Its request log would drown the test and benchmark output.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def create_bucket(endpoint: str, bucket: str) -> None:
    httpx.put(f"{endpoint}/{bucket}", timeout=10).raise_for_status()
