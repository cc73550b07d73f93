"""Test support for servers built with the kit: run one over streamable HTTP in a subprocess."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

__all__ = ("free_port", "serve_http")


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve_http(
    command: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: Path | None = None,
    start_timeout: float = 20.0,
) -> Iterator[str]:
    """Start ``command --transport http --port N`` and yield its MCP URL once it listens.

    A server that exits before listening fails the test with what it printed on stderr.
    """
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - the test's own server command
        [*command, "--transport", "http", "--port", str(port)],
        env=dict(env),
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + start_timeout
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError as err:
                if process.poll() is not None:
                    output = process.stderr.read().decode() if process.stderr else "exited"
                    raise RuntimeError(f"the server exited before listening: {output}") from err
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"the server did not listen within {start_timeout:g} s"
                    ) from err
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stderr:
            process.stderr.close()
