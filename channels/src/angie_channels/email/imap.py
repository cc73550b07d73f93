"""Angie's mailbox over IMAP (aioimaplib): log in securely, list unseen mail, fetch it, mark it
seen, and wait for news with IDLE.

aioimaplib has no STARTTLS of its own; :func:`_starttls` adds it on the library's protocol.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from typing import Any

import aioimaplib  # type: ignore[import-untyped]

from angie_channels.base import ChannelError
from angie_channels.email.security import Endpoint, implicit_tls, upgrade

__all__ = ("ImapSession", "imap_refused_login")

TIMEOUT = 30.0
# A server that takes the connection but does not greet is as good as down.
GREETING_TIMEOUT = 10.0
_LOGOUT_SECONDS = 5.0
# The newest mail a person sent in a thread is what recalling it needs; a few spare Angie's own.
_RECALLED = 10


def imap_refused_login(endpoint: Endpoint) -> ChannelError:
    return ChannelError(
        f"the IMAP server refused the login for {endpoint.username}: check the password "
        "(an app password where the provider asks for one)",
        permanent=True,
    )


class ImapSession:
    """One logged-in IMAP connection with INBOX selected; any failure is a :class:`ChannelError`
    (a dropped connection is not permanent)."""

    def __init__(self, client: Any, lost: asyncio.Event, endpoint: Endpoint) -> None:
        self._client = client
        self._lost = lost
        self._endpoint = endpoint

    @classmethod
    async def open(cls, endpoint: Endpoint) -> ImapSession:
        lost = asyncio.Event()
        tls = implicit_tls(endpoint.port, endpoint.tls_port)
        try:
            client = aioimaplib.IMAP4(
                host=endpoint.host,
                port=endpoint.port,
                timeout=TIMEOUT,
                conn_lost_cb=lambda _exc: lost.set(),
                ssl_context=endpoint.ssl_context if tls else None,
            )
        except OSError as err:
            raise _unreachable(endpoint, err) from err
        session = cls(client, lost, endpoint)
        try:
            await session._login(tls)
        except BaseException:
            await session.close(polite=False)  # half-open: LOGOUT would only wait
            raise
        return session

    @property
    def idle_supported(self) -> bool:
        return bool(self._client.has_capability("IDLE"))

    async def unseen(self) -> list[int]:
        response = await self._call(self._client.uid_search("UNSEEN"))
        words = b" ".join(line for line in response.lines[:-1] if isinstance(line, bytes))
        return sorted(int(word) for word in words.split() if word.isdigit())

    async def fetch(self, uid: int) -> bytes | None:
        """The whole mail, without marking it seen (None: it is gone meanwhile)."""
        response = await self._call(self._client.uid("fetch", str(uid), "(BODY.PEEK[])"))
        for line in response.lines:
            if isinstance(line, bytearray):
                return bytes(line)
        return None

    async def headers_in_thread(self, root: str) -> list[bytes]:
        """The headers of the mails in the thread whose root Message-ID is ``root``, newest
        first (Angie recalls whom to answer after a restart)."""
        if any(c in root for c in '"\\\r\n'):
            return []
        quoted = f'"{root}"'
        response = await self._call(
            self._client.uid_search(
                "OR", "HEADER", "Message-ID", quoted, "HEADER", "References", quoted
            )
        )
        words = b" ".join(line for line in response.lines[:-1] if isinstance(line, bytes))
        found: list[bytes] = []
        newest = sorted((int(w) for w in words.split() if w.isdigit()), reverse=True)
        for uid in newest[:_RECALLED]:
            fetched = await self._call(self._client.uid("fetch", str(uid), "(BODY.PEEK[HEADER])"))
            found.extend(bytes(line) for line in fetched.lines if isinstance(line, bytearray))
        return found

    async def mark_seen(self, uid: int) -> None:
        await self._call(self._client.uid("store", str(uid), "+FLAGS.SILENT", r"(\Seen)"))

    async def noop(self) -> None:
        await self._call(self._client.noop())

    async def wait_for_news(self, within: float) -> None:
        """IDLE until the server says the mailbox changed or ``within`` seconds pass."""
        client = self._client
        while not client.protocol.idle_queue.empty():  # left over from an earlier IDLE
            client.protocol.idle_queue.get_nowait()
        idle = await self._call(client.idle_start(timeout=within))
        push = asyncio.ensure_future(client.wait_server_push(timeout=within + TIMEOUT))
        lost = asyncio.ensure_future(self._lost.wait())
        try:
            await asyncio.wait({push, lost}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            push.cancel()
            lost.cancel()
            await asyncio.gather(push, lost, return_exceptions=True)
        if self._lost.is_set():
            raise self._dropped()
        if client.has_pending_idle():
            client.idle_done()
        await self._call(asyncio.wait_for(idle, TIMEOUT))

    async def close(self, *, polite: bool = True) -> None:
        """Log out if the server still listens; the socket is closed either way."""
        client = self._client
        with contextlib.suppress(Exception):
            if not polite:
                self._lost.set()
            if client._idle_waiter is not None:
                client._idle_waiter.cancel()
            if client.has_pending_idle() and not self._lost.is_set():
                client.idle_done()  # LOGOUT waits for the IDLE it interrupts to end
            if not self._lost.is_set() and client.get_state() in {"AUTH", "SELECTED", "NONAUTH"}:
                await asyncio.wait_for(client.logout(), _LOGOUT_SECONDS)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(client._client_task, _LOGOUT_SECONDS)
        transport = client.protocol.transport
        if transport is not None:
            transport.close()
        for task in (*client.tasks, *client.protocol.tasks):
            task.cancel()

    async def _login(self, tls: bool) -> None:
        endpoint, client = self._endpoint, self._client
        try:
            await asyncio.wait_for(client.wait_hello_from_server(), GREETING_TIMEOUT)
        except ssl.SSLCertVerificationError as err:
            raise _untrusted(endpoint, err) from err
        except (OSError, TimeoutError, aioimaplib.AioImapException) as err:
            raise _unreachable(endpoint, err) from err
        if not tls and upgrade(endpoint, starttls_offered=client.has_capability("STARTTLS")):
            await _starttls(client, endpoint)
        response = await self._call(client.login(endpoint.username, endpoint.password))
        if response.result != "OK":
            raise imap_refused_login(endpoint)
        response = await self._call(client.select("INBOX"))
        if response.result != "OK":
            raise ChannelError(f"the IMAP server {endpoint.where} has no INBOX for Angie")

    async def _call(self, pending: Any) -> Any:
        """One IMAP command; a broken connection becomes a non-permanent ChannelError."""
        try:
            return await pending
        except ssl.SSLCertVerificationError as err:
            raise _untrusted(self._endpoint, err) from err
        except (OSError, TimeoutError, aioimaplib.AioImapException) as err:
            raise self._dropped(err) from err

    def _dropped(self, err: BaseException | None = None) -> ChannelError:
        reason = f": {err}" if err is not None and str(err) else ""
        return ChannelError(
            f"the connection to the IMAP server {self._endpoint.where} dropped{reason}"
        )


async def _starttls(client: Any, endpoint: Endpoint) -> None:
    protocol = client.protocol
    command = aioimaplib.Command("STARTTLS", protocol.new_tag(), loop=protocol.loop)
    try:
        response = await asyncio.wait_for(protocol.execute(command), TIMEOUT)
        if response.result != "OK":
            raise ChannelError(f"the IMAP server {endpoint.where} refused STARTTLS", permanent=True)
        loop = asyncio.get_running_loop()
        transport = await loop.start_tls(
            protocol.transport, protocol, endpoint.ssl_context, server_hostname=endpoint.host
        )
    except ssl.SSLCertVerificationError as err:
        raise _untrusted(endpoint, err) from err
    except (OSError, TimeoutError, aioimaplib.AioImapException) as err:
        raise _unreachable(endpoint, err) from err
    if transport is None:
        raise ChannelError(f"the IMAP server {endpoint.where} closed the connection at STARTTLS")
    protocol.transport = transport
    # Capabilities seen before TLS could have been forged; ask again over the secure channel.
    await asyncio.wait_for(protocol.capability(), TIMEOUT)


def _unreachable(endpoint: Endpoint, err: BaseException) -> ChannelError:
    reason = str(err) or type(err).__name__
    return ChannelError(f"cannot reach the IMAP server {endpoint.where}: {reason}")


def _untrusted(endpoint: Endpoint, err: ssl.SSLCertVerificationError) -> ChannelError:
    return ChannelError(
        f"the IMAP server {endpoint.where} presented a certificate Angie does not trust: "
        f"{err.verify_message or err}",
        permanent=True,
    )
