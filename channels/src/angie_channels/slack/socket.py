"""Slack's Socket Mode for Angie: slack_sdk's aiohttp client feeding the bolt app, saying how its
connection is as it goes (connecting, connected after Slack's hello, failed and why)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from slack_bolt.adapter.socket_mode.async_internals import run_async_bolt_app, send_async_response
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.async_client import AsyncBaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest

from angie_channels.base import ChannelError, State
from angie_channels.slack.errors import slack_errors

__all__ = ("SlackSocket",)

Report = Callable[[State, str | None], None]


class SlackSocket(SocketModeClient):
    """What bolt's ``AsyncSocketModeHandler`` does (each envelope through the app, then its ack),
    plus the state changes slack_sdk otherwise only logs. slack_sdk reconnects by itself: every
    ``ping_interval`` seconds it checks the connection and opens a new one if it was lost."""

    def __init__(
        self, app: AsyncApp, app_token: str, report: Report, *, ping_interval: float = 10.0
    ) -> None:
        super().__init__(
            app_token=app_token,
            logger=app.logger,
            web_client=app.client,
            ping_interval=ping_interval,
        )
        self._app = app
        self._report = report
        self.message_listeners.append(self._on_message)
        self.socket_mode_request_listeners.append(self._on_request)

    async def open(self) -> None:
        """Ask Slack for a socket URL (a refused app token is a ChannelError) and connect."""
        self.wss_uri = await self._socket_url()
        await self.connect()  # type: ignore[no-untyped-call]  # slack_sdk has no hints here

    async def shut(self) -> None:
        """Close the connection and the aiohttp session, and wait for slack_sdk's tasks to end
        (``close()`` cancels them without waiting)."""
        await self.close()  # type: ignore[no-untyped-call]  # slack_sdk has no hints here
        tasks = (self.message_processor, self.current_session_monitor, self.message_receiver)
        await asyncio.gather(*(t for t in tasks if t is not None), return_exceptions=True)

    async def issue_new_wss_url(self) -> str:
        # slack_sdk asks for a new URL when it reconnects; a refusal then is worth reporting.
        try:
            return await self._socket_url()
        except ChannelError as err:
            self._report(State.FAILED, str(err))
            raise

    async def _socket_url(self) -> str:
        # slack_sdk's own version fails on a reply that is not JSON (a 503 page) and retries a
        # rate limit without end; here both are a ChannelError that says what happened.
        with slack_errors(credential="app"):
            response = await self.web_client.apps_connections_open(app_token=self.app_token)
        return str(response["url"])

    async def connect_to_new_endpoint(self, force: bool = False) -> None:
        if not self.closed:
            self._report(State.CONNECTING, "reconnecting to Slack")
        await super().connect_to_new_endpoint(force)

    async def _on_message(
        self, client: AsyncBaseSocketModeClient, message: dict[str, Any], raw: str | None
    ) -> None:
        if message.get("type") == "hello":
            self._report(State.CONNECTED, None)

    async def _on_request(
        self, client: AsyncBaseSocketModeClient, request: SocketModeRequest
    ) -> None:
        start = time.time()
        response = await run_async_bolt_app(self._app, request)
        await send_async_response(client, request, response, start)
