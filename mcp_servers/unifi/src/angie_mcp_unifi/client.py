"""The UniFi Network controller through aiounifi: one logged-in session, reads and commands.

Every read asks the controller afresh (aiounifi's caches keep clients that have left); vendor
errors leave this module as the kit's errors (``angie_mcp_core.errors``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from typing import Any, Literal

import aiohttp
from aiounifi.controller import Controller
from aiounifi.errors import (
    AiounifiException,
    AuthenticationRateLimitError,
    BadGateway,
    EndpointNotFound,
    Forbidden,
    LoginRequired,
    NoPermission,
    RequestError,
    ResponseError,
    ServiceUnavailable,
    TwoFaTokenRequired,
    Unauthorized,
)
from aiounifi.models.api import ApiRequest
from aiounifi.models.client import (
    AllClientListRequest,
    ClientBlockRequest,
    ClientListRequest,
    ClientReconnectRequest,
)
from aiounifi.models.configuration import Configuration
from aiounifi.models.device import DeviceListRequest, DeviceRestartRequest
from aiounifi.models.port_forward import PortForwardListRequest
from aiounifi.models.system_information import SystemInformationRequest
from aiounifi.models.wlan import WlanEnableRequest, WlanListRequest

from angie_mcp_core.errors import (
    InvalidArgumentError,
    NotConfiguredError,
    NotFoundError,
    RateLimitedError,
    ServerToolError,
    UnauthorizedError,
    UpstreamError,
    UpstreamTimeoutError,
)
from angie_mcp_core.vendor import Rule, translated
from angie_mcp_unifi import convert
from angie_mcp_unifi.models import ActionResult, ClientInfo, DeviceInfo, PortForwardInfo, WlanInfo
from angie_mcp_unifi.settings import UnifiSettings

__all__ = ("SERVICE", "UnifiClient")

# aiounifi says at WARNING that it uses the SSL context it was given, at every login.
_CONNECTIVITY_LOG = logging.getLogger("aiounifi.interfaces.connectivity")


def _not_the_ssl_notice(record: logging.LogRecord) -> bool:
    return record.msg != "Using SSL context %s"


@contextlib.contextmanager
def _ssl_notice_hushed() -> Iterator[None]:
    """aiounifi's notice that it uses the context Angie gave it, and nothing else, unsaid."""
    _CONNECTIVITY_LOG.addFilter(_not_the_ssl_notice)
    try:
        yield
    finally:
        _CONNECTIVITY_LOG.removeFilter(_not_the_ssl_notice)


SERVICE = "The UniFi controller"
_CREDENTIALS = (
    "Check ANGIE_UNIFI_USERNAME and ANGIE_UNIFI_PASSWORD: a local account of the console "
    "(not a UI.com sign-on), without two-factor authentication."
)

type Raw = dict[str, Any]


def _meta_message(err: AiounifiException) -> str:
    """The controller's own reason (``api.err.UnknownStation``) when the error carries it."""
    first = err.args[0] if err.args else None
    if isinstance(first, dict):
        return str(first.get("meta", {}).get("msg") or first.get("message") or "an error")
    return str(first or type(err).__name__)


def _unreachable(err: RequestError) -> ServerToolError:
    text = str(err)
    if "certificate" in text.lower() or "ssl" in text.lower():
        return UpstreamError(
            SERVICE,
            "its TLS certificate is not trusted. Set ANGIE_UNIFI_CA_FILE to its certificate, "
            "or ANGIE_UNIFI_VERIFY_SSL=false on a trusted home network.",
        )
    if "starting up" in text:
        return UpstreamError(SERVICE, "it is starting up; try again in a minute.", 503)
    return UpstreamError(
        SERVICE, "it could not be reached; check ANGIE_UNIFI_CONTROLLER_HOST and its port."
    )


def _refused(err: AiounifiException) -> ServerToolError:
    reason = _meta_message(err)
    if reason == "api.err.NoSiteContext":
        return UpstreamError(
            SERVICE, "it has no such site; check ANGIE_UNIFI_SITE (the short name, e.g. 'default')."
        )
    return UpstreamError(SERVICE, f"it refused the command ({reason}).")


