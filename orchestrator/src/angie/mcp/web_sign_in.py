"""Connecting a personal account from the browser: Angie runs the server's own ``auth`` on her
machine, as ``angie mcp connect`` does, and relays it to the person's page.

The server's ``auth`` stays the only code that signs in and the only reader of the tokens: Angie
shows the person what it says (Google's consent address, Outlook's device code, Spotify's), and
passes back what they give it: the credentials a server asks to be typed (Yahoo's app password,
a GitHub token) on its standard input, never stored by Angie, and the address a sign-in ended
on. Google's flow ends on a one-off page on 127.0.0.1 of Angie's machine; a browser on another
device cannot reach it, so the person pastes the address that failed to load and Angie opens it
on her own loopback, for that port only.

A sign-in that does not finish within :data:`SIGN_IN_TIMEOUT` is stopped; a failed or stopped
one leaves no account behind. Sign-ins live in the process that serves the API.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal
from urllib.parse import parse_qs, urlsplit

import httpx

from angie.db.engine import Database
from angie.errors import Invalid, NotFound
from angie.mcp.accounts import account_spec, create_account, delete_account
from angie.mcp.registry import ServerSpec
from angie.mcp.supervisor import child_environ

__all__ = ("SIGN_IN_TIMEOUT", "SignInFlow", "SignIns")

log = logging.getLogger(__name__)

#: How long a person has to finish signing in.
SIGN_IN_TIMEOUT: Final = 600.0
#: How long starting a sign-in waits for the server's first instructions.
_FIRST_WORDS = 15.0
_URL = re.compile(r"https?://[^\s<>\"']+")
_LOOPBACK = {"127.0.0.1", "localhost"}
_PASTE = re.compile(r"\bpaste\b", re.IGNORECASE)
_QUIET = 0.3  # seconds the lines printed with an address have to arrive
_KEEP_FINISHED = 900.0  # seconds a finished sign-in can still be read
MAX_PASTE = 4096

State = Literal["waiting", "connected", "failed"]


@dataclass(slots=True)
class SignInFlow:
    """One person's sign-in in progress: what the server said, and how it ended."""

    id: str
    user_id: int
    server: str
    label: str
    account_id: int
    state_dir: Path
    process: asyncio.subprocess.Process
    lines: list[str] = field(default_factory=list)
    state: State = "waiting"
    error: str | None = None
    # The server's one-off loopback page, from the redirect_uri of the address it printed.
    loopback_port: int | None = None
    started: float = field(default_factory=time.monotonic)
    ended: float | None = None
    spoke: asyncio.Event = field(default_factory=asyncio.Event)
    failing: bool = False
    stopped_because: str | None = None
    # Set once it has ended, connected or failed (and its account removed).
    settled: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def links(self) -> list[str]:
        return [found for line in self.lines for found in _URL.findall(line)]

    @property
    def can_paste(self) -> bool:
        """Whether the person can give the address the sign-in ended on: Google's one-off
        page on this machine, or a server that asks for it to be pasted (Spotify)."""
        return self.state == "waiting" and (
            self.loopback_port is not None or any(_PASTE.search(line) for line in self.lines)
        )


def _loopback_port(line: str) -> int | None:
    """The port of a loopback ``redirect_uri`` in an address the server printed."""
    for found in _URL.findall(line):
        for uri in parse_qs(urlsplit(str(found)).query).get("redirect_uri", []):
            parts = urlsplit(uri)
            port: int | None = parts.port
            if parts.hostname in _LOOPBACK and port:
                return port
    return None


