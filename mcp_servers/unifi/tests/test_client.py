"""The UniFi client through the real aiounifi against the fake controller on 127.0.0.1 (TLS)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from angie_mcp_unifi.client import UnifiClient
from angie_mcp_unifi.settings import UnifiSettings
from angie_mcp_unifi.testing import PASSWORD, FakeUnifiController
from pydantic import SecretStr

from angie_mcp_core.errors import (
    InvalidArgumentError,
    NotConfiguredError,
    NotFoundError,
    UnauthorizedError,
    UpstreamError,
    UpstreamTimeoutError,
)
from angie_mcp_core.fakes import Reply

MakeSettings = Callable[..., UnifiSettings]
SAMS_PHONE = "a4:83:e7:11:22:01"
TV = "00:11:32:11:22:04"


async def _until(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    async with asyncio.timeout(seconds):
        while not condition():  # noqa: ASYNC110 - the fake's threads have no asyncio.Event
            await asyncio.sleep(0.01)


def _changes(fake: FakeUnifiController) -> list[Any]:
    return [r for r in fake.log if r.method in ("POST", "PUT") and "/login" not in r.path]


# Reading --------------------------------------------------------------------------------------


async def test_list_clients_gives_who_is_online_since_when_and_their_traffic(
    client: UnifiClient,
) -> None:
    clients = {c.mac: c for c in await client.list_clients()}

    phone = clients[SAMS_PHONE]
    assert (phone.name, phone.ip, phone.wired, phone.network) == (
        "Sam's iPhone",
        "192.168.1.41",
        False,
        "Home",
    )
    assert phone.online
    assert not phone.blocked
    assert phone.connected_since is not None
    hour_ago = datetime.now(UTC) - timedelta(hours=1)
    assert abs((phone.connected_since - hour_ago).total_seconds()) < 120
    assert (phone.received_bytes, phone.sent_bytes) == (52_000_000, 410_000_000)
    tv = clients[TV]
    assert (tv.wired, tv.network, tv.sent_bytes) == (True, "", 80_000_000_000)
    assert "d0:03:4b:11:22:06" not in clients  # the blocked tablet is offline


async def test_a_client_without_a_name_is_known_by_its_host_name(client: UnifiClient) -> None:
    [guest] = await client.list_clients(contains="192.168.2.17")

    assert (guest.name, guest.hostname, guest.guest) == ("android-5f1c", "android-5f1c", True)


async def test_include_offline_adds_remembered_and_blocked_clients(client: UnifiClient) -> None:
    clients = {c.name: c for c in await client.list_clients(include_offline=True)}

    tablet = clients["Old tablet"]
    assert (tablet.online, tablet.blocked, tablet.ip, tablet.connected_since) == (
        False,
        True,
        "",
        None,
    )
    assert "kindle" in clients
    assert "Sam's iPhone" in clients


async def test_list_devices_reports_health_uptime_and_firmware(client: UnifiClient) -> None:
    devices = {d.name: d for d in await client.list_devices()}

    assert devices["Dream Machine"].kind == "gateway"
    assert devices["Dream Machine"].uptime_seconds == 12 * 86_400
    assert devices["Office switch"].upgrade_available == "7.1.30"
    garden = devices["Garden AP"]
    assert (garden.kind, garden.state, garden.healthy, garden.uptime_seconds) == (
        "access point",
        "disconnected",
        False,
        0,
    )


async def test_list_wlans_never_returns_a_passphrase(client: UnifiClient) -> None:
    wlans = await client.list_wlans()

    assert [(w.name, w.guest, w.hidden) for w in wlans] == [
        ("Home", False, False),
        ("Home-Guest", True, False),
        ("IoT", False, True),
    ]
    dumped = "".join(w.model_dump_json() for w in wlans)
    assert "correct-horse" not in dumped
    assert "welcome-guests" not in dumped


async def test_list_port_forwards(client: UnifiClient) -> None:
    rules = {r.name: r for r in await client.list_port_forwards()}

    plex = rules["Plex"]
    assert (plex.enabled, plex.outside_port, plex.forward_to, plex.protocol) == (
        True,
        "32400",
        "192.168.1.21",
        "tcp",
    )
    assert rules["Minecraft"].enabled is False


# Changing ------------------------------------------------------------------------------------


async def test_block_client_by_name_sends_block_sta_with_the_csrf_token(
    client: UnifiClient, fake_unifi: FakeUnifiController
) -> None:
    result = await client.set_client_blocked("sam's iphone", True)

    assert (result.action, result.target_id, result.done) == ("block_client", SAMS_PHONE, True)
    assert fake_unifi.commands == [{"cmd": "block-sta", "mac": SAMS_PHONE}]
    [change] = _changes(fake_unifi)
    assert change.path == "/proxy/network/api/s/default/cmd/stamgr"
    assert change.headers.get("x-csrf-token")
    assert SAMS_PHONE not in {c.mac for c in await client.list_clients()}


async def test_unblock_client_finds_an_offline_blocked_client(
    client: UnifiClient, fake_unifi: FakeUnifiController
) -> None:
    result = await client.set_client_blocked("Old tablet", False)

    assert result.action == "unblock_client"
    assert fake_unifi.commands == [{"cmd": "unblock-sta", "mac": "d0:03:4b:11:22:06"}]


async def test_blocking_a_blocked_client_sends_nothing(
    client: UnifiClient, fake_unifi: FakeUnifiController
) -> None:
    result = await client.set_client_blocked("D0-03-4B-11-22-06", True)

    assert "already blocked" in result.detail
    assert fake_unifi.commands == []


async def test_reconnect_client_kicks_a_wifi_client(
    client: UnifiClient, fake_unifi: FakeUnifiController
) -> None:
    await client.reconnect_client(SAMS_PHONE.upper())

    assert fake_unifi.commands == [{"cmd": "kick-sta", "mac": SAMS_PHONE}]


@pytest.mark.parametrize(("name", "says"), [("Living room TV", "wired"), ("kindle", "not conn")])
async def test_reconnect_client_refuses_wired_and_offline_clients(
    client: UnifiClient, fake_unifi: FakeUnifiController, name: str, says: str
) -> None:
    with pytest.raises(InvalidArgumentError, match=says):
        await client.reconnect_client(name)
    assert fake_unifi.commands == []


async def test_restart_device_by_name_sends_a_soft_restart(
    client: UnifiClient, fake_unifi: FakeUnifiController
) -> None:
    result = await client.restart_device("living room ap")

    assert fake_unifi.commands == [
        {"cmd": "restart", "mac": "74:ac:b9:00:00:03", "reboot_type": "soft"}
    ]
    assert "access point" in result.detail


async def test_set_wlan_enabled_puts_only_the_enabled_flag(
    client: UnifiClient, fake_unifi: FakeUnifiController
) -> None:
    result = await client.set_wlan_enabled("home-guest", False)

    assert result.action == "disable_wlan"
    assert fake_unifi.commands == [{"wlan": "w2", "enabled": False}]
    [change] = _changes(fake_unifi)
    assert (change.method, change.path) == ("PUT", "/proxy/network/api/s/default/rest/wlanconf/w2")
    again = await client.set_wlan_enabled("Home-Guest", False)
    assert "already off" in again.detail
    assert len(fake_unifi.commands) == 1


async def test_an_unknown_client_gets_close_names(client: UnifiClient) -> None:
    with pytest.raises(NotFoundError, match='Did you mean "Sam\'s iPhone"'):
        await client.set_client_blocked("Sams iPhone", True)


async def test_two_clients_of_one_name_are_refused_with_their_macs(
    client: UnifiClient, fake_unifi: FakeUnifiController
) -> None:
    with fake_unifi.lock:
        twin = fake_unifi.online[0] | {"mac": "a4:83:e7:11:22:99", "ip": "192.168.1.99"}
        fake_unifi.online.append(twin)

    with pytest.raises(InvalidArgumentError, match=r"a4:83:e7:11:22:99 \(192.168.1.99\)"):
        await client.set_client_blocked("Sam's iPhone", True)
    assert fake_unifi.commands == []


# Sessions, restarts and failures ---------------------------------------------------------------


async def test_an_expired_session_logs_in_again_and_the_call_succeeds(
    client: UnifiClient, fake_unifi: FakeUnifiController
) -> None:
    await client.list_devices()
    fake_unifi.expire_sessions()

    await client.set_client_blocked(SAMS_PHONE, True)

    assert fake_unifi.logins == 2
    assert fake_unifi.commands == [{"cmd": "block-sta", "mac": SAMS_PHONE}]


async def test_a_restarting_controller_says_so_then_works_when_back(
    client: UnifiClient, fake_unifi: FakeUnifiController
) -> None:
    await client.list_clients()
    fake_unifi.go_down()

    with pytest.raises(UpstreamError, match="restarting or starting up; try again"):
        await client.list_clients()

    fake_unifi.come_up()
    assert await client.list_clients()
    assert fake_unifi.logins == 2


async def test_a_login_that_failed_during_a_restart_is_tried_again_on_the_next_call(
    client: UnifiClient, fake_unifi: FakeUnifiController
) -> None:
    await client.list_devices()
    fake_unifi.expire_sessions()
    # The re-login aiounifi makes after the 401 meets the console still starting.
    fake_unifi.inject(Reply(503), path="/api/auth/login")
    with pytest.raises(UpstreamError):
        await client.list_devices()

    assert await client.list_devices()
    assert fake_unifi.logins == 2


async def test_a_wrong_password_is_one_sentence_without_the_password(
    fake_unifi: FakeUnifiController, make_settings: MakeSettings
) -> None:
    unifi = UnifiClient(make_settings(fake_unifi, password=SecretStr("wrong-password-123")))
    try:
        with pytest.raises(UnauthorizedError, match="ANGIE_UNIFI_PASSWORD") as err:
            await unifi.list_clients()
    finally:
        await unifi.close()
    assert "wrong-password-123" not in str(err.value)
    assert PASSWORD not in str(err.value)


async def test_an_unconfigured_client_names_the_missing_settings() -> None:
    unifi = UnifiClient(UnifiSettings(_env_file=None))
    with pytest.raises(NotConfiguredError) as err:
        await unifi.list_devices()
    for name in ("CONTROLLER_HOST", "USERNAME", "PASSWORD"):
        assert f"ANGIE_UNIFI_{name}" in str(err.value)


async def test_a_self_signed_certificate_is_refused_unless_trusted(
    fake_unifi: FakeUnifiController, make_settings: MakeSettings
) -> None:
    checked = UnifiClient(make_settings(fake_unifi, ca_file=None))
    unchecked = UnifiClient(make_settings(fake_unifi, ca_file=None, verify_ssl=False))
    try:
        with pytest.raises(UpstreamError, match="ANGIE_UNIFI_CA_FILE"):
            await checked.list_devices()
        assert await unchecked.list_devices()
    finally:
        await checked.close()
        await unchecked.close()


async def test_a_standalone_controller_is_reached_without_unifi_os_paths(
    make_settings: MakeSettings,
) -> None:
    with FakeUnifiController(unifi_os=False) as fake:
        unifi = UnifiClient(make_settings(fake, controller_port=fake.port))
        try:
            await unifi.set_client_blocked("Work laptop", True)
        finally:
            await unifi.close()
    assert [r.path for r in fake.log if r.method == "POST"] == [
        "/api/login",
        "/api/s/default/cmd/stamgr",
    ]


async def test_an_unknown_site_names_the_setting(
    fake_unifi: FakeUnifiController, make_settings: MakeSettings
) -> None:
    unifi = UnifiClient(make_settings(fake_unifi, site="office"))
    try:
        with pytest.raises(UpstreamError, match="ANGIE_UNIFI_SITE"):
            await unifi.list_clients()
    finally:
        await unifi.close()


async def test_a_read_only_account_is_told_which_role_it_needs(
    client: UnifiClient, fake_unifi: FakeUnifiController
) -> None:
    no_permission = Reply.json(400, {"meta": {"rc": "error", "msg": "api.err.NoPermission"}})
    fake_unifi.inject(no_permission, path="/proxy/network/api/s/default/cmd/")

    with pytest.raises(UpstreamError, match="Site Admin"):
        await client.restart_device("Office switch")


async def test_a_controller_that_does_not_answer_in_time_times_out(
    fake_unifi: FakeUnifiController, make_settings: MakeSettings
) -> None:
    unifi = UnifiClient(make_settings(fake_unifi, timeout=0.5))
    fake_unifi.delay = 30
    try:
        with pytest.raises(UpstreamTimeoutError, match=r"0\.5 seconds"):
            await unifi.list_devices()
    finally:
        fake_unifi.release()
        await unifi.close()
        # The abandoned request's TLS connection closes once the fake has answered it; the
        # test's event loop must still run then, or the socket outlives it.
        await _until(lambda: fake_unifi.open_connections == 0)
        await asyncio.sleep(0.05)


async def test_a_login_logs_no_warning(
    unifi_settings: UnifiSettings, caplog: pytest.LogCaptureFixture
) -> None:
    """aiounifi's "Using SSL context" notice at every login is not a warning for the admin."""
    caplog.set_level(logging.WARNING)
    client = UnifiClient(unifi_settings)
    try:
        await client.list_devices()
    finally:
        await client.close()
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
