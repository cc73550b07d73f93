"""The signed-in Google account: its encrypted tokens, refreshed and saved back, and the service.

Tokens are stored by the kit's :class:`~angie_mcp_core.tokens.TokenFile` as
``{"token", "refresh_token", "expiry", "scopes", "granted_at"}``; the OAuth client's id and
secret come from the settings, so the file alone cannot be used elsewhere.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import httplib2
from google.oauth2.credentials import Credentials
from google_auth_httplib2 import AuthorizedHttp
from google_auth_httplib2 import Request as HttplibRequest
from googleapiclient.discovery import build

from angie_mcp_core.crypto import DecryptError
from angie_mcp_core.discovery import keep_resources
from angie_mcp_core.tokens import TokenFile
from angie_mcp_gcal.errors import NotSignedInError
from angie_mcp_gcal.settings import GcalSettings

__all__ = ("API_URL", "TESTING_REFRESH_LIFETIME", "TOKEN_URI", "Account", "token_file")

API_URL: Final = "https://www.googleapis.com/calendar/v3/"
TOKEN_URI: Final = "https://oauth2.googleapis.com/token"  # noqa: S105 - a URL
#: Google expires refresh tokens of an OAuth app in "Testing" publishing status after 7 days.
TESTING_REFRESH_LIFETIME: Final = timedelta(days=7)


def token_file(settings: GcalSettings) -> TokenFile:
    key = settings.token_key.get_secret_value() if settings.token_key else None
    key_name = settings.env_name("token_key") if key else ""
    return TokenFile(settings.token_path(), key, key_name=key_name)


def _naive_utc(value: str | None) -> datetime | None:
    # google-auth compares expiry with a naive UTC "now".
    if not value:
        return None
    parsed = datetime.fromisoformat(value)
    return parsed.astimezone(UTC).replace(tzinfo=None) if parsed.tzinfo else parsed


class Account:
    """One Google account's Calendar service; every use goes through :meth:`service` under
    :attr:`lock` (httplib2 connections are not thread-safe) and ends with :meth:`persist`.

    The token file is read on every use, so a sign-in made by `angie-mcp-gcal auth` while the
    server runs takes effect at once.
    """

    def __init__(
        self, settings: GcalSettings, tokens: TokenFile, *, api_url: str, token_uri: str
    ) -> None:
        self.lock = threading.Lock()
        self._settings = settings
        self._tokens = tokens
        self._api_url = api_url.rstrip("/") + "/"
        self._token_uri = token_uri
        self._http = httplib2.Http(timeout=max(1, int(settings.timeout)))
        self._stored: dict[str, Any] | None = None
        self._credentials: Credentials | None = None
        self._service: Any = None

    def close(self) -> None:
        self._http.close()

    def stored(self) -> dict[str, Any]:
        """The stored sign-in; :class:`NotSignedInError` when there is none."""
        try:
            stored = self._tokens.load()
        except DecryptError as err:
            raise NotSignedInError(
                f"the stored sign-in in {self._tokens.path} cannot be decrypted with the key"
            ) from err
        if not stored or not stored.get("refresh_token"):
            raise NotSignedInError()
        return stored

    def service(self) -> Any:
        """The Calendar v3 service with fresh credentials (refreshed and saved when expired)."""
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
            # static_discovery: the Calendar v3 document ships with the library, no fetch.
            self._service = keep_resources(
                build(
                    "calendar",
                    "v3",
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
