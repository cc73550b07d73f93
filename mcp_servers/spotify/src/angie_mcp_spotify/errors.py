"""Spotify's failures as the kit's errors: spotipy, OAuth and HTTP exceptions, translated once."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any, Final

import requests
import spotipy

from angie_mcp_core import vendor
from angie_mcp_core.errors import (
    InvalidArgumentError,
    NotConfiguredError,
    RateLimitedError,
    ServerToolError,
    UnauthorizedError,
    UpstreamError,
    UpstreamTimeoutError,
    from_status,
    parse_retry_after,
)
from angie_mcp_spotify.settings import SpotifySettings

__all__ = ("AUTH_COMMAND", "SERVICE", "NotSignedInError", "translated")

SERVICE: Final = "Spotify"
AUTH_COMMAND: Final = "angie-mcp-spotify auth"
_NO_DEVICE: Final = (
    "No Spotify device is active. Start Spotify on a phone, computer or speaker, or transfer "
    "playback to one of the available devices (list them first), then try again."
)


class NotSignedInError(NotConfiguredError):
    """The app is configured but no Spotify account has authorized it (or it lacks a scope)."""

    def __init__(self, reason: str = "no Spotify account has authorized Angie yet") -> None:
        ServerToolError.__init__(
            self,
            f"{SERVICE} is not signed in: {reason}. Run `{AUTH_COMMAND}` on the server's "
            "machine to sign in, then try again.",
        )


def translated(settings: SpotifySettings) -> AbstractContextManager[None]:
    """Re-raise spotipy's and requests' exceptions as the kit's errors, ``from`` the original."""
    return vendor.translated(
        [
            (spotipy.SpotifyException, lambda err: _from_api_error(err, settings)),
            (spotipy.SpotifyOauthError, lambda err: _from_oauth_error(err, settings)),
            (requests.Timeout, lambda _: UpstreamTimeoutError(SERVICE, settings.timeout)),
            (
                requests.ConnectionError,
                lambda _: UpstreamError(SERVICE, "could not connect; check the network."),
            ),
            (
                requests.RequestException,
                lambda err: UpstreamError(SERVICE, f"the request failed ({type(err).__name__})."),
            ),
        ]
    )


def _auth_hint(settings: SpotifySettings) -> str:
    return (
        f"Run `{AUTH_COMMAND}` to sign in again; if that fails, check "
        f"{settings.env_name('client_id')} and {settings.env_name('client_secret')}."
    )


def _detail(err: Any) -> str:
    # spotipy prefixes the message with the request URL; the model only needs the reason.
    message = str(err.msg or "").split(":\n", 1)[-1].strip()
    return "" if message == "None" else message


def _from_api_error(err: Any, settings: SpotifySettings) -> ServerToolError:
    status: int = err.http_status
    reason = str(err.reason or "")
    detail = _detail(err)
    lowered = detail.casefold()
    if status == 404 and (reason == "NO_ACTIVE_DEVICE" or "no active device" in lowered):
        return InvalidArgumentError(_NO_DEVICE)
    if status == 403 and (reason == "PREMIUM_REQUIRED" or "premium required" in lowered):
        return UpstreamError(
            SERVICE,
            "controlling playback needs a Spotify Premium account, and this one is not "
            "Premium. Search and playlists still work.",
            status,
        )
    if status == 403 and "restriction" in lowered:
        return InvalidArgumentError(
            f"{SERVICE} refused the player command ({detail}): the device or the current "
            "item does not allow it right now (e.g. it is already paused)."
        )
    return from_status(
        SERVICE,
        status,
        detail,
        auth_hint=_auth_hint(settings),
        retry_after=parse_retry_after((err.headers or {}).get("Retry-After"))
        if status == 429
        else None,
    )


def _from_oauth_error(err: Any, settings: SpotifySettings) -> ServerToolError:
    # spotipy raises this while handling the token endpoint's HTTPError, which holds the status.
    cause = err.__context__
    response = cause.response if isinstance(cause, requests.HTTPError) else None
    status = response.status_code if response is not None else None
    if err.error == "invalid_client":
        return UnauthorizedError(
            SERVICE,
            f"Check {settings.env_name('client_id')} and {settings.env_name('client_secret')}.",
        )
    if err.error == "invalid_grant":
        return NotSignedInError("the stored sign-in was revoked or has expired")
    if status == 429 and response is not None:
        return RateLimitedError(SERVICE, parse_retry_after(response.headers.get("Retry-After")))
    if status is not None and status >= 500:
        return UpstreamError(SERVICE, "its accounts service had an internal error", status)
    return UnauthorizedError(SERVICE, _auth_hint(settings))
