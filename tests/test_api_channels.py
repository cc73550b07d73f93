"""Chat channel settings through the HTTP API: each kind validated by its own rules, secrets
encrypted in ``credentials`` and never sent back, and each person's settings theirs alone."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from api_support import Account, ApiHarness, count_rows, error_message
from sqlalchemy import select

from angie.db.credentials import CredentialStore
from angie.db.crypto import credential_box
from angie.db.models import ChannelSetting, Credential

CHANNELS = "/api/channels"
BOT_TOKEN = "xoxb-1234567890-abcdefghij-KLMNOP"
SIGNING = "8f14e45fceea167a5a36dedd4bea2543"


async def _secret(api: ApiHarness, account: Account, name: str) -> str | None:
    async with api.angie.services.database.session() as session:
        store = CredentialStore(session, credential_box(api.angie.settings.secret))
        return await store.get(name, user_id=account.id)


async def _slack(api: ApiHarness, account: Account) -> httpx.Response:
    return await api.client.put(
        f"{CHANNELS}/slack",
        json={
            "enabled": True,
            "config": {"default_channel": "#home"},
            "secrets": {"bot_token": BOT_TOKEN, "signing_secret": SIGNING},
        },
        headers=account.headers,
    )


async def test_list_shows_every_channel_unset(api: ApiHarness) -> None:
    sam = await api.signup("sam")

    listed = await api.client.get(CHANNELS, headers=sam.headers)

    assert listed.status_code == 200, listed.text
    page = listed.json()
    assert [c["channel"] for c in page["items"]] == ["slack", "discord", "email", "imessage"]
    assert page["total"] == 4
    for channel in page["items"]:
        assert (channel["enabled"], channel["configured"], channel["config"]) == (False, False, {})
        assert channel["secrets_set"] == []
        assert channel["missing"]
    email = next(c for c in page["items"] if c["channel"] == "email")
    assert email["missing"] == ["imap_host", "smtp_host", "address", "password"]


async def test_set_up_slack_keeps_the_secrets_encrypted_and_unseen(api: ApiHarness) -> None:
    sam = await api.signup("sam")

    response = await _slack(api, sam)

    assert response.status_code == 200, response.text
    slack = response.json()
    assert slack["channel"] == "slack"
    assert slack["enabled"] is True
    assert slack["configured"] is True
    assert slack["missing"] == []
    assert slack["config"] == {"default_channel": "#home"}
    assert slack["secrets_set"] == ["bot_token", "signing_secret"]
    assert BOT_TOKEN not in response.text
    assert SIGNING not in response.text
    read = await api.client.get(f"{CHANNELS}/slack", headers=sam.headers)
    assert read.json() == slack
    listed = await api.client.get(CHANNELS, headers=sam.headers)
    assert BOT_TOKEN not in listed.text
    async with api.angie.services.database.session() as session:
        rows = list(await session.scalars(select(Credential).where(Credential.user_id == sam.id)))
    assert sorted(r.name for r in rows) == [
        "channel.slack.bot_token",
        "channel.slack.signing_secret",
    ]
    assert all(BOT_TOKEN.encode() not in r.ciphertext for r in rows)
    assert await _secret(api, sam, "channel.slack.bot_token") == BOT_TOKEN


async def test_put_replaces_config_and_keeps_unmentioned_secrets(api: ApiHarness) -> None:
    sam = await api.signup("sam")
    await _slack(api, sam)

    response = await api.client.put(
        f"{CHANNELS}/slack",
        json={"config": {}, "secrets": {"signing_secret": None, "app_token": "xapp-1-A0B1-C2D3E4"}},
        headers=sam.headers,
    )

    assert response.status_code == 200, response.text
    slack = response.json()
    assert slack["config"] == {}
    assert slack["secrets_set"] == ["app_token", "bot_token"]
    assert slack["configured"] is True
    assert await _secret(api, sam, "channel.slack.signing_secret") is None
    assert await _secret(api, sam, "channel.slack.bot_token") == BOT_TOKEN


async def test_switch_a_channel_off(api: ApiHarness) -> None:
    sam = await api.signup("sam")
    await _slack(api, sam)

    response = await api.client.put(
        f"{CHANNELS}/slack", json={"enabled": False}, headers=sam.headers
    )

    assert response.status_code == 200, response.text
    assert response.json()["enabled"] is False
    assert response.json()["secrets_set"] == ["bot_token", "signing_secret"]


@pytest.mark.parametrize(
    ("kind", "body"),
    [
        (
            "discord",
            {"config": {"guild_id": "123456789012345678"}, "secrets": {"bot_token": "M" * 59}},
        ),
        (
            "email",
            {
                "config": {
                    "imap_host": "imap.home.test",
                    "imap_port": 993,
                    "smtp_host": "smtp.home.test",
                    "smtp_port": 587,
                    "address": "Sam@Home.test",
                    "username": "sam",
                },
                "secrets": {"password": "hunter2 but longer"},
            },
        ),
        (
            "imessage",
            {
                "config": {"server_url": "https://bluebubbles.home.test:1234/"},
                "secrets": {"password": "pw", "webhook_secret": "a-long-random-webhook-secret"},
            },
        ),
    ],
)
async def test_set_up_each_kind(api: ApiHarness, kind: str, body: dict[str, Any]) -> None:
    sam = await api.signup("sam")

    response = await api.client.put(f"{CHANNELS}/{kind}", json=body, headers=sam.headers)

    assert response.status_code == 200, response.text
    channel = response.json()
    assert channel["configured"] is True, channel
    assert channel["secrets_set"] == sorted(body["secrets"])
    for value in body["secrets"].values():
        assert value not in response.text
    if kind == "email":
        assert channel["config"]["address"] == "sam@home.test"
    if kind == "imessage":
        assert channel["config"]["server_url"] == "https://bluebubbles.home.test:1234"


BAD_SETTINGS: list[tuple[str, dict[str, Any], str]] = [
    ("slack", {"config": {"channel": "#home"}}, "config.channel"),
    ("slack", {"secrets": {"bot_token": "xapp-not-a-bot"}}, "secrets.bot_token"),
    ("slack", {"secrets": {"api_key": "sk-not-for-you"}}, "secrets.api_key"),
    ("slack", {"colour": "red"}, "colour"),
    ("slack", {"enabled": None}, "enabled"),
    ("discord", {"config": {"guild_id": "my-guild"}}, "config.guild_id"),
    ("email", {"config": {"imap_port": 70000}}, "config.imap_port"),
    ("email", {"config": {"address": "not an address"}}, "config.address"),
    ("email", {"config": {"smtp_host": "smtp host"}}, "config.smtp_host"),
    ("imessage", {"config": {"server_url": "ftp://bb.home.test"}}, "config.server_url"),
    ("imessage", {"config": {"server_url": "bluebubbles"}}, "config.server_url"),
    ("imessage", {"config": "https://bb.home.test"}, "config"),
]


async def test_bad_settings_are_refused_and_nothing_is_written(api: ApiHarness) -> None:
    sam = await api.signup("sam")

    for kind, body, why in BAD_SETTINGS:
        response = await api.client.put(f"{CHANNELS}/{kind}", json=body, headers=sam.headers)
        assert why in error_message(response, 422), (kind, body)
        for secret in (body.get("secrets") or {}).values():
            assert secret not in response.text  # a refused secret is not echoed either

    assert await count_rows(api, ChannelSetting) == 0
    assert await count_rows(api, Credential) == 0


async def test_an_unknown_kind_names_the_channels(api: ApiHarness) -> None:
    sam = await api.signup("sam")

    for kind in ("telegram", "web"):
        for response in (
            await api.client.get(f"{CHANNELS}/{kind}", headers=sam.headers),
            await api.client.put(f"{CHANNELS}/{kind}", json={}, headers=sam.headers),
            await api.client.delete(f"{CHANNELS}/{kind}", headers=sam.headers),
        ):
            assert "slack, discord, email, imessage" in error_message(response, 404)
    assert await count_rows(api, ChannelSetting) == 0


async def test_delete_forgets_the_settings_and_secrets(api: ApiHarness) -> None:
    sam = await api.signup("sam")
    await _slack(api, sam)

    deleted = await api.client.delete(f"{CHANNELS}/slack", headers=sam.headers)

    assert deleted.status_code == 204
    assert await count_rows(api, ChannelSetting) == 0
    assert await count_rows(api, Credential) == 0
    slack = (await api.client.get(f"{CHANNELS}/slack", headers=sam.headers)).json()
    assert (slack["enabled"], slack["secrets_set"]) == (False, [])
    assert "have not set up slack" in error_message(
        await api.client.delete(f"{CHANNELS}/slack", headers=sam.headers), 404
    )


async def test_channels_are_each_persons_own(api: ApiHarness) -> None:
    await api.signup("admin")
    ana = await api.signup("ana")
    ben = await api.signup("ben")
    await _slack(api, ana)

    bens_list = await api.client.get(CHANNELS, headers=ben.headers)
    bens_slack = await api.client.get(f"{CHANNELS}/slack", headers=ben.headers)
    bens_delete = await api.client.delete(f"{CHANNELS}/slack", headers=ben.headers)
    bens_own = await api.client.put(
        f"{CHANNELS}/slack",
        json={"secrets": {"bot_token": "xoxb-ben-0000000000"}},
        headers=ben.headers,
    )

    slack = next(c for c in bens_list.json()["items"] if c["channel"] == "slack")
    assert (slack["enabled"], slack["config"], slack["secrets_set"]) == (False, {}, [])
    assert bens_slack.json()["secrets_set"] == []
    error_message(bens_delete, 404)
    assert bens_own.json()["secrets_set"] == ["bot_token"]
    assert bens_own.json()["config"] == {}
    anas = (await api.client.get(f"{CHANNELS}/slack", headers=ana.headers)).json()
    assert anas["secrets_set"] == ["bot_token", "signing_secret"]
    assert anas["config"] == {"default_channel": "#home"}
    assert await _secret(api, ana, "channel.slack.bot_token") == BOT_TOKEN
    assert await _secret(api, ben, "channel.slack.bot_token") == "xoxb-ben-0000000000"


async def test_a_saved_channel_says_whether_it_is_connected(api: ApiHarness) -> None:
    """Saved is not connected: until an adapter in this Angie runs the channel and reports,
    the channel says so; afterwards it shows what the adapter last reported, per person."""
    from angie.channel_states import Connection

    states = api.angie.services.channels
    # As in a process that runs no channels (``angie api`` beside a daemon).
    states.running("slack", on=False)
    sam, lee = await api.signup("sam"), await api.signup("lee")
    saved = (await _slack(api, sam)).json()
    assert saved["connection"] == "not_running"
    assert saved["connection_detail"] == "Angie does not run the slack channel"
    unset = (await api.client.get(f"{CHANNELS}/discord", headers=sam.headers)).json()
    assert (unset["connection"], unset["connection_detail"]) == ("off", None)

    states.running("slack")
    starting = (await api.client.get(f"{CHANNELS}/slack", headers=sam.headers)).json()
    assert starting["connection"] == "connecting"
    states.report(sam.id, "slack", Connection.FAILED, "invalid_auth")
    failed = (await api.client.get(f"{CHANNELS}/slack", headers=sam.headers)).json()
    assert (failed["connection"], failed["connection_detail"]) == ("failed", "invalid_auth")
    states.report(sam.id, "slack", Connection.CONNECTED)
    listed = (await api.client.get(CHANNELS, headers=sam.headers)).json()["items"]
    assert next(c for c in listed if c["channel"] == "slack")["connection"] == "connected"
    # Another person's report is theirs: Lee has not switched Slack on.
    lees = (await api.client.get(f"{CHANNELS}/slack", headers=lee.headers)).json()
    assert lees["connection"] == "off"
    off = await api.client.put(f"{CHANNELS}/slack", json={"enabled": False}, headers=sam.headers)
    assert off.json()["connection"] == "off"
    states.running("slack", on=False)
    on = await api.client.put(f"{CHANNELS}/slack", json={"enabled": True}, headers=sam.headers)
    assert on.json()["connection"] == "not_running"
