"""Angie's mail provider on 127.0.0.1 for tests: a real Dovecot (IMAP with STARTTLS, a throwaway
CA) and an aiosmtpd submission server (STARTTLS and AUTH required) that delivers mail for Angie
into Dovecot's maildir and records everything Angie sent.

    async with MailServers() as mail:
        channel = create(mail.settings, mail.secrets, ssl_context=mail.client_ssl_context)
        await mail.deliver("sam@example.com", mail.address, "Lamp", "Is the lamp on?")
        ...
        assert mail.sent[0].message["In-Reply-To"] == ...

``stop_imap()``/``start_imap()`` restart Dovecot on the same port (reconnect tests);
``fail_smtp(451)`` makes the next submissions fail with that code. Needs ``/usr/sbin/dovecot``
(Debian's dovecot-imapd); :func:`require_dovecot` skips a test without it (fails it in CI).
"""

from __future__ import annotations

import asyncio
import contextlib
import grp
import os
import pwd
import shutil
import signal
import socket
import ssl
import tempfile
import time
import uuid
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import formatdate, make_msgid
from pathlib import Path
from types import TracebackType
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from angie_channels.email.settings import EmailSecrets, EmailSettings
from fakes.throwaway_ca import loopback_certificates

__all__ = ("DOVECOT", "MailServers", "SentMail", "require_dovecot")

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"


def require_dovecot() -> None:
    if os.access(DOVECOT, os.X_OK):
        return
    message = "Dovecot is not installed (apt-get install dovecot-imapd)"
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"{message} (CI=true: services are required)", pytrace=False)
    pytest.skip(message)


