"""The channel settings models in angie_channels: one set of formats for the API and the CLI,
checked here directly (bad inputs refused with a message that says what is expected)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from angie_channels.kinds import KINDS
from angie_channels.settings import ChannelSettings, SettingError


def _refused(model: type[ChannelSettings], data: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(data)
    errors = caught.value.errors()
    return f"{'.'.join(str(p) for p in errors[0]['loc'])}: {errors[0]['msg']}"


def test_kinds_are_listed_in_the_order_people_see_them() -> None:
    assert list(KINDS) == ["slack", "discord", "email", "imessage"]


_URL = "must be an http:// or https:// URL of the BlueBubbles server"
BAD_VALUES: list[tuple[str, str, Any, str]] = [
    ("slack", "bot_token", "xoxp-user-token-1234", "must be a bot token (xoxb-…)"),
    ("slack", "app_token", "xoxb-1234567890", "must be an app token (xapp-…)"),
    ("slack", "signing_secret", "short", "must be the app's signing secret"),
    ("slack", "default_channel", "#two words", "must be a channel such as #home"),
    ("discord", "guild_id", "my-guild", "must be the server's id (digits)"),
    ("discord", "bot_token", "not a token", "must be a Discord bot token"),
    ("email", "imap_port", 70000, "Input should be less than or equal to 65535"),
    (
        "email",
        "smtp_port",
        "smtp",
        "Input should be a valid integer, unable to parse string as an integer",
    ),
    ("email", "smtp_host", "smtp host", "must be a host name or address"),
    ("email", "username", "", "String should have at least 1 character"),
    ("email", "password", "", "String should have at least 1 character"),
    ("imessage", "server_url", "ftp://bb.home.test", _URL),
    ("imessage", "server_url", "bluebubbles", _URL),
    ("imessage", "webhook_secret", "too-short", "String should have at least 16 characters"),
]


@pytest.mark.parametrize(("kind", "name", "value", "expected"), BAD_VALUES)
def test_bad_values_are_refused_with_what_is_expected(
    kind: str, name: str, value: Any, expected: str
) -> None:
    spec = KINDS[kind]
    model = spec.secrets if name in spec.secrets.model_fields else spec.settings
    where, message = _refused(model, {name: value}).split(": ", 1)
    assert where == name
    assert message.removeprefix("Value error, ") == expected


@pytest.mark.parametrize("kind", list(KINDS))
def test_unknown_settings_and_secrets_are_refused(kind: str) -> None:
    spec = KINDS[kind]
    expected = "api_key: Extra inputs are not permitted"
    assert _refused(spec.secrets, {"api_key": "sk-not-for-you"}) == expected
    assert _refused(spec.settings, {"api_key": "x"}) == expected


def test_an_email_address_is_checked_leniently_and_lower_cased() -> None:
    settings = KINDS["email"].settings
    assert _refused(settings, {"address": "not an address"}).startswith("address: String should")
    assert settings.model_validate({"address": " Sam@Home.LAN "}).model_dump()["address"] == (
        "sam@home.lan"
    )


def test_a_server_address_loses_its_trailing_slash() -> None:
    imessage = KINDS["imessage"]
    assert imessage.parse("server_url", "https://bb.home.test:1234/") == "https://bb.home.test:1234"


def test_parse_reads_a_port_as_a_number() -> None:
    assert KINDS["email"].parse("imap_port", "993") == 993


def test_parse_refuses_with_the_settings_hint() -> None:
    with pytest.raises(SettingError, match=r"^should start with xoxb-$"):
        KINDS["slack"].parse("bot_token", "xoxp-user-token-1234")
    with pytest.raises(SettingError, match=r"^should be a port, 1 to 65535$"):
        KINDS["email"].parse("smtp_port", "70000")
    with pytest.raises(SettingError, match=r"^should be at least 16 characters$"):
        KINDS["imessage"].parse("webhook_secret", "too-short")


def test_parse_without_a_hint_says_what_the_model_says() -> None:
    with pytest.raises(SettingError, match="at most 1024 characters"):
        KINDS["email"].parse("password", "x" * 1025)


def test_questions_say_which_settings_are_secret_and_needed() -> None:
    slack = {q.name: q for q in KINDS["slack"].questions()}
    assert list(slack) == ["bot_token", "app_token", "signing_secret", "default_channel"]
    assert [n for n, q in slack.items() if q.secret] == ["bot_token", "app_token", "signing_secret"]
    # Either of app_token and signing_secret will do, so neither alone is needed.
    assert [n for n, q in slack.items() if q.required] == ["bot_token"]
    email = {q.name: q for q in KINDS["email"].questions()}
    assert [n for n, q in email.items() if q.required] == [
        "address",
        "imap_host",
        "smtp_host",
        "password",
    ]
    assert (email["imap_port"].suggested, email["smtp_port"].suggested) == ("993", "587")
    imessage = {q.name: q for q in KINDS["imessage"].questions()}
    assert list(imessage) == ["server_url", "password", "webhook_secret"]
    assert [n for n, q in imessage.items() if q.secret] == ["password", "webhook_secret"]
    assert all(q.required for q in imessage.values())


def test_missing_names_what_is_still_needed() -> None:
    slack = KINDS["slack"]
    assert slack.missing({}, set()) == ["bot_token", "app_token or signing_secret"]
    assert slack.missing({}, {"bot_token", "signing_secret"}) == []
    email = KINDS["email"]
    assert email.missing({"imap_host": "imap.home.test", "address": ""}, {"password"}) == [
        "smtp_host",
        "address",
    ]
    # BlueBubbles cannot sign its webhooks: without the secret Angie cannot receive.
    imessage = KINDS["imessage"]
    assert imessage.missing({"server_url": "https://bb.home.test"}, {"password"}) == [
        "webhook_secret"
    ]