class SignIns:
    """The sign-ins running in this process, each readable only by the person who started it."""

    def __init__(self, database: Database, *, environ: Mapping[str, str], root: Path) -> None:
        self._database = database
        self._environ = dict(environ)
        self._root = root
        self._flows: dict[str, SignInFlow] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(
        self,
        user_id: int,
        spec: ServerSpec,
        label: str,
        credentials: Mapping[str, str] | None = None,
    ) -> SignInFlow:
        """Record the account, start its server's ``auth`` and wait for its first words."""
        typed = spec.manifest.typed_credentials if spec.manifest is not None else ()
        credentials = dict(credentials or {})
        if set(credentials) != set(typed):
            if typed:
                raise Invalid(
                    f"the {spec.name} sign-in needs exactly these credentials: " + ", ".join(typed)
                )
            raise Invalid(f"the {spec.name} sign-in takes no credentials: it opens a page")
        empty = [name for name in typed if not credentials[name].strip()]
        if empty:
            raise Invalid(f"{', '.join(empty)} cannot be empty")
        self._forget_old()
        async with self._database.session() as session:
            row = await create_account(
                session, user_id=user_id, server=spec.name, label=label, root=self._root
            )
            account_id, state_dir = row.id, Path(row.state_dir)
        env = child_environ(account_spec(spec, state_dir), self._environ)
        # The person opens the address on their own device: nothing opens a browser on
        # Angie's machine (Python's webbrowser runs $BROWSER, here a command that does nothing).
        env["BROWSER"] = "true"
        # Its instructions are wanted as it prints them, not when a pipe's buffer fills.
        env["PYTHONUNBUFFERED"] = "1"
        process = await asyncio.create_subprocess_exec(
            *spec.command,
            "auth",
            env=env,
            cwd=state_dir,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
        )
        flow = SignInFlow(
            secrets.token_urlsafe(16), user_id, spec.name, label, account_id, state_dir, process
        )
        self._flows[flow.id] = flow
        if typed:
            assert process.stdin is not None
            process.stdin.write("".join(f"{credentials[n]}\n" for n in typed).encode())
            await process.stdin.drain()
            process.stdin.close()
        task = asyncio.create_task(self._follow(flow), name=f"angie-sign-in-{spec.name}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._instructions(flow), _FIRST_WORDS)
        return flow

    @staticmethod
    async def _instructions(flow: SignInFlow) -> None:
        """Until the server has given an address, and the lines that come with it."""
        await flow.spoke.wait()
        await asyncio.sleep(_QUIET)

    def get(self, flow_id: str, user_id: int) -> SignInFlow:
        flow = self._flows.get(flow_id)
        if flow is None or flow.user_id != user_id:
            raise NotFound(f"no sign-in {flow_id!r} of yours is in progress")
        return flow

    async def paste(self, flow_id: str, user_id: int, text: str) -> SignInFlow:
        """Pass on the address the sign-in ended on."""
        flow = self.get(flow_id, user_id)
        if flow.state != "waiting":
            raise Invalid(f"this sign-in has already {flow.state}")
        text = text.strip()
        if not text or len(text) > MAX_PASTE or "\n" in text:
            raise Invalid(f"paste the one address the sign-in ended on (at most {MAX_PASTE} chars)")
        if flow.loopback_port is not None:
            await self._open_loopback(flow, text)
        elif (
            flow.can_paste
            and flow.process.stdin is not None
            and not flow.process.stdin.is_closing()
        ):
            flow.process.stdin.write(f"{text}\n".encode())
            await flow.process.stdin.drain()
        else:
            raise Invalid("this sign-in does not take an address")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(flow.settled.wait(), 10)
        return flow

    async def _open_loopback(self, flow: SignInFlow, text: str) -> None:
        parts = urlsplit(text)
        if (
            parts.scheme != "http"
            or parts.hostname not in _LOOPBACK
            or parts.port != flow.loopback_port
        ):
            raise Invalid(
                "that is not the address this sign-in ended on: it starts with "
                f"http://127.0.0.1:{flow.loopback_port}/ or http://localhost:{flow.loopback_port}/"
            )
        target = f"http://127.0.0.1:{flow.loopback_port}{parts.path or '/'}"
        target += f"?{parts.query}" if parts.query else ""
        try:
            async with httpx.AsyncClient(timeout=10) as client:
                await client.get(target)
        except httpx.HTTPError as err:
            raise Invalid(f"the sign-in's page on this machine did not answer: {err}") from err

    async def cancel(self, flow_id: str, user_id: int) -> None:
        flow = self.get(flow_id, user_id)
        if flow.state == "waiting":
            await self._stop(flow, "the sign-in was cancelled")
        self._flows.pop(flow.id, None)

    async def aclose(self) -> None:
        for flow in list(self._flows.values()):
            if flow.state == "waiting":
                await self._stop(flow, "Angie is stopping")
        for task in list(self._tasks):
            task.cancel()
        self._flows.clear()

    async def _follow(self, flow: SignInFlow) -> None:
        """Read what the server says until it ends, then record how it ended."""
        process = flow.process
        assert process.stdout is not None
        assert process.stderr is not None
        errors = asyncio.create_task(process.stderr.read())
        deadline = flow.started + SIGN_IN_TIMEOUT
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError
                raw = await asyncio.wait_for(process.stdout.readline(), left)
                if not raw:
                    break
                line = raw.decode("utf-8", "replace").rstrip()
                if line:
                    flow.lines.append(line)
                    flow.loopback_port = flow.loopback_port or _loopback_port(line)
                    if _URL.search(line):
                        flow.spoke.set()
            code = await asyncio.wait_for(process.wait(), max(1.0, deadline - time.monotonic()))
        except TimeoutError:
            await self._stop(flow, "the sign-in was not finished in time")
            return
        finally:
            flow.spoke.set()
        said = (await errors).decode("utf-8", "replace").strip().splitlines()
        if code == 0:
            flow.state, flow.ended = "connected", time.monotonic()
            flow.settled.set()
            log.info("%s account %d connected from the web", flow.server, flow.account_id)
            return
        # The server's own one line, without its program name.
        reason = said[-1].split(": ", 1)[-1] if said else f"exit code {code}"
        await self._failed(flow, flow.stopped_because or reason)

    async def _stop(self, flow: SignInFlow, reason: str) -> None:
        flow.stopped_because = reason
        with contextlib.suppress(ProcessLookupError):
            flow.process.kill()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(flow.process.wait(), 5)
        await self._failed(flow, reason)

    async def _failed(self, flow: SignInFlow, reason: str) -> None:
        if flow.failing:
            await flow.settled.wait()  # whoever came first is cleaning up
            return
        if flow.state != "waiting":
            return
        flow.failing = True
        try:
            async with self._database.session() as session:
                await delete_account(session, flow.user_id, flow.account_id)
        except NotFound:
            pass  # already forgotten
        # Said failed once nothing of it is left.
        flow.state, flow.error, flow.ended = "failed", reason, time.monotonic()
        flow.settled.set()
        log.info("%s sign-in of account %d failed: %s", flow.server, flow.account_id, reason)

    def _forget_old(self) -> None:
        now = time.monotonic()
        for flow_id, flow in list(self._flows.items()):
            if flow.ended is not None and now - flow.ended > _KEEP_FINISHED:
                del self._flows[flow_id]
