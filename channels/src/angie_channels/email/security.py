"""How Angie secures her mail connections: implicit TLS, STARTTLS, or plain on loopback only."""

from __future__ import annotations

import ipaddress
import ssl
from dataclasses import dataclass

from angie_channels.base import ChannelError

__all__ = ("IMAP_TLS_PORT", "SMTP_TLS_PORT", "Endpoint", "implicit_tls", "is_loopback", "upgrade")

IMAP_TLS_PORT = 993
SMTP_TLS_PORT = 465


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One mail server Angie logs in to, and the TLS context she trusts it with."""

    service: str  # "IMAP" or "SMTP", for messages
    host: str
    port: int
    username: str
    password: str
    ssl_context: ssl.SSLContext
    tls_port: int  # the port that speaks TLS from the first byte (993, 465)

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"


def is_loopback(host: str) -> bool:
    """A server on this machine: the only place a password may travel unencrypted."""
    if host.lower() in {"localhost", "localhost."}:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def implicit_tls(port: int, tls_port: int) -> bool:
    """TLS from the first byte on the well-known TLS port (993, 465); STARTTLS elsewhere."""
    return port == tls_port


def upgrade(endpoint: Endpoint, *, starttls_offered: bool) -> bool:
    """Whether to STARTTLS on a plain connection: always when offered; a server that offers no
    TLS is refused unless it is on loopback, so a password never crosses a network in clear."""
    if starttls_offered:
        return True
    if is_loopback(endpoint.host):
        return False
    raise ChannelError(
        f"the {endpoint.service} server {endpoint.where} offers no TLS, so Angie will not send "
        f"the password there: use its TLS port (IMAP 993, SMTP 465) or enable STARTTLS",
        permanent=True,
    )
