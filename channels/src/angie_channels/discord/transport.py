"""Points one discord.py client at another REST base (a local fake of Discord, a proxy).

discord.py builds every REST address from the class attribute ``Route.BASE``; setting it would
move every Discord client in the process. Instead each request is re-addressed where it is sent:
the bot's requests in :class:`RoutedHTTPClient` (one per client), and interaction responses,
which discord.py sends through the adapter in the ``async_context`` context variable, in
:class:`RoutedWebhookAdapter`, set only in the context the adapter's client runs in.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp
from discord.gateway import DiscordWebSocket
from discord.http import HTTPClient, Route
from discord.webhook.async_ import AsyncWebhookAdapter, async_context

__all__ = ("RoutedHTTPClient", "RoutedWebhookAdapter", "http_client", "route_interactions")


def _rebase(route: Route, api_url: str) -> None:
    # Route.url is computed in Route.__init__ from Route.BASE; each request has its own Route.
    if route.url.startswith(Route.BASE):
        route.url = api_url + route.url[len(Route.BASE) :]


class RoutedHTTPClient(HTTPClient):
    """discord.py's REST client with every request sent to ``api_url`` instead of Discord."""

    def __init__(self, loop: asyncio.AbstractEventLoop, *, api_url: str, **options: Any) -> None:
        super().__init__(loop, **options)
        self.api_url = api_url.rstrip("/")

    async def request(self, route: Route, **kwargs: Any) -> Any:
        _rebase(route, self.api_url)
        return await super().request(route, **kwargs)

    async def ws_connect(self, url: str, *, compress: int = 0) -> aiohttp.ClientWebSocketResponse:
        # discord.Client dials Discord's well-known gateway; where api_url is not Discord, ask
        # its GET /gateway/bot where the gateway is (as Discord asks bots to) and keep the query
        # (version, encoding, compression) discord.py chose.
        wanted = urlsplit(url)
        if wanted.hostname == DiscordWebSocket.DEFAULT_GATEWAY.host:
            _, gateway, _ = await self.get_bot_gateway()
            url = urlunsplit(urlsplit(gateway)._replace(query=wanted.query))
        return await super().ws_connect(url, compress=compress)


class RoutedWebhookAdapter(AsyncWebhookAdapter):
    """Interaction responses (and webhooks) sent to ``api_url`` instead of Discord."""

    def __init__(self, api_url: str) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # untyped in discord.py
        self.api_url = api_url.rstrip("/")

    async def request(self, route: Route, *args: Any, **kwargs: Any) -> Any:
        _rebase(route, self.api_url)
        return await super().request(route, *args, **kwargs)


def http_client(loop: asyncio.AbstractEventLoop, api_url: str | None, **options: Any) -> HTTPClient:
    """A REST client for ``api_url`` (Discord itself when None), as discord.Client makes one."""
    if api_url is None:
        return HTTPClient(loop, **options)
    return RoutedHTTPClient(loop, api_url=api_url, **options)


def route_interactions(api_url: str | None) -> None:
    """Send interaction responses made in the current context (and the tasks it starts) to
    ``api_url``; called at the top of the task a client runs in, so nothing else moves."""
    if api_url is not None:
        async_context.set(RoutedWebhookAdapter(api_url))
