"""Angie's outgoing mail over SMTP (aiosmtplib): implicit TLS on 465, STARTTLS elsewhere, and
the server's refusals in words a person can act on."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from email.message import EmailMessage

import aiosmtplib

from angie_channels.base import ChannelError
from angie_channels.email.security import Endpoint, implicit_tls, upgrade

__all__ = ("check_smtp", "send_mail")

TIMEOUT = 30.0


async def check_smtp(endpoint: Endpoint) -> None:
    """EHLO, STARTTLS and login, then goodbye: the password and the server both work."""
    async with _logged_in(endpoint):
        pass


async def send_mail(endpoint: Endpoint, message: EmailMessage) -> None:
    async with _logged_in(endpoint) as smtp:
        try:
            await smtp.send_message(message)
        except aiosmtplib.SMTPRecipientsRefused as err:
            refused = ", ".join(r.recipient for r in err.recipients)
            code = min((r.code for r in err.recipients), default=550)
            raise ChannelError(
                f"the SMTP server {endpoint.where} refused the recipient {refused}",
                permanent=code >= 500,
            ) from err
        except aiosmtplib.SMTPResponseException as err:
            raise _refused(endpoint, "the mail", err) from err


@asynccontextmanager
async def _logged_in(endpoint: Endpoint) -> AsyncIterator[aiosmtplib.SMTP]:
    tls = implicit_tls(endpoint.port, endpoint.tls_port)
    smtp = aiosmtplib.SMTP(
        hostname=endpoint.host,
        port=endpoint.port,
        use_tls=tls,
        start_tls=False,  # decided below, once the server said what it offers
        tls_context=endpoint.ssl_context,
        timeout=TIMEOUT,
    )
    try:
        await smtp.connect()
        await smtp.ehlo()
        if not tls and upgrade(endpoint, starttls_offered=smtp.supports_extension("starttls")):
            await smtp.starttls(tls_context=endpoint.ssl_context)
            await smtp.ehlo()  # what the server offers is asked again over TLS (AUTH, often)
        if smtp.supports_extension("auth"):
            try:
                await smtp.login(endpoint.username, endpoint.password)
            except aiosmtplib.SMTPAuthenticationError as err:
                raise ChannelError(
                    f"the SMTP server refused the login for {endpoint.username}: check the "
                    "password (an app password where the provider asks for one)",
                    permanent=True,
                ) from err
        yield smtp
    except ssl.SSLCertVerificationError as err:
        raise ChannelError(
            f"the SMTP server {endpoint.where} presented a certificate Angie does not trust: "
            f"{err.verify_message or err}",
            permanent=True,
        ) from err
    except aiosmtplib.SMTPResponseException as err:
        raise _refused(endpoint, "Angie", err) from err
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as err:
        raise ChannelError(f"cannot reach the SMTP server {endpoint.where}: {err}") from err
    finally:
        if smtp.is_connected:
            try:
                await smtp.quit()
            except (aiosmtplib.SMTPException, OSError, TimeoutError):
                smtp.close()


def _refused(endpoint: Endpoint, what: str, err: aiosmtplib.SMTPResponseException) -> ChannelError:
    # 4xx is the server's "try again later"; 5xx will not change by retrying.
    return ChannelError(
        f"the SMTP server {endpoint.where} refused {what}: {err.code} {err.message}",
        permanent=err.code >= 500,
    )
