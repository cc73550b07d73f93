"""A fake UniFi Network controller on 127.0.0.1 (TLS) for the real aiounifi, with failures.

It speaks UniFi OS (``/api/auth/login``, a TOKEN cookie and an X-CSRF-Token for changes,
``/proxy/network/api/s/<site>/…``) or, with ``unifi_os=False``, the older standalone
controller (``/api/login``, a ``unifises`` cookie, ``/api/s/<site>/…``); it can expire every
session, go down and come back like a restarting console, and push websocket events.
Angie's tests and ``angie serve --demo`` run the real UniFi server against it.
"""

from __future__ import annotations

import copy
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from angie_mcp_core.fakes import FakeService, Reply, Request
from angie_mcp_unifi.certificates import LocalCertificate
from angie_mcp_unifi.fake_events import EventStreams

__all__ = ("PASSWORD", "USERNAME", "FakeUnifiController", "demo")

USERNAME = "angie"
# Distinctive so tests can assert it never leaks into an answer or a log.
PASSWORD = "s3cret-unifi-pw-Qx8vL2mZ"
VERSION = "9.0.114"
_OS_PREFIX = "/proxy/network"


def _home(now: int) -> dict[str, list[dict[str, Any]]]:
    """A realistic home: a gateway, a switch, two access points (one missing), six clients."""
    day = 86_400
    devices = [
        {"_id": "d1", "device_id": "d1", "mac": "74:ac:b9:00:00:01", "name": "Dream Machine",
         "type": "udm", "model": "UDMPRO", "ip": "192.168.1.1", "state": 1, "adopted": True,
         "uptime": 12 * day, "version": "4.0.21", "upgradable": False, "num_sta": 6,
         "last_seen": now - 5},
        {"_id": "d2", "device_id": "d2", "mac": "74:ac:b9:00:00:02", "name": "Office switch",
         "type": "usw", "model": "USL8LP", "ip": "192.168.1.2", "state": 1, "adopted": True,
         "uptime": 3 * day, "version": "7.1.26", "upgradable": True,
         "upgrade_to_firmware": "7.1.30", "num_sta": 2, "last_seen": now - 8},
        {"_id": "d3", "device_id": "d3", "mac": "74:ac:b9:00:00:03", "name": "Living room AP",
         "type": "uap", "model": "U6LR", "ip": "192.168.1.3", "state": 1, "adopted": True,
         "uptime": 3 * day, "version": "6.6.77", "upgradable": False, "num_sta": 3,
         "last_seen": now - 3},
        {"_id": "d4", "device_id": "d4", "mac": "74:ac:b9:00:00:04", "name": "Garden AP",
         "type": "uap", "model": "UAPACM", "ip": "192.168.1.4", "state": 0, "adopted": True,
         "uptime": 0, "version": "6.5.62", "upgradable": True, "upgrade_to_firmware": "6.6.77",
         "num_sta": 0, "last_seen": now - 2 * day},
    ]  # fmt: skip
    wifi = {"is_wired": False, "ap_mac": "74:ac:b9:00:00:03", "is_guest": False}
    online = [
        {"mac": "a4:83:e7:11:22:01", "name": "Sam's iPhone", "hostname": "Sams-iPhone",
         "ip": "192.168.1.41", "essid": "Home", **wifi, "first_seen": now - 200 * day,
         "last_seen": now - 10, "assoc_time": now - 3_600, "latest_assoc_time": now - 3_600,
         "uptime": 3_600, "rx_bytes": 52_000_000, "tx_bytes": 410_000_000},
        {"mac": "3c:22:fb:11:22:02", "name": "Work laptop", "hostname": "WORK-LT-0042",
         "ip": "192.168.1.42", "essid": "Home", **wifi, "first_seen": now - 90 * day,
         "last_seen": now - 4, "assoc_time": now - 7_200, "latest_assoc_time": now - 7_200,
         "uptime": 7_200, "rx_bytes": 1_200_000_000, "tx_bytes": 3_400_000_000},
        {"mac": "f0:18:98:11:22:03", "hostname": "android-5f1c", "ip": "192.168.2.17",
         "essid": "Home-Guest", **(wifi | {"is_guest": True}), "first_seen": now - 1_800,
         "last_seen": now - 30, "assoc_time": now - 1_800, "uptime": 1_800,
         "rx_bytes": 2_000_000, "tx_bytes": 15_000_000},
        {"mac": "00:11:32:11:22:04", "name": "Living room TV", "hostname": "LG-webOS-TV",
         "ip": "192.168.1.20", "is_wired": True, "sw_mac": "74:ac:b9:00:00:02", "sw_port": 3,
         "first_seen": now - 400 * day, "last_seen": now - 2, "uptime": 5 * day,
         "wired-rx_bytes": 900_000_000, "wired-tx_bytes": 80_000_000_000},
        {"mac": "b8:27:eb:11:22:05", "name": "Plex server", "hostname": "plex",
         "ip": "192.168.1.21", "is_wired": True, "sw_mac": "74:ac:b9:00:00:02", "sw_port": 4,
         "first_seen": now - 700 * day, "last_seen": now - 1, "uptime": 12 * day,
         "wired-rx_bytes": 40_000_000_000, "wired-tx_bytes": 2_500_000_000},
    ]  # fmt: skip
    offline = [
        {"_id": "u6", "mac": "d0:03:4b:11:22:06", "name": "Old tablet", "hostname": "iPad",
         "is_wired": False, "first_seen": now - 800 * day, "last_seen": now - 30 * day,
         "blocked": True},
        {"_id": "u7", "mac": "e8:4e:06:11:22:07", "hostname": "kindle", "is_wired": False,
         "first_seen": now - 300 * day, "last_seen": now - 3 * day},
    ]  # fmt: skip
    wlans = [
        {"_id": "w1", "name": "Home", "enabled": True, "security": "wpapsk", "is_guest": False,
         "hide_ssid": False, "x_passphrase": "correct-horse-battery", "site_id": "s1"},
        {"_id": "w2", "name": "Home-Guest", "enabled": True, "security": "wpapsk",
         "is_guest": True, "hide_ssid": False, "x_passphrase": "welcome-guests", "site_id": "s1"},
        {"_id": "w3", "name": "IoT", "enabled": True, "security": "wpapsk", "is_guest": False,
         "hide_ssid": True, "x_passphrase": "iot-things-2024", "site_id": "s1"},
    ]  # fmt: skip
    forwards = [
        {"_id": "p1", "name": "Plex", "enabled": True, "proto": "tcp", "dst_port": "32400",
         "fwd": "192.168.1.21", "fwd_port": "32400", "src": "any", "pfwd_interface": "wan",
         "site_id": "s1"},
        {"_id": "p2", "name": "Minecraft", "enabled": False, "proto": "tcp_udp",
         "dst_port": "25565", "fwd": "192.168.1.42", "fwd_port": "25565", "src": "any",
         "pfwd_interface": "wan", "site_id": "s1"},
    ]  # fmt: skip
    return {
        "devices": devices, "online": online, "offline": offline, "wlans": wlans,
        "forwards": forwards,
    }  # fmt: skip


