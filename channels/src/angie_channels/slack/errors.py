"""Slack's refusals and outages, said as one sentence a person can act on (a ChannelError)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

import aiohttp
from slack_sdk.errors import SlackApiError

from angie_channels.base import ChannelError

__all__ = ("refusal", "slack_errors")

Credential = Literal["bot", "app"]

# What a person does about a token Slack refuses, by which token it is.
_TOKEN_FIX = {
    "bot": "copy the Bot User OAuth Token again (OAuth & Permissions in the app's settings)",
    "app": "create an app-level token with connections:write again (Basic Information)",
}
_TOKEN_NAME = {"bot": "bot token", "app": "app-level token"}
_TOKEN_ERRORS = {
    "invalid_auth": "refused the {token}",
    "not_authed": "got no {token}",
    "token_revoked": "says the {token} was revoked",
    "token_expired": "says the {token} has expired",
    "account_inactive": "says the {token} belongs to an inactive account (was the app removed?)",
    "not_allowed_token_type": "does not accept this kind of token as the {token}",
}
_WHERE_ERRORS = {
    "channel_not_found": "cannot find the channel {channel}: use its id or a name Angie is in",
    "not_in_channel": "says Angie is not in {channel}: invite her there with /invite",
    "is_archived": "says the channel {channel} is archived",
    "message_not_found": "cannot find that message in {channel} any more",
    "cant_update_message": "does not let Angie edit that message in {channel}",
    "msg_too_long": "refused the message as too long",
    "no_text": "refused a message without text",
    "invalid_blocks": "refused the message's layout (invalid_blocks)",
    "invalid_arguments": "refused the request's arguments",
    "restricted_action": "says a workspace admin does not allow Angie to post in {channel}",
}


def refusal(
    err: SlackApiError, *, credential: Credential = "bot", channel: str = "the channel"
) -> ChannelError:
    """The ChannelError for a Web API call Slack answered with an error."""
    response = err.response
    status = response.status_code
    data: Any = response.data
    error = data.get("error") if isinstance(data, dict) else None
    if status == 429 or error == "ratelimited":
        retry_after = _retry_after(response.headers)
        return ChannelError(
            f"Slack is rate limiting Angie: she will try again in {retry_after:g} s.",
            retry_after=retry_after,
        )
    if status >= 500 or not isinstance(error, str):
        return ChannelError(
            f"Slack is not answering properly (HTTP {status}); Angie will try again."
        )
    if error in _TOKEN_ERRORS:
        said = _TOKEN_ERRORS[error].format(token=_TOKEN_NAME[credential])
        return ChannelError(f"Slack {said} ({error}): {_TOKEN_FIX[credential]}.", permanent=True)
    if error == "missing_scope":
        needed = data.get("needed") or "a scope"
        return ChannelError(
            f"The Slack app lacks the {needed} scope: add it under OAuth & Permissions and "
            "reinstall the app.",
            permanent=True,
        )
    if error in _WHERE_ERRORS:
        said = _WHERE_ERRORS[error].format(channel=channel)
        return ChannelError(f"Slack {said}.", permanent=True)
    return ChannelError(f"Slack refused the request ({error}).")


@contextmanager
def slack_errors(*, credential: Credential = "bot", channel: str = "the channel") -> Iterator[None]:
    """Turn what slack_sdk and aiohttp raise inside the block into a :class:`ChannelError`."""
    try:
        yield
    except SlackApiError as err:
        raise refusal(err, credential=credential, channel=channel) from err
    except (aiohttp.ClientError, TimeoutError, OSError) as err:
        reason = type(err).__name__
        raise ChannelError(f"Angie could not reach Slack ({reason}); she will try again.") from err


def _retry_after(headers: Any) -> float:
    for name, value in dict(headers or {}).items():
        if name.lower() == "retry-after":
            raw = value[0] if isinstance(value, list | tuple) else value
            try:
                return max(float(raw), 1.0)
            except ValueError:
                break
    return 30.0
