"""BlueBubbles' REST API, as much of it as Angie uses (ping, server info, sending text), with
its refusals translated into :class:`ChannelError` sentences a person can act on."""

from __future__ import annotations

import email.utils
import time
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential

from angie_channels.base import ChannelError

__all__ = ("BlueBubblesClient", "is_already_queued")

# What BlueBubbles answers (400) when a message with the same tempGuid is still being sent.
_ALREADY_QUEUED = "already queued"
# Looking for an earlier attempt's message: how far the Mac's clock may be behind Angie's.
_CLOCK_SKEW_MS = 60_000
# Guids of messages Angie sent, so a look for an earlier attempt does not mistake one of them
# (the same words, sent on purpose a minute ago) for it.
_REMEMBERED = 512


class _PasswordTransport(httpx.AsyncBaseTransport):
    """Adds the server password to each request's query on its way out.

    BlueBubbles reads its password only from the query string. Adding it here, below the
    client, keeps it out of the URL httpx logs and puts in its exceptions."""

    def __init__(self, inner: httpx.AsyncBaseTransport, password: str) -> None:
        self._inner = inner
        self._password = password

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        authed = httpx.Request(
            request.method,
            request.url.copy_merge_params({"password": self._password}),
            headers=request.headers,
            stream=request.stream,
            extensions=request.extensions,
        )
        return await self._inner.handle_async_request(authed)

    async def aclose(self) -> None:
        await self._inner.aclose()


def is_already_queued(err: ChannelError) -> bool:
    """BlueBubbles refused a send because the same tempGuid is still on its way out."""
    return _ALREADY_QUEUED in str(err)


def _retried(err: BaseException) -> bool:
    # Only a failure worth trying again at once: unreachable, a 5xx. Rate limits have their
    # own time (the caller's ledger waits for it) and a refusal stays a refusal.
    return isinstance(err, ChannelError) and not err.permanent and err.retry_after is None