@dataclass(frozen=True, slots=True)
class SentMail:
    """One mail Angie submitted: the SMTP envelope and the message as the server received it."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage


class MailServers:
    """The provider of ``address`` (password ``password``); ``idle=False`` makes Dovecot leave
    IDLE out of its capabilities, as some providers do."""

    def __init__(
        self,
        address: str = "angie@example.com",
        password: str = "correct horse battery staple",  # noqa: S107 - a throwaway account
        *,
        idle: bool = True,
        folders: bool = False,
    ) -> None:
        self.address = address
        self.password = password
        self.idle = idle
        # Yahoo's special folders (Drafts, Sent, Trash, Bulk Mail, Archive), flagged SPECIAL-USE.
        self.folders = folders
        self.sent: list[SentMail] = []
        self.imap_port = _free_port()  # STARTTLS
        self.imaps_port = _free_port()  # implicit TLS
        self.smtp_port = 0
        self._smtp_failures: list[tuple[int, str]] = []
        self._sent_changed = asyncio.Condition()
        self._root = Path(tempfile.mkdtemp(prefix="angie-mail-"))  # short: Dovecot's sockets
        self._root.chmod(0o711)  # Dovecot's mail processes pass through to the maildir
        self._dovecot: asyncio.subprocess.Process | None = None
        self._smtp_server: asyncio.Server | None = None
        self._owner = _mail_owner()
        ca_pem, cert_pem, key_pem = loopback_certificates()
        (self._root / "ca.pem").write_bytes(ca_pem)
        (self._root / "cert.pem").write_bytes(cert_pem)
        (self._root / "key.pem").write_bytes(key_pem)
        self.client_ssl_context = ssl.create_default_context(cafile=str(self._root / "ca.pem"))
        self._server_ssl_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._server_ssl_context.load_cert_chain(self._root / "cert.pem", self._root / "key.pem")

    # -- what Angie is configured with -------------------------------------------------------

    @property
    def settings(self) -> EmailSettings:
        return EmailSettings(
            address=self.address,
            imap_host="127.0.0.1",
            imap_port=self.imap_port,
            smtp_host="127.0.0.1",
            smtp_port=self.smtp_port,
        )

    @property
    def secrets(self) -> EmailSecrets:
        return EmailSecrets(password=self.password)

    @property
    def ca_file(self) -> Path:
        """The throwaway CA that signed the servers' certificates."""
        return self._root / "ca.pem"

    @property
    def maildir(self) -> Path:
        return self._root / "mail" / self.address

    # -- lifecycle ----------------------------------------------------------------------------

    async def __aenter__(self) -> MailServers:
        try:
            for attempt in range(3):
                self._write_dovecot_config()
                try:
                    await self.start_imap()
                    break
                except _DovecotExited:
                    # Another test took the free port meanwhile: try two other ports.
                    if attempt == 2:
                        raise
                    self.imap_port, self.imaps_port = _free_port(), _free_port()
            await self._start_smtp()
        except BaseException:
            await self.aclose()
            raise
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.stop_imap()
        if self._smtp_server is not None:
            self._smtp_server.close()
            await self._smtp_server.wait_closed()
            self._smtp_server = None
        shutil.rmtree(self._root, ignore_errors=True)

    async def start_imap(self) -> None:
        """Start Dovecot (again, on the same port) and wait until it greets."""
        log = (self._root / "dovecot.out").open("ab")
        try:
            self._dovecot = await asyncio.create_subprocess_exec(
                DOVECOT,
                "-F",
                "-c",
                str(self._root / "dovecot.conf"),
                stdout=log,
                stderr=log,
                start_new_session=True,  # its own process group: stop_imap ends all of it
            )
        finally:
            log.close()
        async with asyncio.timeout(20):
            while not await self._imap_greets():
                if self._dovecot.returncode is not None:
                    raise _DovecotExited(f"Dovecot did not start:\n{self.imap_log()}")
                await asyncio.sleep(0.1)

    async def stop_imap(self) -> None:
        """Stop Dovecot: every IMAP connection drops and the port refuses, as when a provider's
        server crashes."""
        process, self._dovecot = self._dovecot, None
        if process is None:
            return
        # Dovecot's master leaves running login and mail processes behind (they serve their
        # clients to the end), and a login process keeps the port open while it ends; a crash
        # drops every connection and the port at once, so the whole group is killed.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        await process.wait()

    def imap_log(self) -> str:
        parts = [self._root / "dovecot.log", self._root / "dovecot.out"]
        return "".join(p.read_text(errors="replace") for p in parts if p.exists())

    # -- people writing to Angie ---------------------------------------------------------------

    async def deliver(
        self,
        from_: str,
        to: str,
        subject: str,
        body: str,
        in_reply_to: str | None = None,
        *,
        references: str | None = None,
        headers: dict[str, str] | None = None,
        html: str | None = None,
    ) -> str:
        """A person's mail lands in Angie's inbox; returns its Message-ID. A reply names
        ``in_reply_to`` (References defaults to it: pass ``references`` for the whole chain)."""
        message = EmailMessage()
        message["From"] = from_
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=True)
        message["Message-ID"] = make_msgid(domain=from_.rpartition("@")[2].strip("> "))
        if in_reply_to is not None:
            message["In-Reply-To"] = in_reply_to
            message["References"] = references or in_reply_to
        for name, value in (headers or {}).items():
            message[name] = value
        if html is not None and not body:
            message.set_content(html, subtype="html")
        else:
            message.set_content(body)
            if html is not None:
                message.add_alternative(html, subtype="html")
        await self.deliver_raw(message.as_bytes())
        return str(message["Message-ID"])

    async def deliver_raw(self, raw: bytes) -> None:
        """Any bytes into the maildir, as a local delivery agent writes them (tmp/, then new/)."""
        name = f"{time.time_ns()}.{uuid.uuid4().hex}.mail.test"
        for sub in ("tmp", "new", "cur"):
            self._own(self.maildir / sub, directory=True)
        staged = self.maildir / "tmp" / name
        staged.write_bytes(raw.replace(b"\r\n", b"\n"))
        self._own(staged)
        staged.rename(self.maildir / "new" / name)

    def flags(self) -> list[str]:
        """Each mail's IMAP flags as the maildir keeps them ("S": seen); new/ has none yet."""
        found = [""] * len(list((self.maildir / "new").glob("*")))
        for path in (self.maildir / "cur").glob("*"):
            found.append(path.name.partition(":2,")[2])
        return found

    # -- what Angie sent ------------------------------------------------------------------------

    def fail_smtp(
        self, code: int = 451, text: str = "4.3.0 Try again later", times: int = 1
    ) -> None:
        """The next ``times`` submissions are answered with ``code`` at DATA."""
        self._smtp_failures.extend([(code, text)] * times)

    async def wait_sent(self, count: int, within: float = 10.0) -> list[SentMail]:
        async with asyncio.timeout(within), self._sent_changed:
            await self._sent_changed.wait_for(lambda: len(self.sent) >= count)
        return self.sent

    # -- Dovecot ---------------------------------------------------------------------------------

    def _write_dovecot_config(self) -> None:
        root = self._root
        (root / "base").mkdir(exist_ok=True)
        (root / "state").mkdir(exist_ok=True)
        self._own(root / "mail", directory=True)
        self._own(self.maildir, directory=True)
        (root / "users").write_text(f"{self.address}:{{PLAIN}}{self.password}::::::\n")
        user, group, uid, gid = self._owner
        capability = (
            "" if self.idle else "imap_capability = IMAP4rev1 LITERAL+ SASL-IR ID UIDPLUS\n"
        )
        namespace = ""
        if self.folders:
            special = {
                "Drafts": "Drafts",
                "Sent": "Sent",
                "Trash": "Trash",
                "Bulk Mail": "Junk",
                "Archive": "Archive",
            }
            boxes = "".join(
                f'  mailbox "{name}" {{\n    auto = subscribe\n    special_use = \\{use}\n  }}\n'
                for name, use in special.items()
            )
            namespace = f"namespace inbox {{\n  inbox = yes\n{boxes}}}\n"
        (root / "dovecot.conf").write_text(
            namespace
            + f"""protocols = imap
listen = 127.0.0.1
base_dir = {root}/base
state_dir = {root}/state
log_path = {root}/dovecot.log
instance_name = angie-test-{root.name}
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
first_valid_uid = 1
ssl = yes
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
auth_failure_delay = 0
login_trusted_networks = 127.0.0.0/8
mailbox_idle_check_interval = 1 secs
mail_location = maildir:{root}/mail/%u
{capability}passdb {{
  driver = passwd-file
  args = {root}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/mail/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {self.imaps_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
"""
        )

    def _own(self, path: Path, *, directory: bool = False) -> None:
        """Files Dovecot's mail process must use belong to its user (not root)."""
        if directory:
            path.mkdir(parents=True, exist_ok=True)
            path.chmod(0o700)
        if os.geteuid() == 0:
            os.chown(path, self._owner[2], self._owner[3])

    async def _imap_greets(self) -> bool:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", self.imap_port)
        except OSError:
            return False
        try:
            return (await asyncio.wait_for(reader.readline(), 5)).startswith(b"* OK")
        except (OSError, TimeoutError):
            return False
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    # -- SMTP --------------------------------------------------------------------------------------

    async def _start_smtp(self) -> None:
        loop = asyncio.get_running_loop()
        self._smtp_server = await loop.create_server(
            lambda: _SubmissionServer(
                _Submission(self),
                hostname="mail.test",
                tls_context=self._server_ssl_context,
                require_starttls=True,
                authenticator=self._authenticate,
                auth_required=True,
                auth_require_tls=True,
                loop=loop,
            ),
            "127.0.0.1",
            0,
        )
        self.smtp_port = self._smtp_server.sockets[0].getsockname()[1]

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and data.login.decode() == self.address
            and data.password.decode() == self.password
        )
        return AuthResult(success=ok, handled=False)

    async def _received(self, envelope: Envelope) -> str:
        if self._smtp_failures:
            code, text = self._smtp_failures.pop(0)
            return f"{code} {text}"
        raw = envelope.original_content or b""
        message = BytesParser(policy=policy.default).parsebytes(raw)
        assert isinstance(message, EmailMessage)
        for recipient in envelope.rcpt_tos:
            if recipient.lower() == self.address:
                await self.deliver_raw(raw)
        async with self._sent_changed:
            self.sent.append(SentMail(str(envelope.mail_from), tuple(envelope.rcpt_tos), message))
            self._sent_changed.notify_all()
        return "250 2.0.0 OK queued"