# Order matters, like except clauses: the specific kinds before their bases.
_RULES: tuple[Rule, ...] = (
    ((Unauthorized, LoginRequired), lambda _: UnauthorizedError(SERVICE, _CREDENTIALS)),
    (TwoFaTokenRequired, lambda _: UnauthorizedError(SERVICE, _CREDENTIALS)),
    (AuthenticationRateLimitError, lambda _: RateLimitedError(SERVICE)),
    (
        (Forbidden, NoPermission),
        lambda _: UpstreamError(
            SERVICE,
            "Angie's account may not do this; give it the Site Admin role in UniFi Network.",
            403,
        ),
    ),
    (
        EndpointNotFound,
        lambda _: UpstreamError(
            SERVICE, "no such site or endpoint; check ANGIE_UNIFI_SITE (e.g. 'default').", 404
        ),
    ),
    # A console restarting answers 502/503 for a minute or two; both are RequestErrors too.
    (
        (ServiceUnavailable, BadGateway),
        lambda _: UpstreamError(SERVICE, "it is restarting or starting up; try again in a minute."),
    ),
    (RequestError, _unreachable),
    (ResponseError, lambda _: RateLimitedError(SERVICE)),
    (AiounifiException, _refused),
    (
        aiohttp.ClientError,
        lambda _: UpstreamError(SERVICE, "the connection to it failed; try again."),
    ),
)


def _normal_mac(value: str) -> str:
    return value.strip().lower().replace("-", ":")


