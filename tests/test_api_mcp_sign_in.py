"""Connecting a Google Calendar account from the browser: Angie runs the real gcal server's
``auth`` on her machine (against the fake Google), relays its consent address to the page, and
the account is the person's once Google sends the browser back; a browser on another device
pastes the address it ended on. Nobody else can see, finish or cancel someone's sign-in."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from angie_mcp_gcal.scopes import READONLY
from angie_mcp_gcal.testing import CLIENT_ID, CLIENT_SECRET, FakeGoogleCalendar
from api_support import Account, ApiHarness, api_harness, count_rows, make_api_angie
from fakes.brain import Brain

from angie.db.models import McpAccount
from angie.mcp.registry import builtin_specs
from angie_mcp_core.tokens import TokenFile

pytestmark = pytest.mark.slow


@pytest.fixture
def google() -> Iterator[FakeGoogleCalendar]:
    with FakeGoogleCalendar() as fake:
        yield fake


@pytest.fixture
async def api(
    sqlite_url: str, data_dir: Path, google: FakeGoogleCalendar
) -> AsyncIterator[ApiHarness]:
    angie = make_api_angie(
        sqlite_url,
        data_dir,
        Brain(),
        specs=builtin_specs(["gcal", "hue"]),
        environ={
            "ANGIE_GCAL_CLIENT_ID": CLIENT_ID,
            "ANGIE_GCAL_CLIENT_SECRET": CLIENT_SECRET,
            "ANGIE_GCAL_API_URL": google.api_url,
            "ANGIE_GCAL_TOKEN_URI": google.token_uri,
            "ANGIE_GCAL_AUTH_URI": google.auth_uri,
        },
    )
    async with api_harness(angie) as harness:
        yield harness


async def _start(api: ApiHarness, who: Account, **body: Any) -> httpx.Response:
    return await api.client.post(
        "/api/mcp/accounts/sign-ins",
        json={"server": "gcal", "label": "me@example.com", **body},
        headers=who.headers,
    )


async def _until_done(api: ApiHarness, who: Account, sign_in_id: str) -> dict[str, Any]:
    for _ in range(300):
        got = await api.client.get(f"/api/mcp/accounts/sign-ins/{sign_in_id}", headers=who.headers)
        assert got.status_code == 200, got.text
        body: dict[str, Any] = got.json()
        if body["state"] != "waiting":
            return body
        await asyncio.sleep(0.05)
    raise AssertionError("the sign-in did not end")


def _consent(started: dict[str, Any], google: FakeGoogleCalendar) -> str:
    [link] = [link for link in started["links"] if link.startswith(google.auth_uri)]
    return str(link)


async def _stored_scopes(api: ApiHarness, account_id: int) -> list[str]:
    async with api.angie.services.database.session() as session:
        row = await session.get(McpAccount, account_id)
        assert row is not None
        state_dir = Path(row.state_dir)
    stored = TokenFile(state_dir / "tokens.enc").load()
    assert stored is not None
    return list(stored["scopes"])


async def test_a_browser_on_angies_machine_connects_the_account(
    api: ApiHarness, google: FakeGoogleCalendar
) -> None:
    ann = await api.signup("Ann")
    started = await _start(api, ann)
    assert started.status_code == 201, started.text
    body = started.json()
    assert body["state"] == "waiting"
    assert body["can_paste"] is True, str(body)
    assert any("Open this URL in a browser" in line for line in body["instructions"])
    # The person's browser, on Angie's machine: Google's consent, then its one-off page.
    async with httpx.AsyncClient(follow_redirects=True, timeout=30) as browser:
        page = await browser.get(_consent(body, google))
    assert page.status_code == 200
    done = await _until_done(api, ann, body["id"])
    assert done["state"] == "connected", done
    assert await _stored_scopes(api, body["account_id"]) == [READONLY]
    listed = (await api.client.get("/api/mcp/accounts", headers=ann.headers)).json()["accounts"]
    assert [(a["server"], a["label"], a["mine"]) for a in listed] == [
        ("gcal", "me@example.com", True)
    ]


async def test_a_browser_elsewhere_pastes_the_address_it_ended_on(
    api: ApiHarness, google: FakeGoogleCalendar
) -> None:
    ann, bob = await api.signup("Ann"), await api.signup("Bob")
    body = (await _start(api, ann)).json()
    # On a phone: Google sends it to 127.0.0.1 of the phone, which does not load.
    async with httpx.AsyncClient(follow_redirects=False, timeout=30) as phone:
        consent = await phone.get(_consent(body, google))
    assert consent.status_code == 302
    ended_on = consent.headers["location"]
    assert ended_on.startswith("http://127.0.0.1:")
    paste = f"/api/mcp/accounts/sign-ins/{body['id']}/paste"

    # Not Bob's to finish, see or cancel.
    assert (
        await api.client.post(paste, json={"address": ended_on}, headers=bob.headers)
    ).status_code == 404
    theirs = f"/api/mcp/accounts/sign-ins/{body['id']}"
    assert (await api.client.get(theirs, headers=bob.headers)).status_code == 404
    assert (await api.client.delete(theirs, headers=bob.headers)).status_code == 404
    # Only the sign-in's own page on this machine is opened for it.
    for wrong in (
        "http://127.0.0.1:1/?code=x",
        ended_on.replace("127.0.0.1", "evil.example"),
        ended_on.replace("http://", "https://"),
        "not an address",
    ):
        refused = await api.client.post(paste, json={"address": wrong}, headers=ann.headers)
        assert refused.status_code == 422, (wrong, refused.text)

    pasted = await api.client.post(paste, json={"address": ended_on}, headers=ann.headers)
    assert pasted.status_code == 200, pasted.text
    done = await _until_done(api, ann, body["id"])
    assert done["state"] == "connected", done
    assert await _stored_scopes(api, body["account_id"]) == [READONLY]
    again = await api.client.post(paste, json={"address": ended_on}, headers=ann.headers)
    assert again.status_code == 422
    assert "already connected" in again.json()["error"]["message"]


async def test_a_cancelled_or_refused_sign_in_leaves_no_account(
    api: ApiHarness, google: FakeGoogleCalendar
) -> None:
    ann = await api.signup("Ann")
    body = (await _start(api, ann)).json()
    gone = await api.client.delete(f"/api/mcp/accounts/sign-ins/{body['id']}", headers=ann.headers)
    assert gone.status_code == 204
    assert await count_rows(api, McpAccount) == 0
    assert not (api.angie.services.settings.data_dir / "mcp" / "accounts" / "gcal" / "1").exists()

    # Google refuses the code exchange: the server's one line is the reason, no account stays.
    body = (await _start(api, ann)).json()
    async with httpx.AsyncClient(follow_redirects=False, timeout=30) as browser:
        consent = await browser.get(_consent(body, google))
    forged = consent.headers["location"].replace("code=", "code=forged")
    async with httpx.AsyncClient(timeout=30) as browser:
        await browser.get(forged)
    done = await _until_done(api, ann, body["id"])
    assert done["state"] == "failed"
    assert "invalid_grant" in done["error"]
    assert await count_rows(api, McpAccount) == 0


async def test_bad_sign_ins_are_refused_with_a_reason(api: ApiHarness) -> None:
    ann = await api.signup("Ann")
    household = await _start(api, ann, server="hue")
    assert household.status_code == 422
    assert "household's" in household.json()["error"]["message"]
    unknown = await _start(api, ann, server="nope")
    assert unknown.status_code == 422
    typed = await _start(api, ann, credentials={"token": "x"})
    assert typed.status_code == 422
    assert "takes no credentials" in typed.json()["error"]["message"]
    missing = await api.client.get("/api/mcp/accounts/sign-ins/nosuchsignin", headers=ann.headers)
    assert missing.status_code == 404
    assert await count_rows(api, McpAccount) == 0