class _Session(Session):
    """aiosmtpd's own AUTH sets ``login_data``, which warns that it is deprecated; the warning
    is aiosmtpd's business, not the test's."""

    @property
    def login_data(self) -> Any:
        return self._login_data

    @login_data.setter
    def login_data(self, value: Any) -> None:
        self._login_data = value


class _SubmissionServer(SMTP):
    def _create_session(self) -> Session:
        return _Session(self.loop)


class _Submission:
    """aiosmtpd's handler: a submission server only sends as the account that logged in."""

    def __init__(self, servers: MailServers) -> None:
        self._servers = servers

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address.lower() != self._servers.address:
            return "553 5.7.1 Sender address rejected: not owned by the logged-in user"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        return await self._servers._received(envelope)


class _DovecotExited(RuntimeError):
    pass


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _mail_owner() -> tuple[str, str, int, int]:
    """Who Dovecot runs its processes as: the current user, or (as root, which Dovecot refuses
    for mail and login processes) Debian's ``dovecot`` user."""
    if os.geteuid() != 0:
        entry = pwd.getpwuid(os.geteuid())
        return entry.pw_name, grp.getgrgid(os.getegid()).gr_name, entry.pw_uid, os.getegid()
    entry = pwd.getpwnam("dovecot")
    return "dovecot", grp.getgrgid(entry.pw_gid).gr_name, entry.pw_uid, entry.pw_gid
