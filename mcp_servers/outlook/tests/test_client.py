"""The Outlook client, its query translation and the device-code sign-in, straight against the
fake (no MCP layer)."""

from __future__ import annotations

from datetime import date

import pytest
import requests
from angie_mcp_outlook.__main__ import main
from angie_mcp_outlook.account import token_file
from angie_mcp_outlook.auth import SignInError, sign_in
from angie_mcp_outlook.client import OutlookClient
from angie_mcp_outlook.query import folder_kind, graph_query
from angie_mcp_outlook.settings import OutlookSettings
from angie_mcp_outlook.testing import CLIENT_ID, FakeOutlook

from angie_mcp_core.errors import InvalidArgumentError, NotFoundError
from angie_mcp_core.mail import MailQuery, parse_query

from .conftest import TOKEN_KEY, MakeSettings
from .test_server import mail


def client(settings: OutlookSettings) -> OutlookClient:
    assert settings.graph_url is not None
    return OutlookClient(settings, graph_url=settings.graph_url)


def test_words_and_people_go_to_kql_search() -> None:
    query = parse_query(
        'from:alex to:sam subject:"lunch plans" is:read has:attachment '
        "after:2026-12-01 before:2026-12-04 budget",
        today=date(2026, 12, 4),
    )
    graph = graph_query(query)
    assert graph.params == {
        "$search": '"from:alex AND to:sam AND subject:\\"lunch plans\\" AND hasattachment:true'
        ' AND received>=2026-12-01 AND received<2026-12-04 AND budget"'
    }
    assert graph.shown.endswith("(then read only)")
    assert graph.keep({"isRead": True}) is True
    assert graph.keep({"isRead": False}) is False
    # A quote in a value cannot break out of its term.
    quoted = graph_query(MailQuery(subject=['say "hi" now'])).params["$search"]
    assert quoted == '"subject:\\"say  hi  now\\""'


def test_flags_and_dates_go_to_an_ordered_filter() -> None:
    graph = graph_query(MailQuery(unread=True, flagged=False, before=date(2026, 12, 4)))
    assert graph.params == {
        "$filter": "receivedDateTime ge 1900-01-01T00:00:00+00:00 and receivedDateTime lt "
        "2026-12-04T00:00:00+00:00 and isRead eq false and flag/flagStatus ne 'flagged'",
        "$orderby": "receivedDateTime desc",
    }
    assert graph_query(MailQuery()).params == {"$orderby": "receivedDateTime desc"}


def test_well_known_folders_have_their_kinds() -> None:
    kinds = ("inbox", "sentitems", "drafts", "deleteditems", "junkemail", "archive", None)
    assert [folder_kind(k) for k in kinds] == [
        "inbox",
        "sent",
        "drafts",
        "trash",
        "spam",
        "archive",
        "other",
    ]


def test_the_fake_refuses_search_beside_filter_as_graph_does(
    fake: FakeOutlook, reader: OutlookSettings
) -> None:
    token = token_file(reader).load()
    assert token is not None
    answer = requests.get(
        f"{fake.url}/v1.0/me/messages",
        params={"$search": '"lunch"', "$filter": "isRead eq false"},
        headers={"Authorization": f"Bearer {token['access_token']}"},
        timeout=5,
    )
    assert answer.status_code == 400
    unordered = requests.get(
        f"{fake.url}/v1.0/me/messages",
        params={"$filter": "isRead eq false", "$orderby": "receivedDateTime desc"},
        headers={"Authorization": f"Bearer {token['access_token']}"},
        timeout=5,
    )
    assert unordered.json()["error"]["code"] == "InefficientFilter"


def test_junk_and_other_folders_are_searched_only_when_asked(
    fake: FakeOutlook, reader: OutlookSettings
) -> None:
    fake.add_message(mail("Junk"), "junkemail")
    fake.add_message(mail("Binned"), "deleteditems")
    with client(reader) as outlook:
        assert outlook.search(MailQuery(), None, 10, None).messages == []
        assert [m.subject for m in outlook.search(MailQuery(), "spam", 10, None).messages] == [
            "Junk"
        ]
        trash = outlook.search(MailQuery(), "Deleted Items", 10, None)
        assert [m.subject for m in trash.messages] == ["Binned"]
        assert trash.messages[0].folders == ["deleteditems"]


def test_moving_into_sent_or_unknown_folders_is_refused(
    fake: FakeOutlook, writer: OutlookSettings
) -> None:
    message_id = fake.add_message(mail("x"))
    with client(writer) as outlook:
        with pytest.raises(InvalidArgumentError, match="cannot move"):
            outlook.move([message_id], "sent")
        with pytest.raises(NotFoundError):
            outlook.move([message_id], "Nowhere")
        changed = outlook.move([message_id], "trash")
    assert fake.messages[changed.new_ids[message_id]]["folder"] == "AQMk-deleteditems"


def test_device_code_sign_in_stores_the_tokens(
    fake: FakeOutlook, make_settings: MakeSettings
) -> None:
    settings = make_settings(writes=True)
    shown: list[str] = []
    stored = sign_in(settings, show=shown.append, sleep=lambda _: None)
    assert "microsoft.com/devicelogin" in shown[0]
    assert {"Mail.Read", "Mail.ReadWrite", "Mail.Send"} <= set(stored["scopes"])
    assert token_file(settings).load() == stored
    with client(settings) as outlook:
        assert outlook.me() == "me@example.com"


def test_a_declined_device_sign_in_says_so(fake: FakeOutlook, make_settings: MakeSettings) -> None:
    fake.decline_devices = True
    with pytest.raises(SignInError, match="declined"):
        sign_in(make_settings(), show=lambda _: None, sleep=lambda _: None)


def test_an_unknown_app_registration_is_named(make_settings: MakeSettings) -> None:
    with pytest.raises(SignInError, match="AADSTS700016"):
        sign_in(make_settings(client_id="someone-else"), show=lambda _: None, sleep=lambda _: None)


def test_auth_without_a_client_id_exits_with_the_setting_to_set(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["auth"]) == 2
    assert "ANGIE_OUTLOOK_CLIENT_ID" in capsys.readouterr().err


def test_auth_command_signs_in_with_a_device_code(
    fake: FakeOutlook,
    make_settings: MakeSettings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = make_settings()
    for name, value in {
        "CLIENT_ID": CLIENT_ID,
        "GRAPH_URL": fake.graph_url,
        "LOGIN_URL": fake.login_url,
        "TOKEN_FILE": str(settings.token_path()),
        "TOKEN_KEY": TOKEN_KEY,
    }.items():
        monkeypatch.setenv(f"ANGIE_OUTLOOK_{name}", value)
    assert main(["auth"]) == 0
    out = capsys.readouterr().out
    assert "Mail.Read" in out
    assert "enter the code ANGIE" in out
    assert "Connected to Outlook." in out
    stored = token_file(settings).load()
    assert stored is not None
    assert stored["refresh_token"] not in out
    fake.decline_devices = True
    assert main(["auth"]) == 1
    assert "declined" in capsys.readouterr().err
