"""`angie-mcp-outlook auth`: the Microsoft identity platform's device-code flow, tokens saved
encrypted. The person signs in on any device with a browser; the server's machine needs none.

Plain OAuth requests rather than MSAL: MSAL accepts only Microsoft's https authorities, and the
same flow must run against the local fake in tests.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final

import requests

from angie_mcp_outlook.account import client_form, stored_tokens, token_endpoint, token_file
from angie_mcp_outlook.scopes import scopes_for
from angie_mcp_outlook.settings import OutlookSettings

__all__ = ("DEVICE_GRANT", "SignInError", "sign_in")

DEVICE_GRANT: Final = "urn:ietf:params:oauth:grant-type:device_code"


class SignInError(RuntimeError):
    """Signing in did not finish; the message says why in one sentence."""


def _post(settings: OutlookSettings, path: str, form: dict[str, str]) -> dict[str, Any]:
    try:
        answer = requests.post(token_endpoint(settings, path), data=form, timeout=settings.timeout)
    except requests.RequestException as err:
        raise SignInError("Microsoft's sign-in service could not be reached.") from err
    try:
        body = answer.json()
    except ValueError as err:
        raise SignInError(f"Microsoft answered HTTP {answer.status_code} without JSON.") from err
    return body if isinstance(body, dict) else {}


def sign_in(
    settings: OutlookSettings,
    *,
    show: Callable[[str], None] = print,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Run the device-code flow, store the tokens, and return what was stored. Asks for
    Mail.ReadWrite and Mail.Send only when writing is enabled."""
    scope = " ".join(scopes_for(settings.writes))
    started = _post(settings, "devicecode", {**client_form(settings), "scope": scope})
    if "device_code" not in started:
        reason = started.get("error_description") or started.get("error") or "no device code"
        raise SignInError(f"Microsoft would not start the sign-in: {reason}")
    show(
        f"To connect Outlook, open {started['verification_uri']} and enter the code "
        f"{started['user_code']}."
    )
    interval = float(started.get("interval", 5))
    deadline = time.monotonic() + float(started.get("expires_in", 900))
    while time.monotonic() < deadline:
        sleep(interval)
        answer = _post(
            settings,
            "token",
            {
                **client_form(settings),
                "grant_type": DEVICE_GRANT,
                "device_code": started["device_code"],
            },
        )
        error = answer.get("error")
        if error == "authorization_pending":
            continue
        if error == "slow_down":
            interval += 5
            continue
        if error == "access_denied":
            raise SignInError("the sign-in was declined.")
        if error == "expired_token":
            break
        if error or "access_token" not in answer:
            raise SignInError(
                f"Microsoft refused the sign-in: {answer.get('error_description') or error}"
            )
        if not answer.get("refresh_token"):
            raise SignInError("Microsoft gave no refresh token; offline_access was not granted.")
        stored = stored_tokens(answer, {"granted_at": datetime.now(UTC).isoformat()})
        token_file(settings).save(stored)
        show(f"The tokens are stored encrypted in {settings.token_path()}.")
        return stored
    raise SignInError("the code expired before the sign-in finished; run auth again.")
