"""Scoped personal API tokens: each scope opens its own routes and no others, a missing scope is
a 403 that names it, bad scope names are a 422 that names them, and logins keep full access."""

from __future__ import annotations

from typing import Any

import pytest
from api_support import Account, ApiHarness

from angie.accounts.scopes import AREA_OF_TAG, KNOWN_SCOPES, needed_scope

# One read and one write route per area under test: (method, path, body).
ROUTES: dict[str, tuple[tuple[str, str, dict[str, Any] | None], ...]] = {
    "tasks:read": (("GET", "/api/tasks", None), ("GET", "/api/tasks/999999", None)),
    "tasks:write": (("POST", "/api/tasks/999999/cancel", None),),
    "crons:read": (("GET", "/api/schedules", None),),
    "crons:write": (("DELETE", "/api/schedules/999999", None),),
    "workflows:read": (("GET", "/api/workflows", None),),
    "workflows:write": (("DELETE", "/api/workflows/999999", None),),
    "events:read": (("GET", "/api/events", None), ("GET", "/api/events/upcoming", None)),
}


async def _token(api: ApiHarness, account: Account, scopes: list[str] | None) -> str:
    body: dict[str, Any] = {"name": "script"}
    if scopes is not None:
        body["scopes"] = scopes
    made = await api.client.post("/api/me/tokens", json=body, headers=account.headers)
    assert made.status_code == 201, made.text
    token: str = made.json()["token"]
    return token


async def _call(
    api: ApiHarness, token: str, method: str, path: str, body: dict[str, Any] | None
) -> int:
    answer = await api.client.request(
        method, path, json=body, headers={"Authorization": f"Bearer {token}"}
    )
    return answer.status_code


@pytest.mark.parametrize("scope", sorted(ROUTES))
async def test_each_scope_opens_its_routes_and_refuses_the_others(
    api: ApiHarness, scope: str
) -> None:
    account = await api.signup("sam")
    token = await _token(api, account, [scope])
    for method, path, body in ROUTES[scope]:
        # Allowed: whatever the route answers (200, or 404 for a missing row), not a 403.
        assert await _call(api, token, method, path, body) in {200, 204, 404}, (method, path)
    for other, routes in ROUTES.items():
        if other == scope:
            continue
        for method, path, body in routes:
            answer = await api.client.request(
                method, path, json=body, headers={"Authorization": f"Bearer {token}"}
            )
            assert answer.status_code == 403, (scope, method, path, answer.text)
            assert f"lacks the scope {other}" in answer.json()["error"]["message"]


async def test_write_does_not_imply_read_and_unmapped_routes_need_everything(
    api: ApiHarness,
) -> None:
    account = await api.signup("sam")
    token = await _token(api, account, ["crons:write"])
    assert await _call(api, token, "GET", "/api/schedules", None) == 403
    # The account area is its own scope: a crons token cannot read the person's profile.
    refused = await api.client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 403
    assert "account:read" in refused.json()["error"]["message"]
    assert needed_scope(["no-such-tag"], "GET") == "*"


async def test_star_and_existing_tokens_keep_full_access(api: ApiHarness) -> None:
    account = await api.signup("sam")
    default = await _token(api, account, None)
    star = await _token(api, account, ["*", "tasks:read"])
    for token in (default, star):
        for routes in ROUTES.values():
            for method, path, body in routes:
                assert await _call(api, token, method, path, body) != 403, (method, path)
    listed = await api.client.get("/api/me/tokens", headers=account.headers)
    assert sorted(item["scopes"] == ["*"] for item in listed.json()["items"]) == [True, True]


async def test_a_login_is_not_scoped(api: ApiHarness) -> None:
    account = await api.signup("sam")
    for routes in ROUTES.values():
        for method, path, body in routes:
            assert await _call(api, account.token, method, path, body) != 403, (method, path)


async def test_listing_shows_the_scopes(api: ApiHarness) -> None:
    account = await api.signup("sam")
    await _token(api, account, ["tasks:read", "crons:write", "tasks:read"])
    listed = await api.client.get("/api/me/tokens", headers=account.headers)
    assert [item["scopes"] for item in listed.json()["items"]] == [["crons:write", "tasks:read"]]


@pytest.mark.parametrize(
    ("scopes", "named"),
    [
        (["tasks:read", "tasks:admin"], "tasks:admin"),
        (["garden:read"], "garden:read"),
        (["crons"], "crons"),
        ([], "at least one scope"),
    ],
)
async def test_bad_scope_names_are_a_422_naming_them(
    api: ApiHarness, scopes: list[str], named: str
) -> None:
    account = await api.signup("sam")
    refused = await api.client.post(
        "/api/me/tokens", json={"name": "bad", "scopes": scopes}, headers=account.headers
    )
    assert refused.status_code == 422, refused.text
    assert named in refused.text
    listed = await api.client.get("/api/me/tokens", headers=account.headers)
    assert listed.json()["items"] == []


def test_every_area_has_both_accesses_and_every_mapped_tag_a_known_area() -> None:
    for area in set(AREA_OF_TAG.values()):
        assert {f"{area}:read", f"{area}:write"} <= KNOWN_SCOPES
