"""The signed-in Microsoft account: its encrypted tokens, refreshed and saved back, and the
O365 connection that carries them to Graph.

Tokens are stored by the kit's :class:`~angie_mcp_core.tokens.TokenFile` as
``{"access_token", "refresh_token", "expires_at", "scopes", "username", "granted_at"}``.
O365 would keep them in MSAL's cache and refresh through MSAL, which insists on an https
authority of Microsoft's; Angie refreshes with the plain OAuth refresh grant instead, so the
same code runs against Microsoft and against a local fake, and the file stays encrypted.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import requests
from O365.connection import Connection

from angie_mcp_core.crypto import DecryptError
from angie_mcp_core.errors import NotConfiguredError, UpstreamError
from angie_mcp_core.tokens import TokenFile
from angie_mcp_outlook.errors import SERVICE, NotSignedInError, from_response
from angie_mcp_outlook.settings import OutlookSettings

__all__ = (
    "GRAPH_URL",
    "LOGIN_URL",
    "MAX_RETRY_WAIT",
    "Account",
    "GraphConnection",
    "client_form",
    "stored_tokens",
    "token_endpoint",
    "token_file",
)

GRAPH_URL: Final = "https://graph.microsoft.com/"
LOGIN_URL: Final = "https://login.microsoftonline.com/"
#: Refresh this long before the access token runs out, so a call never starts with a dying one.
_EARLY: Final = timedelta(seconds=60)
#: A Retry-After up to this long is waited out once; a longer one is the model's to handle.
MAX_RETRY_WAIT: Final = 5.0
_RETRIED_STATUSES: Final = frozenset({429, 500, 502, 503, 504})


def token_file(settings: OutlookSettings) -> TokenFile:
    key = settings.token_key.get_secret_value() if settings.token_key else None
    key_name = settings.env_name("token_key") if key else ""
    return TokenFile(settings.token_path(), key, key_name=key_name)


def token_endpoint(settings: OutlookSettings, path: str = "token") -> str:
    """``<login>/<tenant>/oauth2/v2.0/<path>`` (``token`` or ``devicecode``)."""
    root = (settings.login_url or LOGIN_URL).rstrip("/")
    return f"{root}/{settings.tenant}/oauth2/v2.0/{path}"


def client_form(settings: OutlookSettings) -> dict[str, str]:
    """The client's part of every token request: its id, and its secret when confidential."""
    assert settings.client_id is not None
    form = {"client_id": settings.client_id}
    if settings.client_secret is not None:
        form["client_secret"] = settings.client_secret.get_secret_value()
    return form


def stored_tokens(answer: dict[str, Any], previous: dict[str, Any]) -> dict[str, Any]:
    """What to store from a token answer; Microsoft rotates refresh tokens, keep the newest."""
    scopes = str(answer.get("scope", "")).split() or list(previous.get("scopes", []))
    lifetime = int(answer.get("expires_in", 3600))
    return {
        **previous,
        "access_token": answer["access_token"],
        "refresh_token": answer.get("refresh_token") or previous.get("refresh_token"),
        "expires_at": (datetime.now(UTC) + timedelta(seconds=lifetime)).isoformat(),
        "scopes": scopes,
    }


class Account:
    """One Microsoft account's tokens. The token file is read on every use, so a sign-in made
    by `angie-mcp-outlook auth` while the server runs takes effect at once."""

    def __init__(self, settings: OutlookSettings, tokens: TokenFile) -> None:
        self.lock = threading.Lock()
        self._settings = settings
        self._tokens = tokens
        self._http = requests.Session()

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

    def access_token(self, *, force_refresh: bool = False) -> str:
        """A live access token, refreshed (and saved) when it is about to expire."""
        stored = self.stored()
        expires = stored.get("expires_at")
        fresh = expires and datetime.fromisoformat(expires) - _EARLY > datetime.now(UTC)
        if force_refresh or not fresh or not stored.get("access_token"):
            stored = self._refresh(stored)
        return str(stored["access_token"])

    def _refresh(self, stored: dict[str, Any]) -> dict[str, Any]:
        form = {
            **client_form(self._settings),
            "grant_type": "refresh_token",
            "refresh_token": str(stored["refresh_token"]),
            # Without offline_access Microsoft may answer without a new refresh token.
            "scope": " ".join(sorted({*stored.get("scopes", []), "offline_access"})),
        }
        try:
            answer = self._http.post(
                token_endpoint(self._settings), data=form, timeout=self._settings.timeout
            )
        except requests.RequestException as err:
            raise UpstreamError(SERVICE, "could not reach Microsoft's sign-in service.") from err
        body = _json(answer)
        error = str(body.get("error", ""))
        if error == "invalid_grant":
            raise NotSignedInError("Microsoft revoked the sign-in or it expired")
        if error in {"invalid_client", "unauthorized_client"}:
            raise NotConfiguredError(
                SERVICE,
                [self._settings.env_name("client_id"), self._settings.env_name("client_secret")],
                "Microsoft does not accept this app registration; check both.",
            )
        if answer.status_code != 200 or "access_token" not in body:
            raise UpstreamError(
                SERVICE, "refreshing the sign-in failed; try again later.", answer.status_code
            )
        updated = stored_tokens(body, stored)
        self._tokens.save(updated)
        return updated


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


class GraphConnection(Connection):  # type: ignore[misc]
    """O365's connection with Angie's tokens: every Graph request carries a live bearer token;
    a 401 refreshes once, a short 429 (Retry-After up to :data:`MAX_RETRY_WAIT` s) or a 5xx
    on a read is tried once more, and every other error answer is raised as the kit's error."""

    def __init__(self, settings: OutlookSettings, account: Account) -> None:
        assert settings.client_id is not None
        super().__init__(
            (settings.client_id,),
            auth_flow_type="public",
            tenant_id=settings.tenant,
            timeout=settings.timeout,
            requests_delay=0,
            request_retries=0,
            raise_http_errors=False,
        )
        self._account = account
        self.session = requests.Session()
        # O365 logs each request's session headers (the bearer token) and bodies at DEBUG.
        logging.getLogger("O365").setLevel(max(logging.INFO, logging.getLogger().level))

    def oauth_request(self, url: str, method: str, **kwargs: Any) -> requests.Response:
        refreshed = retried = force = False
        while True:
            token = self._account.access_token(force_refresh=force)
            force = False
            self.session.headers["Authorization"] = f"Bearer {token}"
            response: requests.Response = self._internal_request(
                self.session, url, method, ignore40x=False, **kwargs
            )
            status = response.status_code
            if status < 400:
                return response
            if status == 401 and not refreshed:
                refreshed = force = True
                continue
            if not retried and status in _RETRIED_STATUSES and self._may_retry(response, method):
                retried = True
                continue
            raise from_response(response)

    @staticmethod
    def _may_retry(response: requests.Response, method: str) -> bool:
        if response.status_code == 429:
            wait = response.headers.get("Retry-After", "1")
            seconds = float(wait) if wait.replace(".", "", 1).isdigit() else MAX_RETRY_WAIT + 1
            if seconds > MAX_RETRY_WAIT:
                return False
            time.sleep(seconds)
            return True
        # Sending twice would send twice: only reads are repeated after a server error.
        return method.lower() == "get"
