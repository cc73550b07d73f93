"""The pre-forked launcher: one process that imports the MCP server machinery once and forks a
child for each server the supervisor starts, so the servers share those pages.

Run by the supervisor as ``python -m angie.mcp.launcher --control FD MODULE...`` with a
secret-free environment. It imports fastmcp, the kit and the named server packages (import
only: no server reads a setting at import, which the conventions tests check), freezes what it
imported out of the garbage collector's reach, then serves requests on its end of a private
``socketpair``. A start request carries the child's command line, working directory and whole
environment (that server's settings alone), with its stdout and stderr as file descriptors; the
child clears the inherited environment, takes the request's, leads a session of its own, dies
with the launcher, and runs the server as ``python -m`` (or ``python script.py``) would. The
launcher answers with the child's pid, and reports each child's exit code as it reaps it.

This module imports only the standard library: it is the launcher's own code, and the
supervisor's side (:mod:`angie.mcp.forked`) shares its message format.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import gc
import importlib
import json
import os
import runpy
import selectors
import signal
import socket
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ("MAX_MESSAGE", "Job", "decode", "encode", "main")

#: The largest message either side sends (a start request is a few kB).
MAX_MESSAGE = 256 * 1024
_PR_SET_PDEATHSIG = 1

# What every server imports only once it serves HTTP and answers its first request (uvicorn's
# protocols, fastmcp's session machinery and its key-value store, which pulls in beartype) or
# its first tool call (jsonref, which fastmcp imports lazily to resolve a result's schema, and
# requests with it: ~75 ms that a server woken from its rest would otherwise add to that call):
# imported here too, so the children share them instead of each importing its own. Measured by
# diffing sys.modules in a server before listening and after its first tool call.
_WARM = (
    "fastmcp",
    "angie_mcp_core.runner",
    "angie_mcp_core.server",
    "anyio._backends._asyncio",
    "fastmcp.server.context",
    "fastmcp.server.elicitation",
    "fastmcp.server.middleware.dereference",
    "fastmcp.server.providers.prefab_synthesis",
    "fastmcp.server.sessions",
    "fastmcp.server.transforms.catalog",
    "key_value.aio.adapters.dataclass",
    "key_value.aio.adapters.pydantic",
    "key_value.aio.adapters.raise_on_missing",
    "key_value.aio.stores.memory",
    "cachetools",
    "pprint",
    "griffe",
    "uvicorn",
    "uvicorn.lifespan.on",
    "uvicorn.protocols.http.auto",
    "uvicorn.protocols.http.h11_impl",
    "uvicorn.protocols.http.httptools_impl",
    "uvicorn.protocols.websockets.auto",
    "rich.table",
    "encodings.idna",
    "jsonref",
    "concurrent.futures.thread",
)


def encode(message: Mapping[str, Any]) -> bytes:
    return json.dumps(message, separators=(",", ":")).encode()


def decode(data: bytes) -> dict[str, Any]:
    message = json.loads(data)
    if not isinstance(message, dict) or not isinstance(message.get("op"), str):
        raise ValueError("not a launcher message")
    return message


def _say(text: str) -> None:
    print(f"angie-mcp-launcher: {text}", file=sys.stderr, flush=True)


@dataclass(frozen=True, slots=True)
class Job:
    """What a forked child runs: ``argv`` as the server's Python would be run with it."""

    argv: tuple[str, ...]

    @classmethod
    def parse(cls, argv: Sequence[str]) -> Job:
        """A command the launcher can run: ``-m MODULE``, ``-c CODE`` or ``SCRIPT`` (each with
        its arguments) after the interpreter's path."""
        if not isinstance(argv, list | tuple) or not all(isinstance(a, str) for a in argv):
            raise TypeError("argv must be a list of strings")
        if len(argv) < 2 or (argv[1] in ("-m", "-c") and len(argv) < 3):
            raise ValueError("expected PYTHON -m MODULE, PYTHON -c CODE or PYTHON SCRIPT")
        if argv[1].startswith("-") and argv[1] not in ("-m", "-c"):
            raise ValueError(f"the interpreter option {argv[1]} needs a fresh interpreter")
        return cls(tuple(argv))

    def run(self) -> None:
        """Run the server in this (forked) process, as its own interpreter would: its
        ``SystemExit`` ends the process through the interpreter's usual exit."""
        gc.enable()
        if self.argv[1] == "-m":
            sys.argv = [self.argv[2], *self.argv[3:]]
            sys.path[0] = os.getcwd()
            runpy.run_module(self.argv[2], run_name="__main__", alter_sys=True)
        elif self.argv[1] == "-c":
            sys.argv = ["-c", *self.argv[3:]]
            sys.path[0] = ""
            exec(compile(self.argv[2], "<string>", "exec"), {"__name__": "__main__"})  # noqa: S102
        else:
            sys.argv = list(self.argv[1:])
            sys.path[0] = os.path.dirname(os.path.abspath(self.argv[1]))
            runpy.run_path(self.argv[1], run_name="__main__")


