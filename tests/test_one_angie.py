"""One Angie per data dir, and the API's port taken before anything starts: a second ``angie
serve`` (or ``daemon``) on a data dir another Angie holds, or ``serve`` on a busy port, stops
at once in one line, exit code 2, having started nothing."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from angie.instance import LOCK_FILE, InstanceLock, bind_api_socket, locks_data_dir
from angie.settings import AngieSettings
from angie_mcp_core.testing import free_port

ANGIE = Path(sys.executable).with_name("angie")
HOLD = (
    "import sys, time\n"
    "from pathlib import Path\n"
    "from angie.instance import InstanceLock\n"
    "lock = InstanceLock.acquire(Path(sys.argv[1]))\n"
    "print('locked', flush=True)\n"
    "time.sleep(600)\n"
)


def environ(data_dir: Path, **more: str) -> dict[str, str]:
    return {"ANGIE_DATA_DIR": str(data_dir), "PATH": "/usr/bin:/bin", "HOME": str(data_dir), **more}


def angie(data_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ANGIE), *args],
        env=environ(data_dir, **env),
        capture_output=True,
        text=True,
        timeout=50,
        check=False,
    )


def one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


@pytest.fixture
def holder(data_dir: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the data dir's lock, as a running Angie does."""
    with subprocess.Popen(
        [sys.executable, "-c", HOLD, str(data_dir)], stdout=subprocess.PIPE, text=True
    ) as process:
        try:
            assert process.stdout is not None
            assert process.stdout.readline().strip() == "locked"
            yield process
        finally:
            process.kill()
            process.wait(10)


@pytest.mark.parametrize("command", ["serve", "daemon"])
def test_a_data_dir_another_angie_holds_stops_the_next_at_once(
    data_dir: Path, holder: subprocess.Popen[str], command: str
) -> None:
    args = [command, "--port", str(free_port())] if command == "serve" else [command]
    done = angie(data_dir, *args)

    assert done.returncode == 2, done.stderr
    assert one_line(done.stderr) == (
        f"error: Angie is already running on {data_dir} (pid {holder.pid}); "
        "stop it first or use another ANGIE_DATA_DIR"
    )
    assert not (data_dir / "angie.db").exists()  # nothing was started, nothing written


def test_the_lock_goes_with_its_process_even_when_killed(
    data_dir: Path, holder: subprocess.Popen[str]
) -> None:
    holder.send_signal(signal.SIGKILL)
    holder.wait(10)

    with InstanceLock.acquire(data_dir) as lock:
        assert lock.held
        assert (data_dir / LOCK_FILE).read_text().strip() == str(os.getpid())


def test_with_redis_the_scaled_out_processes_may_share_a_data_dir(data_dir: Path) -> None:
    embedded = AngieSettings(_env_file=None, data_dir=data_dir)
    scaled = AngieSettings(_env_file=None, data_dir=data_dir, redis_url="redis://127.0.0.1/0")

    assert [locks_data_dir(role, embedded) for role in ("serve", "daemon", "api")] == [
        True,
        True,
        False,
    ]
    assert not any(locks_data_dir(role, scaled) for role in ("serve", "daemon", "worker"))


@pytest.mark.parametrize("command", ["serve", "api"])
def test_a_busy_port_stops_angie_at_once_in_one_line(data_dir: Path, command: str) -> None:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        done = angie(data_dir, command, ANGIE_PORT=str(port))

    assert done.returncode == 2, done.stderr
    assert one_line(done.stderr) == (
        f"error: port {port} on 127.0.0.1 is in use (another program listens there); "
        "set ANGIE_PORT (or --port) or stop it"
    )
    assert not (data_dir / "angie.db").exists()  # nothing was started
    # The data dir is free again: the process that stopped let go of it.
    with InstanceLock.acquire(data_dir):
        pass


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_a_second_serve_leaves_the_first_alone(data_dir: Path) -> None:
    """The real case: `angie serve` twice on one data dir (another port, so only the data dir
    is shared). The second stops before its API, servers or worker start; the first runs on."""
    port, other_port = free_port(), free_port()
    first = subprocess.Popen(
        [str(ANGIE), "serve", "--port", str(port)],
        env=environ(data_dir),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert _healthy(port, first), "the first angie serve did not answer"

        second = angie(data_dir, "serve", "--port", str(other_port))

        assert second.returncode == 2, second.stderr
        assert f"already running on {data_dir} (pid {first.pid})" in one_line(second.stderr)
        with pytest.raises(httpx.TransportError):
            httpx.get(f"http://127.0.0.1:{other_port}/api/health", timeout=2)
        assert _healthy(port, first)
        first.send_signal(signal.SIGTERM)
        _, err = first.communicate(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait(10)
    assert first.returncode == 0, err
    assert "Traceback" not in err


def _healthy(port: int, process: subprocess.Popen[str]) -> bool:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            return bool(httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2).is_success)
        except httpx.TransportError:
            time.sleep(0.2)
    return False


async def test_the_api_socket_answers_without_nagle_as_asyncio_would() -> None:
    """A socket Angie binds serves connections as one asyncio binds: with TCP_NODELAY (Nagle
    and delayed ACKs together stall small responses and change how a refused upload ends)."""
    seen: list[int] = []

    class Probe(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            sock = transport.get_extra_info("socket")
            seen.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            transport.close()

    loop = asyncio.get_running_loop()
    server = await loop.create_server(Probe, sock=bind_api_socket("127.0.0.1", 0))
    async with server:
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        assert await reader.read() == b""  # the probe closed it
        writer.close()
        await writer.wait_closed()

    assert seen == [1]
