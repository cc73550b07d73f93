"""The supervisor's side of the pre-forked launcher (:mod:`angie.mcp.launcher`): it starts the
launcher, asks it for servers over a private socketpair, and hands back for each one a
:class:`ForkedProcess` that the supervisor uses as it uses an ``asyncio.subprocess.Process``.

A server's credentials travel in its start request only, on that socketpair; the launcher's own
environment holds none. If the launcher dies, its servers die with it (each has it as its
parent-death signal), every handle reports the exit, and the supervisor restarts them.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import signal
import socket
import sys
from collections import deque
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol

from angie.mcp.launcher import MAX_MESSAGE, decode, encode
from angie.mcp.processes import die_with_parent, stop_process_group

__all__ = ("FROZEN_ENTRY", "ForkedProcess", "Launcher", "LauncherError", "ServerProcess")

#: The standalone binary's entry that runs the launcher (packaging/angie_entry.py).
FROZEN_ENTRY = "mcp-launcher"

log = logging.getLogger(__name__)

_LOST_GRACE = 5.0  # seconds the servers of a dead launcher get to finish stopping


class LauncherError(RuntimeError):
    """The launcher could not be started, refused a start, or is gone; the message says which."""


class ServerProcess(Protocol):
    """What the supervisor needs of a server's process, exec'd or forked."""

    @property
    def pid(self) -> int: ...
    @property
    def returncode(self) -> int | None: ...
    @property
    def stderr(self) -> asyncio.StreamReader | None: ...
    async def wait(self) -> int: ...
    def kill(self) -> None: ...
    def terminate(self) -> None: ...


class ForkedProcess:
    """A server forked by the launcher: its exit code arrives as the launcher reaps it, in
    ``asyncio.subprocess.Process`` terms (negative: the signal that ended it)."""

    def __init__(self, pid: int, stderr: asyncio.StreamReader) -> None:
        self._pid = pid
        self._stderr = stderr
        self._returncode: int | None = None
        self._exited = asyncio.Event()

    @property
    def pid(self) -> int:
        return self._pid

    @property
    def returncode(self) -> int | None:
        return self._returncode

    @property
    def stderr(self) -> asyncio.StreamReader:
        return self._stderr

    async def wait(self) -> int:
        await self._exited.wait()
        assert self._returncode is not None
        return self._returncode

    def send_signal(self, signum: int) -> None:
        if self._returncode is None:  # once reaped, the pid may be another process's
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._pid, signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def exited(self, code: int) -> None:
        if self._returncode is None:
            self._returncode = code
            self._exited.set()


class Launcher:
    """One launcher process: :meth:`start` it, :meth:`spawn` servers, :meth:`stop` it."""

    #: The module run as the launcher (``python -m``).
    module = "angie.mcp.launcher"

    def __init__(
        self,
        *,
        environ: Mapping[str, str],
        cwd: Path,
        modules: Sequence[str],
        start_timeout: float,
    ) -> None:
        self.environ = dict(environ)  # secret-free: what every child's interpreter starts with
        self._cwd = cwd
        self._modules = tuple(modules)
        self._start_timeout = start_timeout
        self._process: asyncio.subprocess.Process | None = None
        self._sock: socket.socket | None = None
        self._reader: asyncio.Task[None] | None = None
        self._ids = itertools.count(1)
        self._pending: dict[int, tuple[asyncio.Future[ForkedProcess], asyncio.StreamReader]] = {}
        self._children: dict[int, ForkedProcess] = {}
        self.stderr_tail: deque[str] = deque(maxlen=20)
        self.gone = asyncio.Event()  # set once the launcher has exited, for whatever reason

    @property
    def command(self) -> tuple[str, ...]:
        """How the launcher is run: ``python -m`` its module, or in the standalone binary
        (which has no ``-m``) the binary's own ``mcp-launcher`` entry."""
        if getattr(sys, "frozen", False):
            return (sys.executable, FROZEN_ENTRY)
        return (sys.executable, "-m", self.module)

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def alive(self) -> bool:
        return self._process is not None and not self.gone.is_set()

    async def start(self) -> None:
        """Start the launcher and wait until it has imported the servers; raises
        :class:`LauncherError` saying why it could not."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self._process = await asyncio.create_subprocess_exec(
                *self.command,
                "--control",
                str(theirs.fileno()),
                *self._modules,
                env=self.environ,
                cwd=self._cwd,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
                pass_fds=(theirs.fileno(),),
                preexec_fn=die_with_parent,
                # A signal to Angie's group must not reach it: her servers would go with it.
                start_new_session=True,
            )
        except OSError as err:
            ours.close()
            raise LauncherError(f"cannot start the MCP launcher: {err.strerror}") from err
        finally:
            theirs.close()
        ours.setblocking(False)
        self._sock = ours
        process = self._process
        asyncio.create_task(self._drain(process))  # noqa: RUF006 - ends with the process
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self._start_timeout):
                message = decode(await loop.sock_recv(ours, MAX_MESSAGE))
        except (TimeoutError, ValueError, OSError) as err:
            await self._abandon()
            tail = " | ".join(list(self.stderr_tail)[-3:])
            why = "did not start in time" if isinstance(err, TimeoutError) else "exited"
            raise LauncherError(f"the MCP launcher {why}" + (f": {tail}" if tail else "")) from err
        if message["op"] != "ready":
            await self._abandon()
            raise LauncherError(f"the MCP launcher said {message['op']!r} instead of ready")
        log.info(
            "MCP launcher is up (pid %d, %d server package(s) imported in %.2f s)",
            process.pid,
            len(self._modules),
            float(message.get("seconds", 0.0)),
        )
        self._reader = asyncio.create_task(self._read(ours, process), name="mcp-launcher")

    async def spawn(self, argv: Sequence[str], env: Mapping[str, str], cwd: Path) -> ForkedProcess:
        """Fork a server running ``argv`` (``python -m MODULE``, ``python SCRIPT``) with exactly
        ``env`` in ``cwd``; its stderr is the returned handle's, its stdout /dev/null."""
        if self._sock is None or not self.alive:
            raise LauncherError("the MCP launcher is not running")
        loop = asyncio.get_running_loop()
        read_fd, write_fd = os.pipe()
        devnull = os.open(os.devnull, os.O_WRONLY)
        stderr = asyncio.StreamReader()
        request = next(self._ids)
        found: asyncio.Future[ForkedProcess] = loop.create_future()
        self._pending[request] = (found, stderr)
        try:
            await loop.connect_read_pipe(
                lambda: asyncio.StreamReaderProtocol(stderr), os.fdopen(read_fd, "rb", 0)
            )
            message = {"op": "start", "id": request, "argv": list(argv), "env": dict(env)}
            await self._send(encode({**message, "cwd": str(cwd)}), [devnull, write_fd])
        except OSError as err:
            self._pending.pop(request, None)
            raise LauncherError(f"cannot reach the MCP launcher: {err.strerror}") from err
        finally:
            os.close(write_fd)  # the launcher and the child hold it now
            os.close(devnull)
        return await found

    async def _send(self, data: bytes, fds: list[int]) -> None:
        assert self._sock is not None
        sock = self._sock
        loop = asyncio.get_running_loop()
        while True:
            try:
                socket.send_fds(sock, [data], fds)
                return
            except BlockingIOError:
                writable: asyncio.Future[None] = loop.create_future()
                loop.add_writer(sock.fileno(), writable.set_result, None)
                try:
                    await writable
                finally:
                    loop.remove_writer(sock.fileno())

    async def _drain(self, process: asyncio.subprocess.Process) -> None:
        assert process.stderr is not None
        async for line in process.stderr:
            text = line.decode("utf-8", "replace").rstrip()
            if text:
                self.stderr_tail.append(text)
                # Its own complaints (a package it cannot import) are worth a look; the rest is
                # what imported packages print, as a server's stderr is.
                level = logging.WARNING if text.startswith("angie-mcp-launcher:") else logging.DEBUG
                log.log(level, "[mcp launcher] %s", text)

    async def _read(self, sock: socket.socket, process: asyncio.subprocess.Process) -> None:
        loop = asyncio.get_running_loop()
        try:
            while data := await loop.sock_recv(sock, MAX_MESSAGE):
                self._handle(decode(data))
        except (OSError, ValueError) as err:
            log.warning("MCP launcher: its socket failed: %r", err)
        await self._lost(process)

    def _handle(self, message: dict[str, object]) -> None:
        op = message["op"]
        if op == "exited":
            pid, code = message.get("pid"), message.get("code")
            if isinstance(pid, int) and isinstance(code, int):
                child = self._children.pop(pid, None)
                if child is not None:
                    child.exited(code)
            return
        request = message.get("id")
        pending = self._pending.pop(request, None) if isinstance(request, int) else None
        if op == "started" and isinstance(pid := message.get("pid"), int):
            child = ForkedProcess(pid, pending[1] if pending else asyncio.StreamReader())
            self._children[pid] = child
            if pending is None or pending[0].done():  # its starter gave up: no one runs it
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(pid, signal.SIGKILL)
            else:
                pending[0].set_result(child)
        elif op == "refused" and pending is not None and not pending[0].done():
            pending[0].set_exception(LauncherError(f"the MCP launcher refused: {message['error']}"))

    async def _lost(self, process: asyncio.subprocess.Process) -> None:
        """The launcher is gone: its servers got SIGTERM from the kernel; make sure each is
        gone, then report it exited so the supervisor restarts it."""
        self.gone.set()
        if self._sock is not None:
            self._sock.close()
        code: int | None = None
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(1.0):
                code = await process.wait()
        log.warning(
            "the MCP launcher (pid %d) exited with code %s; its %d server(s) stop with it",
            process.pid,
            code,
            len(self._children),
        )
        for future, _ in self._pending.values():
            if not future.done():
                future.set_exception(LauncherError("the MCP launcher exited"))
        self._pending.clear()
        await self._release_children()

    async def _release_children(self) -> None:
        children, self._children = self._children, {}
        await asyncio.gather(*(stop_process_group(pid, _LOST_GRACE) for pid in children))
        for child in children.values():
            child.exited(-signal.SIGTERM)  # what the parent-death signal sent; the code is lost

    async def _abandon(self) -> None:
        self.gone.set()
        if self._sock is not None:
            self._sock.close()
        if self._process is not None and self._process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self._process.kill()
            await self._process.wait()

    async def stop(self, grace: float = 5.0) -> None:
        """Close the socket (the launcher leaves when it sees that), SIGKILL it after ``grace``.
        Its servers should be stopped first; any left are stopped with their groups."""
        self.gone.set()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._sock is not None:
            self._sock.close()
        process = self._process
        if process is not None and process.returncode is None:
            try:
                async with asyncio.timeout(grace):
                    await process.wait()
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
        for future, _ in self._pending.values():
            if not future.done():
                future.set_exception(LauncherError("the MCP launcher was stopped"))
        self._pending.clear()
        await self._release_children()