def _meta_error(status: int, message: str) -> Reply:
    return Reply.json(status, {"meta": {"rc": "error", "msg": message}, "data": []})


def _ok(data: list[dict[str, Any]]) -> Reply:
    return Reply.json(200, {"meta": {"rc": "ok"}, "data": data})


def _cookies(header: str) -> dict[str, str]:
    # aiounifi replays the login's whole Set-Cookie line (with path=/; secure…) as Cookie.
    found: dict[str, str] = {}
    for part in header.replace(",", ";").split(";"):
        name, sep, value = part.strip().partition("=")
        if sep and name not in found:
            found[name] = value
    return found


class FakeUnifiController(FakeService):
    """``with FakeUnifiController() as fake:``, then point the server at ``fake.port``.

    State (``devices``, ``online``, ``offline``, ``wlans``, ``forwards``) is plain JSON as
    the controller sends it; change it under :attr:`lock`. ``commands`` lists every accepted
    command body. ``logins`` counts successful logins. :meth:`expire_sessions`,
    :meth:`go_down` / :meth:`come_up` and :meth:`push` (a websocket event) drive the rest;
    ``inject`` from the kit forces any status. ``ca_pem``/:meth:`write_ca` is what a client
    trusts.
    """

    keep_alive = True

    def __init__(
        self,
        *,
        unifi_os: bool = True,
        site: str = "default",
        username: str = USERNAME,
        password: str = PASSWORD,
    ) -> None:
        super().__init__()
        self.unifi_os = unifi_os
        self.site = site
        self.username = username
        self.password = password
        self.certificate = LocalCertificate.create()
        self._server.socket = self.certificate.server_context().wrap_socket(
            self._server.socket, server_side=True
        )
        state = _home(int(time.time()))
        self.devices = state["devices"]
        self.online = state["online"]
        self.offline = state["offline"]
        self.wlans = state["wlans"]
        self.forwards = state["forwards"]
        self.commands: list[dict[str, Any]] = []
        self.logins = 0
        self.down = False
        # session token -> its CSRF token
        self._sessions: dict[str, str] = {}
        self.events = EventStreams(self)

    # -- control ------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"https://{self.host}"

    @property
    def open_connections(self) -> int:
        """Client connections the fake holds open now (keep-alive and event streams)."""
        with self.lock:
            return len(self._connections)

    @property
    def ca_pem(self) -> bytes:
        return self.certificate.ca_pem

    def write_ca(self, path: Path) -> Path:
        """Write the certificate a client should trust to ``path``; returns it."""
        path.write_bytes(self.ca_pem)
        return path

    def expire_sessions(self) -> None:
        """Every logged-in session ends, as when its cookie expires; the next call gets 401."""
        with self.lock:
            self._sessions.clear()
        self.events.close_all()

    def go_down(self) -> None:
        """The console restarts: sessions are lost, websockets drop, every request gets 503."""
        with self.lock:
            self.down = True
            self._sessions.clear()
        self.events.close_all()

    def come_up(self) -> None:
        with self.lock:
            self.down = False

    def push(self, message: str, data: list[dict[str, Any]]) -> None:
        """Send a websocket event (``{"meta": {"rc": "ok", "message": …}, "data": …}``) to
        every open event stream, e.g. ``push("sta:sync", [client])``."""
        self.events.send({"meta": {"rc": "ok", "message": message}, "data": data})

    def session_valid(self, headers: dict[str, str]) -> str | None:
        """The session token a request carries, if the fake knows it (call with lock held)."""
        cookies = _cookies(headers.get("cookie", ""))
        token = cookies.get("TOKEN" if self.unifi_os else "unifises")
        return token if token in self._sessions else None

    # -- the controller -----------------------------------------------------------------------

    def answer(self, request: Request) -> Reply:
        if self.down:
            return Reply(503, b"<html>Service Unavailable</html>", {"Content-Type": "text/html"})
        path = request.path.rstrip("/") or "/"
        if path == "/" and request.method == "GET":
            # aiounifi tells UniFi OS (200) from a standalone controller (a redirect) here.
            if self.unifi_os:
                return Reply(200, b"<html>UniFi OS</html>", {"Content-Type": "text/html"})
            return Reply(302, b"", {"Location": "/manage"})
        login = "/api/auth/login" if self.unifi_os else "/api/login"
        if path == login and request.method == "POST":
            return self._login(request)
        prefix = _OS_PREFIX if self.unifi_os else ""
        if not path.startswith(f"{prefix}/api/"):
            return Reply.json(404, {"error": "not found"})
        token = self.session_valid(request.headers)
        if token is None:
            return _meta_error(401, "api.err.LoginRequired")
        # UniFi OS wants the login's CSRF token on every change, as a header.
        csrf = request.headers.get("x-csrf-token")
        if self.unifi_os and request.method != "GET" and csrf != self._sessions[token]:
            return Reply.json(403, {"error": "invalid CSRF token"})
        rest = path.removeprefix(f"{prefix}/api")
        if rest == "/self/sites" and request.method == "GET":
            return _ok([{"_id": "s1", "name": self.site, "desc": "Home", "role": "admin",
                         "attr_hidden_id": self.site, "attr_no_delete": True}])  # fmt: skip
        site_prefix = f"/s/{self.site}/"
        if not rest.startswith(site_prefix):
            return _meta_error(400, "api.err.NoSiteContext")
        return self._site(request, rest.removeprefix(site_prefix))

    def _login(self, request: Request) -> Reply:
        try:
            body = request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or {"username", "password"} - body.keys():
            return Reply.json(400, {"error": "username and password are required"})
        if (body["username"], body["password"]) != (self.username, self.password):
            if self.unifi_os:
                return Reply.json(401, {"code": "AUTHENTICATION_FAILED_INVALID_CREDENTIALS"})
            return _meta_error(400, "api.err.Invalid")
        token, csrf = secrets.token_urlsafe(24), secrets.token_hex(16)
        self._sessions[token] = csrf
        self.logins += 1
        if self.unifi_os:
            headers = {
                "Set-Cookie": f"TOKEN={token}; path=/; samesite=none; secure; httponly",
                "X-CSRF-Token": csrf,
            }
            return Reply.json(200, {"username": self.username, "isOwner": False}, headers)
        headers = {"Set-Cookie": f"unifises={token}; Path=/; Secure; HttpOnly"}
        return Reply.json(200, {"meta": {"rc": "ok"}, "data": []}, headers)

    def _site(self, request: Request, rest: str) -> Reply:
        if request.method == "GET":
            found = self._read(rest)
            return Reply.json(404, {"error": "not found"}) if found is None else _ok(found)
        try:
            body = request.json()
        except ValueError:
            return _meta_error(400, "api.err.InvalidPayload")
        if not isinstance(body, dict):
            return _meta_error(400, "api.err.InvalidPayload")
        if request.method == "POST" and rest == "cmd/stamgr":
            return self._stamgr(body)
        if request.method == "POST" and rest == "cmd/devmgr":
            return self._devmgr(body)
        if request.method == "PUT" and rest.startswith("rest/wlanconf/"):
            return self._wlan(rest.removeprefix("rest/wlanconf/"), body)
        return Reply.json(404, {"error": "not found"})

    def _read(self, rest: str) -> list[dict[str, Any]] | None:
        match rest:
            case "stat/sysinfo":
                return [{"version": VERSION, "name": "Home", "timezone": "UTC"}]
            case "stat/sta":
                return copy.deepcopy(self.online)
            case "rest/user":
                keys = ("mac", "name", "hostname", "is_wired", "first_seen", "last_seen")
                known = [{k: c[k] for k in (*keys, "blocked") if k in c} for c in self.online]
                return copy.deepcopy(self.offline) + known
            case "stat/device":
                return copy.deepcopy(self.devices)
            case "rest/wlanconf":
                return copy.deepcopy(self.wlans)
            case "rest/portforward":
                return copy.deepcopy(self.forwards)
        return None

    def _stamgr(self, body: dict[str, Any]) -> Reply:
        command, mac = body.get("cmd"), str(body.get("mac", "")).lower()
        if command not in ("block-sta", "unblock-sta", "kick-sta"):
            return _meta_error(400, "api.err.InvalidCommand")
        online = next((c for c in self.online if c["mac"] == mac), None)
        known = online or next((c for c in self.offline if c["mac"] == mac), None)
        if known is None or (command == "kick-sta" and online is None):
            return _meta_error(400, "api.err.UnknownStation")
        self.commands.append(body)
        if command == "kick-sta":
            return _ok([])
        known["blocked"] = command == "block-sta"
        if known["blocked"] and online is not None:
            # A blocked client is thrown off at once and stays only in the known list.
            self.online.remove(online)
            self.offline.append(online | {"_id": f"u-{mac}"})
        return _ok([copy.deepcopy(known)])

    def _devmgr(self, body: dict[str, Any]) -> Reply:
        mac = str(body.get("mac", "")).lower()
        device = next((d for d in self.devices if d["mac"] == mac), None)
        if body.get("cmd") != "restart":
            return _meta_error(400, "api.err.InvalidCommand")
        if device is None:
            return _meta_error(400, "api.err.UnknownDevice")
        self.commands.append(body)
        device.update(state=5, uptime=0)  # provisioning while it boots
        return _ok([])

    def _wlan(self, wlan_id: str, body: dict[str, Any]) -> Reply:
        wlan = next((w for w in self.wlans if w["_id"] == wlan_id), None)
        if wlan is None:
            return _meta_error(400, "api.err.IdInvalid")
        if set(body) - {"enabled", "x_passphrase", "name"} or not body:
            return _meta_error(400, "api.err.InvalidPayload")
        if "enabled" in body and not isinstance(body["enabled"], bool):
            return _meta_error(400, "api.err.InvalidPayload")
        self.commands.append({"wlan": wlan_id, **body})
        wlan.update(body)
        return _ok([copy.deepcopy(wlan)])


@contextmanager
def demo(state_dir: Path) -> Iterator[dict[str, str]]:
    """A demo home's UniFi OS console on 127.0.0.1 while the block runs; yields the UniFi
    server's settings that reach it (trusting its certificate, written to ``state_dir``)."""
    with FakeUnifiController() as fake:
        ca = fake.write_ca(state_dir / "unifi-ca.pem")
        yield {
            "ANGIE_UNIFI_CONTROLLER_HOST": "127.0.0.1",
            "ANGIE_UNIFI_CONTROLLER_PORT": str(fake.port),
            "ANGIE_UNIFI_USERNAME": fake.username,
            "ANGIE_UNIFI_PASSWORD": fake.password,
            "ANGIE_UNIFI_CA_FILE": str(ca),
        }
