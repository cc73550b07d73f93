"""``/api/mcp/accounts``: each person lists, shares and deletes their own accounts on personal
servers; another person's are neither seen, shared nor deleted."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from api_support import Account, ApiHarness, api_harness, error_message, json_body, make_api_angie
from fakes.brain import Brain

from angie.mcp.registry import ServerSpec
from angie_mcp_core.manifest import Scope, ServerManifest


def spec(name: str, scope: Scope) -> ServerSpec:
    manifest = ServerManifest(
        name=name,
        scope=scope,
        content_trust="trusted",
        description=f"Uses {name}.",
        prompt=f"agents/{name}.md",
    )
    return ServerSpec(name, "stdio", command=(sys.executable, "-c", "pass"), manifest=manifest)


@pytest.fixture
async def api(sqlite_url: str, data_dir: Path) -> AsyncIterator[ApiHarness]:
    specs = {"mail": spec("mail", "personal"), "lights": spec("lights", "household")}
    async with api_harness(make_api_angie(sqlite_url, data_dir, Brain(), specs=specs)) as harness:
        yield harness


async def connect(
    api: ApiHarness, who: Account, label: str, server: str = "mail"
) -> dict[str, Any]:
    response = await api.client.post(
        "/api/mcp/accounts", json={"server": server, "label": label}, headers=who.headers
    )
    return json_body(response, 201)


async def listed(api: ApiHarness, who: Account) -> list[dict[str, Any]]:
    response = await api.client.get("/api/mcp/accounts", headers=who.headers)
    return list(json_body(response)["accounts"])


async def test_an_account_gets_a_private_directory_of_its_own(
    api: ApiHarness, data_dir: Path
) -> None:
    ann = await api.signup("Ann")
    made = await connect(api, ann, "ann@example.org")

    where = data_dir / "mcp" / "accounts" / "mail" / str(made["id"])
    assert where.is_dir()
    assert where.stat().st_mode & 0o777 == 0o700
    assert "state_dir" not in made


async def test_bob_cannot_see_or_delete_anns_account(api: ApiHarness, data_dir: Path) -> None:
    ann, bob = await api.signup("Ann"), await api.signup("Bob")
    anns = await connect(api, ann, "ann@example.org")

    assert await listed(api, bob) == []
    gone = await api.client.delete(f"/api/mcp/accounts/{anns['id']}", headers=bob.headers)
    assert error_message(gone, 404) == f"you have no MCP account {anns['id']}"
    shared = await api.client.post(
        f"/api/mcp/accounts/{anns['id']}/shares", json={"user_id": bob.id}, headers=bob.headers
    )
    error_message(shared, 404)
    assert [a["id"] for a in await listed(api, ann)] == [anns["id"]]
    assert (data_dir / "mcp" / "accounts" / "mail" / str(anns["id"])).is_dir()


async def test_a_shared_account_is_listed_for_both_and_only_its_owner_sees_with_whom(
    api: ApiHarness,
) -> None:
    ann, bob = await api.signup("Ann"), await api.signup("Bob")
    family = await connect(api, bob, "family")

    response = await api.client.post(
        f"/api/mcp/accounts/{family['id']}/shares", json={"user_id": ann.id}, headers=bob.headers
    )

    assert json_body(response)["shared_with"] == [ann.id]
    [seen] = await listed(api, ann)
    assert (seen["id"], seen["mine"], seen["shared_with"]) == (family["id"], False, [])
    [own] = await listed(api, bob)
    assert (own["mine"], own["shared_with"]) == (True, [ann.id])


async def test_deleting_an_account_removes_its_directory(api: ApiHarness, data_dir: Path) -> None:
    ann = await api.signup("Ann")
    made = await connect(api, ann, "ann@example.org")
    where = data_dir / "mcp" / "accounts" / "mail" / str(made["id"])
    (where / "tokens.enc").write_text("sealed", encoding="utf-8")

    response = await api.client.delete(f"/api/mcp/accounts/{made['id']}", headers=ann.headers)

    assert response.status_code == 204
    assert not where.exists()
    assert await listed(api, ann) == []


async def test_a_household_server_has_no_personal_accounts(api: ApiHarness) -> None:
    ann = await api.signup("Ann")
    response = await api.client.post(
        "/api/mcp/accounts", json={"server": "lights", "label": "mine"}, headers=ann.headers
    )
    assert "the lights server is the household's" in error_message(response, 422)


async def test_the_same_label_twice_is_a_conflict(api: ApiHarness) -> None:
    ann = await api.signup("Ann")
    await connect(api, ann, "ann@example.org")
    response = await api.client.post(
        "/api/mcp/accounts",
        json={"server": "mail", "label": "ann@example.org"},
        headers=ann.headers,
    )
    assert (
        error_message(response, 409) == "you already have a mail account labelled 'ann@example.org'"
    )


async def test_sharing_with_nobody_is_refused(api: ApiHarness) -> None:
    ann = await api.signup("Ann")
    made = await connect(api, ann, "family")
    response = await api.client.post(
        f"/api/mcp/accounts/{made['id']}/shares", json={"user_id": 999}, headers=ann.headers
    )
    assert error_message(response, 404) == "there is no active user 999 to share with"