class UnifiClient:
    """One site of one controller, logged in on first use; :meth:`close` ends the session."""

    def __init__(self, settings: UnifiSettings) -> None:
        self._settings = settings
        self._session: aiohttp.ClientSession | None = None
        self._controller: Controller | None = None
        self._lock = asyncio.Lock()

    # -- connection -------------------------------------------------------------------------

    def _ssl(self) -> ssl.SSLContext | Literal[False]:
        if self._settings.ca_file is not None:
            return ssl.create_default_context(cafile=str(self._settings.ca_file))
        return ssl.create_default_context() if self._settings.verify_ssl else False

    async def _connected(self) -> Controller:
        missing = self._settings.missing()
        if missing:
            raise NotConfiguredError(SERVICE.removeprefix("The "), missing)
        async with self._lock:
            if self._controller is not None:
                return self._controller
            settings = self._settings
            host, username, password = (
                settings.controller_host,
                settings.username,
                settings.password,
            )
            if host is None or username is None or password is None:  # missing() said so
                raise NotConfiguredError(SERVICE.removeprefix("The "), missing)
            try:
                context = self._ssl()
            except (OSError, ssl.SSLError) as err:
                raise InvalidArgumentError(
                    f"ANGIE_UNIFI_CA_FILE could not be read as a PEM certificate: {err}"
                ) from err
            # unsafe: aiohttp's jar otherwise drops cookies set by an IP address (192.168.1.1).
            session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
            with _ssl_notice_hushed():
                controller = Controller(
                    Configuration(
                        session,
                        host,
                        username=username,
                        password=password.get_secret_value(),
                        port=settings.controller_port,
                        site=settings.site,
                        ssl_context=context,
                    )
                )
            try:
                await controller.login()
            except BaseException:
                await session.close()
                raise
            self._session, self._controller = session, controller
            return controller

    async def _relogin(self, controller: Controller) -> None:
        async with self._lock:
            await controller.login()

    async def _call[T](self, operation: Callable[[Controller], Awaitable[T]]) -> T:
        """Run ``operation`` with a logged-in controller, within the timeout, errors translated.

        aiounifi logs in again once when a session expires; when that second login failed too
        (the controller was restarting), it stops trying, so the next call logs in here.
        """
        timeout = self._settings.timeout
        try:
            async with asyncio.timeout(timeout):
                with translated(_RULES):
                    controller = await self._connected()
                    try:
                        return await operation(controller)
                    except LoginRequired:
                        await self._relogin(controller)
                        return await operation(controller)
        except TimeoutError as err:
            # The abandoned request's connection is dropped with its session (a controller
            # too slow to answer gets a fresh login next time, not a half-read stream).
            await self.close()
            raise UpstreamTimeoutError(SERVICE, timeout) from err

    @staticmethod
    async def _data(controller: Controller, request: ApiRequest) -> list[Raw]:
        response = await controller.request(request)
        return list(response.get("data", []))

    async def close(self) -> None:
        async with self._lock:
            session, self._session, self._controller = self._session, None, None
        if session is not None:
            await session.close()

    # -- reads ------------------------------------------------------------------------------

    async def probe(self) -> str:
        """The controller's name and version, e.g. ``UniFi Network 9.0.114``."""

        async def sysinfo(controller: Controller) -> list[Raw]:
            return await self._data(controller, SystemInformationRequest.create())

        info = await self._call(sysinfo)
        version = info[0].get("version", "unknown version") if info else "unknown version"
        return f"UniFi Network {version}, site {self._settings.site}"

    async def _clients(self, include_offline: bool) -> list[ClientInfo]:
        async def fetch(controller: Controller) -> tuple[list[Raw], list[Raw]]:
            online = await self._data(controller, ClientListRequest.create())
            known = (
                await self._data(controller, AllClientListRequest.create())
                if include_offline
                else []
            )
            return online, known

        online, known = await self._call(fetch)
        now = datetime.now(UTC)
        found = {c.mac: c for c in (convert.client(raw, online=True, now=now) for raw in online)}
        for raw in known:
            mac = str(raw.get("mac", "")).lower()
            if mac and mac not in found:
                found[mac] = convert.client(raw, online=False, now=now)
        return sorted(found.values(), key=lambda c: (c.name or c.hostname or c.mac).lower())

    async def list_clients(
        self, *, include_offline: bool = False, contains: str | None = None
    ) -> list[ClientInfo]:
        clients = await self._clients(include_offline)
        if contains:
            needle = contains.strip().lower()
            clients = [
                c
                for c in clients
                if any(needle in v.lower() for v in (c.name, c.hostname, c.ip, c.mac))
            ]
        return clients

    async def list_devices(self) -> list[DeviceInfo]:
        async def fetch(controller: Controller) -> list[Raw]:
            return await self._data(controller, DeviceListRequest.create())

        devices = [convert.device(raw) for raw in await self._call(fetch)]
        return sorted(devices, key=lambda d: (d.name or d.mac).lower())

    async def _wlans_raw(self) -> list[Raw]:
        async def fetch(controller: Controller) -> list[Raw]:
            return await self._data(controller, WlanListRequest.create())

        return await self._call(fetch)

    async def list_wlans(self) -> list[WlanInfo]:
        return sorted(
            (convert.wlan(raw) for raw in await self._wlans_raw()), key=lambda w: w.name.lower()
        )

    async def list_port_forwards(self) -> list[PortForwardInfo]:
        async def fetch(controller: Controller) -> list[Raw]:
            return await self._data(controller, PortForwardListRequest.create())

        rules = [convert.port_forward(raw) for raw in await self._call(fetch)]
        return sorted(rules, key=lambda r: r.name.lower())

    # -- finding what a person named ----------------------------------------------------------

    async def _find_client(self, reference: str) -> ClientInfo:
        clients = await self._clients(include_offline=True)
        mac = _normal_mac(reference)
        for client in clients:
            if client.mac == mac:
                return client
        wanted = reference.strip().lower()
        named = [c for c in clients if wanted in (c.name.lower(), c.hostname.lower())]
        if len(named) > 1:
            macs = ", ".join(f"{c.mac} ({c.ip or 'offline'})" for c in named)
            raise InvalidArgumentError(
                f"{len(named)} clients are named {reference!r}: {macs}. Give the MAC address."
            )
        if not named:
            raise NotFoundError("client", reference, {c.name or c.hostname for c in clients} - {""})
        return named[0]

    async def _find_device(self, reference: str) -> DeviceInfo:
        devices = await self.list_devices()
        mac = _normal_mac(reference)
        wanted = reference.strip().lower()
        named = [d for d in devices if d.mac == mac or d.name.lower() == wanted]
        if len(named) > 1:
            macs = ", ".join(d.mac for d in named)
            raise InvalidArgumentError(
                f"{len(named)} devices are named {reference!r}: {macs}. Give the MAC address."
            )
        if not named:
            raise NotFoundError("device", reference, {d.name for d in devices} - {""})
        return named[0]

    async def _find_wlan(self, reference: str) -> WlanInfo:
        wlans = await self.list_wlans()
        wanted = reference.strip().lower()
        named = [w for w in wlans if w.id == reference.strip() or w.name.lower() == wanted]
        if not named:
            raise NotFoundError("Wi-Fi network", reference, {w.name for w in wlans})
        if len(named) > 1:
            ids = ", ".join(w.id for w in named)
            raise InvalidArgumentError(
                f"{len(named)} Wi-Fi networks are named {reference!r}: {ids}. Give the id."
            )
        return named[0]

    # -- commands -----------------------------------------------------------------------------

    async def _command(self, request: ApiRequest) -> None:
        async def send(controller: Controller) -> None:
            await controller.request(request)

        await self._call(send)

    async def set_client_blocked(self, reference: str, blocked: bool) -> ActionResult:
        client = await self._find_client(reference)
        name = client.name or client.hostname or client.mac
        action = "block_client" if blocked else "unblock_client"
        if client.blocked == blocked:
            state = "blocked" if blocked else "not blocked"
            return ActionResult(
                action=action, target=name, target_id=client.mac, done=True,
                detail=f"{name} was already {state}; nothing changed.",
            )  # fmt: skip
        await self._command(ClientBlockRequest.create(client.mac, block=blocked))
        detail = (
            f"{name} is cut off from the network until unblocked."
            if blocked
            else f"{name} may join the network again; it reconnects on its own."
        )
        return ActionResult(
            action=action, target=name, target_id=client.mac, done=True, detail=detail
        )

    async def reconnect_client(self, reference: str) -> ActionResult:
        client = await self._find_client(reference)
        name = client.name or client.hostname or client.mac
        if not client.online:
            raise InvalidArgumentError(f"{name} is not connected, so it cannot be reconnected.")
        if client.wired:
            raise InvalidArgumentError(
                f"{name} is wired; only Wi-Fi clients can be made to reconnect."
            )
        await self._command(ClientReconnectRequest.create(client.mac))
        return ActionResult(
            action="reconnect_client", target=name, target_id=client.mac, done=True,
            detail=f"{name} was disconnected from Wi-Fi and should rejoin within seconds.",
        )  # fmt: skip

    async def restart_device(self, reference: str) -> ActionResult:
        device = await self._find_device(reference)
        await self._command(DeviceRestartRequest.create(device.mac, soft=True))
        return ActionResult(
            action="restart_device", target=device.name or device.mac, target_id=device.mac,
            done=True,
            detail=f"The {device.kind} restarts now; what goes through it is down for a few "
            "minutes.",
        )  # fmt: skip

    async def set_wlan_enabled(self, reference: str, enabled: bool) -> ActionResult:
        wlan = await self._find_wlan(reference)
        action = "enable_wlan" if enabled else "disable_wlan"
        if wlan.enabled == enabled:
            state = "on" if enabled else "off"
            return ActionResult(
                action=action, target=wlan.name, target_id=wlan.id, done=True,
                detail=f"{wlan.name} was already {state}; nothing changed.",
            )  # fmt: skip
        await self._command(WlanEnableRequest.create(wlan.id, enable=enabled))
        detail = (
            f"{wlan.name} is broadcast again."
            if enabled
            else f"{wlan.name} is off: its clients are disconnected."
        )
        return ActionResult(
            action=action, target=wlan.name, target_id=wlan.id, done=True, detail=detail
        )