def preload(modules: Sequence[str]) -> list[str]:
    """Import the machinery and each server package with its ``__main__`` (then forget that one
    module, so running it as ``-m`` executes it afresh); returns what could not be imported."""
    failed: list[str] = []
    for name in (*_WARM, *modules):
        try:
            importlib.import_module(name)
        except Exception as err:  # a broken package fails in its own child, with its own error
            failed.append(f"{name} ({type(err).__name__}: {err})")
    for name in modules:
        main_module = f"{name}.__main__"
        try:
            importlib.import_module(main_module)
        except ImportError:
            continue
        except Exception as err:
            failed.append(f"{main_module} ({type(err).__name__}: {err})")
        sys.modules.pop(main_module, None)
    return failed


def _die_with(parent: int) -> None:
    """Get SIGTERM when ``parent`` dies (Linux), and leave now if it already has."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:
        os._exit(1)


class _Launcher:
    def __init__(self, control: socket.socket) -> None:
        self.control = control
        self.pid = os.getpid()
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_w, False)
        os.set_blocking(self.wake_r, False)

    def send(self, message: Mapping[str, Any]) -> None:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.control.send(encode(message))

    def serve(self) -> Job | None:
        """Answer requests until the supervisor closes its end (None), or, in a forked child,
        return the job that child runs."""
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.set_wakeup_fd(self.wake_w)
        selector = selectors.DefaultSelector()
        selector.register(self.control, selectors.EVENT_READ)
        selector.register(self.wake_r, selectors.EVENT_READ)
        try:
            while True:
                for key, _ in selector.select():
                    if key.fileobj is self.wake_r:
                        with contextlib.suppress(BlockingIOError):
                            while os.read(self.wake_r, 4096):
                                pass
                        self.reap()
                        continue
                    data, fds, flags, _ = socket.recv_fds(self.control, MAX_MESSAGE, 4)
                    if not data:
                        return None  # the supervisor closed its end: Angie is stopping
                    job = self.request(data, fds, truncated=bool(flags & socket.MSG_TRUNC))
                    if job is not None:
                        selector.close()
                        return job
        finally:
            if os.getpid() == self.pid:
                signal.set_wakeup_fd(-1)

    def reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self.send({"op": "exited", "pid": pid, "code": os.waitstatus_to_exitcode(status)})

    def request(self, data: bytes, fds: list[int], *, truncated: bool) -> Job | None:
        try:
            message = decode(data)
            if truncated:
                raise ValueError("the request was too long")
            if message["op"] != "start" or len(fds) != 2:
                raise ValueError(f"unexpected request {message['op']!r} with {len(fds)} fds")
            job = Job.parse(message["argv"])
            env, cwd = message["env"], message["cwd"]
            if not isinstance(cwd, str) or not isinstance(env, dict):
                raise TypeError("cwd must be a path and env an object")
            if not all(isinstance(k, str) and isinstance(v, str) for k, v in env.items()):
                raise TypeError("env must map names to strings")
        except (ValueError, KeyError, TypeError) as err:
            for fd in fds:
                os.close(fd)
            self.send({"op": "refused", "id": _id(data), "error": str(err)})
            return None
        try:
            pid = os.fork()
        except OSError as err:
            for fd in fds:
                os.close(fd)
            self.send({"op": "refused", "id": message["id"], "error": f"fork: {err.strerror}"})
            return None
        if pid == 0:
            self.become(env, cwd, fds[0], fds[1])
            return job
        for fd in fds:
            os.close(fd)
        self.send({"op": "started", "id": message["id"], "pid": pid})
        return None

    def become(self, env: Mapping[str, str], cwd: str, stdout: int, stderr: int) -> None:
        """In the forked child: leave the launcher's signals, sockets and environment behind."""
        try:
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            self.control.close()
            os.close(self.wake_r)
            os.close(self.wake_w)
            os.setsid()  # its own process group: the supervisor stops it with its group
            _die_with(self.pid)
            devnull = os.open(os.devnull, os.O_RDONLY)
            for fd, target in ((devnull, 0), (stdout, 1), (stderr, 2)):
                os.dup2(fd, target)
                os.close(fd)
            os.chdir(cwd)
            os.environ.clear()
            os.environ.update(env)
            time.tzset()
        except OSError as err:
            with contextlib.suppress(OSError):
                os.write(2, f"angie-mcp-launcher: cannot start the server: {err}\n".encode())
            os._exit(127)


def _id(data: bytes) -> int | None:
    with contextlib.suppress(ValueError, TypeError):
        found = json.loads(data).get("id")
        return found if isinstance(found, int) else None
    return None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="angie-mcp-launcher")
    parser.add_argument("--control", type=int, required=True, help="inherited socket fd")
    parser.add_argument("modules", nargs="*", help="server packages to import")
    args = parser.parse_args(argv)
    parent = os.getppid()
    # Objects made before the fork stay where they are: no collection in a child touches them.
    gc.disable()
    control = socket.socket(fileno=args.control)
    _die_with(parent)
    started = time.perf_counter()
    failed = preload(args.modules)
    gc.freeze()
    for problem in failed:
        _say(f"cannot preload {problem}")
    launcher = _Launcher(control)
    sys.stdout.flush()
    sys.stderr.flush()
    launcher.send(
        {"op": "ready", "pid": os.getpid(), "seconds": round(time.perf_counter() - started, 3)}
    )
    job = launcher.serve()
    if job is None:
        return 0
    job.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
