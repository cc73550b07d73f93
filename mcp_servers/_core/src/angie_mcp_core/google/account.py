"""The signed-in Google account: its encrypted tokens, refreshed and saved back, and the service.

Tokens are stored by the kit's :class:`~angie_mcp_core.tokens.TokenFile` as
``{"token", "refresh_token", "expiry", "scopes", "granted_at"}``; the OAuth client's id and
secret come from the settings, so the file alone cannot be used elsewhere.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import httplib2
from google.oauth2.credentials import Credentials
from google_auth_httplib2 import AuthorizedHttp
from google_auth_httplib2 import Request as HttplibRequest
from googleapiclient.discovery import build

from angie_mcp_core.crypto import DecryptError
from angie_mcp_core.discovery import keep_resources
from angie_mcp_core.google.errors import NotSignedInError, WriteAccessError, translated
from angie_mcp_core.google.service import GoogleService
from angie_mcp_core.google.settings import GoogleSettings
from angie_mcp_core.server import Probed, SignIn
from angie_mcp_core.tokens import TokenFile

__all__ = (
    "RENEW_WARNING",
    "TESTING_REFRESH_LIFETIME",
    "TOKEN_URI",
    "GoogleAccount",
    "token_file",
)

TOKEN_URI: Final = "https://oauth2.googleapis.com/token"  # noqa: S105 - a URL
#: Google expires refresh tokens of an OAuth app in "Testing" publishing status after 7 days.
TESTING_REFRESH_LIFETIME: Final = timedelta(days=7)
#: How long before that the status line says to reconnect.
RENEW_WARNING: Final = timedelta(days=1)


def token_file(settings: GoogleSettings) -> TokenFile:
    key = settings.token_key.get_secret_value() if settings.token_key else None
    key_name = settings.env_name("token_key") if key else ""
    return TokenFile(settings.token_path(), key, key_name=key_name)


def _naive_utc(value: str | None) -> datetime | None:
    # google-auth compares expiry with a naive UTC "now".
    if not value:
        return None
    parsed = datetime.fromisoformat(value)
    return parsed.astimezone(UTC).replace(tzinfo=None) if parsed.tzinfo else parsed


class GoogleAccount:
    """One Google account's service for one API (from the discovery documents
    google-api-python-client ships); every use goes through :meth:`service` under :attr:`lock`
    (httplib2 connections are not thread-safe) and ends with :meth:`persist`.

    The token file is looked at on every use and decrypted again only when it changed, so a
    sign-in made by the server's ``auth`` command while the server runs takes effect at once.
    """

    def __init__(
        self,
        settings: GoogleSettings,
        service: GoogleService,
        *,
        api_url: str | None = None,
        token_uri: str | None = None,
    ) -> None:
        self.lock = threading.Lock()
        self._settings = settings
        self._tokens = token_file(settings)
        self._google = service
        self._api_url = (api_url or settings.api_url or service.api_url).rstrip("/") + "/"
        self._token_uri = token_uri or settings.token_uri or TOKEN_URI
        self._http = httplib2.Http(timeout=max(1, int(settings.timeout)))
        self._stored: dict[str, Any] | None = None
        self._credentials: Credentials | None = None
        self._service: Any = None

    def close(self) -> None:
        self._http.close()

    def stored(self) -> dict[str, Any]:
        """The stored sign-in; the server's not-signed-in error when there is none."""
        try:
            stored = self._tokens.load()
        except DecryptError as err:
            raise NotSignedInError(
                self._google,
                f"the stored sign-in in {self._tokens.path} cannot be decrypted with the key",
            ) from err
        if not stored or not stored.get("refresh_token"):
            raise NotSignedInError(self._google)
        return stored

    def call[T](self, fn: Callable[[Any], T], *, write: bool = False) -> T:
        """``fn(service)`` with Google's errors as the kit's; ``write`` refuses before anything
        is sent when the sign-in only allows reading."""
        with self.lock, translated(self._google):
            if write and not self._google.can_write(self.stored().get("scopes", [])):
                raise WriteAccessError(self._google)
            try:
                return fn(self.service())
            finally:
                self.persist()

    def probed(self, account: str) -> Probed:
        """The status of the sign-in of ``account`` (found by a call the caller made)."""
        stored = self.stored()
        scopes = sorted(stored.get("scopes", []))
        short = ", ".join(s.rsplit("/", 1)[-1] for s in scopes)
        line = f"{self._google.name} account {account}; scopes: {short or 'none'}"
        expiry = self.refresh_expiry(stored)
        if expiry is not None:
            line += f"; the sign-in expires {expiry:%Y-%m-%d %H:%M} UTC (Google's 7-day limit"
            line += " for apps in Testing)"
            if expiry - datetime.now(UTC) < RENEW_WARNING:
                line += (
                    f"; WARNING: reconnect {self._google.server} soon with "
                    f"`{self._google.auth_command}`"
                )
        sign_in = SignIn(
            service=self._google.name,
            account=account,
            scopes=scopes,
            expires_at=expiry,
            renew_with=self._google.auth_command,
        )
        return Probed(line, sign_in)

    def service(self) -> Any:
        """The API's service with fresh credentials (refreshed and saved when expired)."""
        stored = self.stored()
        if stored != self._stored or self._credentials is None:
            assert self._settings.client_id is not None
            assert self._settings.client_secret is not None
            self._credentials = Credentials(  # type: ignore[no-untyped-call]
                token=stored.get("token"),
                refresh_token=stored["refresh_token"],
                token_uri=self._token_uri,
                client_id=self._settings.client_id,
                client_secret=self._settings.client_secret.get_secret_value(),
                scopes=list(stored.get("scopes", [])),
                expiry=_naive_utc(stored.get("expiry")),
            )
            # static_discovery: the document ships with the library, nothing is fetched.
            self._service = keep_resources(
                build(
                    self._google.api,
                    self._google.version,
                    http=AuthorizedHttp(self._credentials, http=self._http),
                    static_discovery=True,
                    cache_discovery=False,
                    client_options={"api_endpoint": self._api_url},
                )
            )
            self._stored = stored
        if not self._credentials.valid:
            self._credentials.refresh(HttplibRequest(self._http))  # type: ignore[no-untyped-call]
            self.persist()
        return self._service

    def persist(self) -> None:
        """Save a token google-auth refreshed (before the call or on a 401 during it)."""
        creds, stored = self._credentials, self._stored
        if creds is None or stored is None or creds.token == stored.get("token"):
            return
        updated = {
            **stored,
            "token": creds.token,
            "expiry": creds.expiry.replace(tzinfo=UTC).isoformat() if creds.expiry else None,
            # Google may rotate the refresh token; keep the newest.
            "refresh_token": creds.refresh_token or stored["refresh_token"],
        }
        self._tokens.save(updated)
        self._stored = updated

    def refresh_expiry(self, stored: dict[str, Any]) -> datetime | None:
        """When the refresh token stops working, as far as known (Testing apps: 7 days)."""
        granted = stored.get("granted_at")
        if not self._settings.testing_app or not granted:
            return None
        return datetime.fromisoformat(granted) + TESTING_REFRESH_LIFETIME