class BlueBubblesClient:
    """One BlueBubbles server, reached at ``base_url`` with its ``password``."""

    def __init__(
        self,
        base_url: str,
        password: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 30.0,
        attempts: int = 3,
        backoff: float = 0.5,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._attempts = attempts
        self._backoff = backoff
        self._delivered: OrderedDict[str, None] = OrderedDict()
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            transport=_PasswordTransport(transport or httpx.AsyncHTTPTransport(), password),
            # A send through AppleScript waits until Messages has the message: seconds.
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            headers={"Accept": "application/json"},
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def ping(self) -> None:
        await self._call("GET", "/api/v1/ping")

    async def server_info(self) -> Mapping[str, Any]:
        data = await self._call("GET", "/api/v1/server/info")
        return data if isinstance(data, Mapping) else {}

    async def send_text(
        self,
        chat_guid: str,
        text: str,
        temp_guid: str,
        method: str,
        *,
        first_tried: float,
        again: bool = False,
    ) -> Mapping[str, Any]:
        """Send ``text`` to the chat; BlueBubbles' message as it answered.

        Transient failures are tried again a few times with the same ``temp_guid``, which
        BlueBubbles refuses while an earlier attempt is still being sent (see
        :func:`is_already_queued`). BlueBubbles forgets a tempGuid once its send is over, and
        an attempt can be over without Angie hearing so (a 504, a lost answer): so before each
        repeat (``again``: this message was tried before, at ``first_tried``, epoch seconds)
        the chat is looked at, and a message found there is not sent a second time."""
        body = {"chatGuid": chat_guid, "tempGuid": temp_guid, "message": text, "method": method}
        data: Any = None
        async for attempt in AsyncRetrying(
            stop=stop_after_attempt(self._attempts),
            wait=wait_exponential(multiplier=self._backoff, max=5.0),
            retry=retry_if_exception(_retried),
            reraise=True,
        ):
            with attempt:
                repeat = again or attempt.retry_state.attempt_number > 1
                earlier = await self._find_sent(chat_guid, text, first_tried) if repeat else None
                data = earlier or await self._call("POST", "/api/v1/message/text", json=body)
        message = data if isinstance(data, Mapping) else {}
        guid = message.get("guid")
        if isinstance(guid, str):
            self._delivered[guid] = None
            while len(self._delivered) > _REMEMBERED:
                self._delivered.popitem(last=False)
        return message

    async def _find_sent(self, chat_guid: str, text: str, since: float) -> Mapping[str, Any] | None:
        """Angie's message with ``text`` in the chat since ``since``, not one she knows of."""
        after = max(int(since * 1000) - _CLOCK_SKEW_MS, 0)
        messages = await self._call(
            "GET",
            f"/api/v1/chat/{quote(chat_guid, safe='')}/message",
            params={"after": after, "limit": 50, "sort": "DESC"},
            missing_ok=True,
        )
        for message in messages if isinstance(messages, list) else []:
            if (
                isinstance(message, Mapping)
                and message.get("isFromMe") is True
                and message.get("text") == text
                and message.get("guid") not in self._delivered
            ):
                return message
        return None

    async def _call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, str | int] | None = None,
        missing_ok: bool = False,
    ) -> Any:
        """BlueBubbles' ``data`` for the call (``None`` for a 404 when ``missing_ok``)."""
        try:
            response = await self._http.request(method, path, json=json, params=params)
        except httpx.TimeoutException as err:
            raise ChannelError(
                f"BlueBubbles at {self.base_url} did not answer in time; is the Mac awake?"
            ) from err
        except httpx.RequestError as err:
            raise ChannelError(
                f"BlueBubbles at {self.base_url} could not be reached; is the server running "
                "and the address right?"
            ) from err
        if response.status_code == 404 and missing_ok:
            return None
        if response.status_code >= 400:
            raise self._refused(response)
        try:
            payload = response.json()
        except ValueError as err:
            raise ChannelError(
                f"{self.base_url} answered {path} with something other than BlueBubbles' JSON; "
                "is the address that of the BlueBubbles server?",
                permanent=True,
            ) from err
        return payload.get("data") if isinstance(payload, Mapping) else None

    def _refused(self, response: httpx.Response) -> ChannelError:
        status = response.status_code
        reason = _reason(response)
        if status in (401, 403):
            return ChannelError(
                "BlueBubbles refused the password; set the server password again with "
                "`angie config imessage --password`.",
                permanent=True,
            )
        if status == 429:
            wait = _retry_after(response.headers.get("Retry-After"))
            return ChannelError(
                f"BlueBubbles is rate limiting: retry in {wait:g} s.", retry_after=wait
            )
        if status == 404:
            return ChannelError(
                f"{self.base_url} has no {response.request.url.path}; is the address that of "
                "a BlueBubbles server (1.x)?",
                permanent=True,
            )
        if status < 500:
            return ChannelError(f"BlueBubbles refused the request: {reason}.", permanent=True)
        return ChannelError(f"BlueBubbles failed ({status}): {reason}; Angie will try again.")


def _reason(response: httpx.Response) -> str:
    """BlueBubbles' own words for a refusal (``error.message``, else ``message``)."""
    try:
        payload = response.json()
    except ValueError:
        return response.reason_phrase or f"HTTP {response.status_code}"
    if isinstance(payload, Mapping):
        error = payload.get("error")
        if isinstance(error, Mapping) and isinstance(error.get("message"), str):
            return str(error["message"]).rstrip(".")
        if isinstance(payload.get("message"), str):
            return str(payload["message"]).rstrip(".")
    return response.reason_phrase or f"HTTP {response.status_code}"


def _retry_after(header: str | None, default: float = 30.0) -> float:
    """Seconds to wait from a Retry-After header: a number or an HTTP date."""
    if not header:
        return default
    try:
        return max(float(header), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return default
    return max(when.timestamp() - time.time(), 0.0)
