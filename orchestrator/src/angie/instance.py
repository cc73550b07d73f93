"""What a long-running Angie takes before it starts anything: her data dir, exclusively (one
Angie per data dir on a machine), and the API's port, bound once and handed to uvicorn."""

from __future__ import annotations

import errno
import fcntl
import os
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Self

from angie.errors import Conflict, Invalid

if TYPE_CHECKING:
    from angie.daemon import Role
    from angie.settings import AngieSettings

__all__ = (
    "LOCK_FILE",
    "AlreadyRunning",
    "InstanceLock",
    "PortInUse",
    "bind_api_socket",
    "locks_data_dir",
)

LOCK_FILE = "angie.lock"
# What uvicorn listens with by default (its --backlog).
_BACKLOG = 2048


class AlreadyRunning(Conflict):
    """Another Angie holds this data dir."""

    def __init__(self, data_dir: Path, pid: int | None) -> None:
        who = f"pid {pid}" if pid is not None else "pid unknown"
        super().__init__(
            f"Angie is already running on {data_dir} ({who}); "
            "stop it first or use another ANGIE_DATA_DIR"
        )
        self.pid = pid


class PortInUse(Conflict):
    """Another program listens on the API's address."""

    def __init__(self, host: str, port: int) -> None:
        super().__init__(
            f"port {port} on {host} is in use (another program listens there); "
            "set ANGIE_PORT (or --port) or stop it"
        )


def locks_data_dir(role: Role, settings: AngieSettings) -> bool:
    """Whether a process in ``role`` must be the only one on its data dir.

    Without Redis the queue is embedded: it lives in the one process that runs it, which at
    start takes back every task the database says is unfinished, so a second process on the
    same data would run the first one's tasks, and its scheduler would compete for the same
    database. With Redis, Angie is scaled out on purpose: N workers share the queue (Redis
    hands each message to one), daemons share the scheduler's lease (one fires, the others
    stand by), and several of them may share one data volume (docker compose does)."""
    return role in ("serve", "daemon", "worker") and not settings.redis_url


class InstanceLock:
    """An exclusive ``flock`` on ``<data dir>/angie.lock``, which holds the owner's pid.

    The kernel drops the lock when its process ends, however it ends (``kill -9`` included),
    so a stale file never blocks the next start. The file descriptor is not inherited by the
    MCP servers Angie starts: a server outliving her must not keep her lock."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, data_dir: Path) -> Self:
        """Take the lock or raise :class:`AlreadyRunning` naming its holder; never waits."""
        data_dir.mkdir(parents=True, exist_ok=True)
        path = data_dir / LOCK_FILE
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _pid_in(fd)
            os.close(fd)
            raise AlreadyRunning(data_dir, holder) from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        return cls(path, fd)

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        """Let go (the file stays: removing it would let two processes lock two files)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release()


def _pid_in(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def bind_api_socket(host: str, port: int) -> socket.socket:
    """A socket listening on ``host:port``, bound as uvicorn binds one (``SO_REUSEADDR``, IPv6
    for an address with a colon), for uvicorn to serve on: the port is Angie's from here on,
    so nothing else can take it while she starts. Raises :class:`PortInUse`, or
    :class:`~angie.errors.Invalid` for an address this machine cannot listen on."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP said outright, as asyncio's own create_server has it: asyncio switches Nagle
    # off (TCP_NODELAY) only on connections whose socket names its protocol.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:  # an IPv6 address is IPv6 only, as asyncio binds it
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind((host, port))
        # Listening now, not when uvicorn starts: two sockets merely bound with SO_REUSEADDR
        # may share a port on Linux, and the second would fail only at its listen().
        sock.listen(_BACKLOG)
    except OSError as err:
        sock.close()
        if err.errno == errno.EADDRINUSE:
            raise PortInUse(host, port) from None
        reason = err.strerror or str(err)
        raise Invalid(
            f"Angie cannot listen on {host}:{port} ({reason}); check ANGIE_HOST and ANGIE_PORT"
        ) from None
    except BaseException:
        sock.close()
        raise
    return sock
