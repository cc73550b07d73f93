"""Hostile and broken requests: bad JSON, huge bodies, unknown fields, wrong types, absurd ids,
SQL in filters, wrong content types, unknown routes and methods. Each is a 4xx with a reason in
the one error shape, and nothing is written."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from api_support import Account, ApiHarness
from sqlalchemy import func, inspect, select

from angie.api.app import create_app
from angie.db.base import Base
from angie.db.models import ApiToken, User

TOKENS = "/api/me/tokens"
JSON = {"content-type": "application/json"}
INJECTIONS = ("' OR 1=1 --", "1;DROP TABLE users", '") OR ("1"="1', "1 UNION SELECT * FROM users")
ABSURD_IDS = ("0", "-1", str(2**40), str(2**31), "abc", "1.5", "1e3")


# -- helpers --------------------------------------------------------------------------------------


def _error(response: httpx.Response, status: int) -> dict[str, Any]:
    """The ``error`` object of a response that must have ``status`` and the one error shape."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "request_id"}, body
    assert body["request_id"] == response.headers["x-request-id"]
    error: dict[str, Any] = body["error"]
    assert isinstance(error["message"], str)
    assert error["message"]
    return error


async def _rows(api: ApiHarness) -> dict[str, int]:
    """How many rows every table of Angie's has (a missing table fails the query)."""
    async with api.angie.services.database.session() as session:
        return {
            table.name: int(await session.scalar(select(func.count()).select_from(table)) or 0)
            for table in Base.metadata.sorted_tables
        }


async def _baseline(api: ApiHarness, account: Account) -> dict[str, int]:
    """Row counts once the account's prompt documents exist (the first read copies them)."""
    assert (await api.client.get("/api/prompts", headers=account.headers)).status_code == 200
    return await _rows(api)


async def _tables(api: ApiHarness) -> set[str]:
    async with api.angie.services.database.engine.connect() as connection:
        return await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))


async def _token_count(api: ApiHarness) -> int:
    async with api.angie.services.database.session() as session:
        return int(await session.scalar(select(func.count()).select_from(ApiToken)) or 0)


@pytest.fixture
async def sam(api: ApiHarness) -> Account:
    """The first account: an admin, so admin-only routes get past their guard to validation."""
    return await api.signup("sam")


def _openapi(api: ApiHarness) -> dict[str, Any]:
    """The schema of the app under test: the routes as they are now, new ones included."""
    return create_app(api.angie.services).openapi()


# -- bodies ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'{"name": ', id="truncated"),
        pytest.param(b"{'name': 'cli'}", id="single-quotes"),
        pytest.param(b'{"name": "cli",}', id="trailing-comma"),
        pytest.param(b'{"name": "\xff\xfe"}', id="not-utf8"),
        pytest.param(b"[" * 100_000 + b"]" * 100_000, id="nested-too-deep"),
        pytest.param(b'{"name": "cli", "expires_in_days": ' + b"9" * 5000 + b"}", id="huge-number"),
    ],
)
async def test_malformed_json_is_refused(api: ApiHarness, sam: Account, body: bytes) -> None:
    refused = await api.client.post(TOKENS, content=body, headers={**sam.headers, **JSON})
    assert _error(refused, 422)["message"] == "the body is not valid JSON"
    assert await _token_count(api) == 0


async def test_body_over_the_limit_is_refused(api: ApiHarness, sam: Account) -> None:
    huge = b'{"name": "' + b"x" * (1 << 20) + b'"}'
    refused = await api.client.post(TOKENS, content=huge, headers={**sam.headers, **JSON})
    assert refused.request.headers["content-length"] == str(len(huge))
    assert "larger than 1048576 bytes" in _error(refused, 413)["message"]
    assert await _token_count(api) == 0


async def test_chunked_body_over_the_limit_is_refused(api: ApiHarness, sam: Account) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"name": "'
        for _ in range(20):
            yield b"x" * 65_536
        yield b'"}'

    refused = await api.client.post(TOKENS, content=chunks(), headers={**sam.headers, **JSON})
    assert "content-length" not in refused.request.headers
    assert refused.request.headers["transfer-encoding"] == "chunked"
    assert "larger than 1048576 bytes" in _error(refused, 413)["message"]
    assert await _token_count(api) == 0


async def test_body_under_the_limit_is_read(api: ApiHarness, sam: Account) -> None:
    """The control: a large body under the cap reaches validation (a name too long)."""
    body = b'{"name": "' + b"x" * 1_000_000 + b'"}'
    refused = await api.client.post(TOKENS, content=body, headers={**sam.headers, **JSON})
    assert _error(refused, 422)["details"][0]["field"] == "body: name"


@pytest.mark.parametrize("length", ["abc", "-1", "1e3", "0x10"])
async def test_non_numeric_content_length_is_refused(
    api: ApiHarness, sam: Account, length: str
) -> None:
    refused = await api.client.post(
        TOKENS,
        content=b'{"name": "cli"}',
        headers={**sam.headers, **JSON, "content-length": length},
    )
    assert _error(refused, 400)["message"] == "the Content-Length header is not a number"
    assert await _token_count(api) == 0


async def test_unknown_field_is_named(api: ApiHarness, sam: Account) -> None:
    refused = await api.client.post(TOKENS, json={"name": "cli", "user_id": 2}, headers=sam.headers)
    error = _error(refused, 422)
    assert "user_id" in error["message"]
    assert error["details"] == [
        {"field": "body: user_id", "message": "Extra inputs are not permitted"}
    ]
    assert await _token_count(api) == 0


async def test_nobody_makes_themself_admin_through_an_extra_field(
    api: ApiHarness, sam: Account
) -> None:
    lee = await api.signup("lee")
    refused = await api.client.patch(
        "/api/me", json={"display_name": "Lee", "is_admin": True}, headers=lee.headers
    )
    assert "is_admin" in _error(refused, 422)["message"]
    async with api.angie.services.database.session() as session:
        user = await session.get(User, lee.id)
        assert user is not None
        assert not user.is_admin
        assert user.display_name == "lee"  # the valid half of the body was not applied either


async def test_registration_refuses_an_extra_field(api: ApiHarness) -> None:
    refused = await api.client.post(
        "/api/auth/register",
        json={"email": "sam@home.test", "password": "long enough pw", "is_admin": False},
    )
    assert "is_admin" in _error(refused, 422)["message"]
    assert (await _rows(api))["users"] == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": 5}, "body: name"),
        ({"name": ["cli"]}, "body: name"),
        ({"name": None}, "body: name"),
        ({"name": {"$ne": ""}}, "body: name"),
        ({"name": ""}, "body: name"),
        ({"name": "cli", "expires_in_days": "ten"}, "body: expires_in_days"),
        ({"name": "cli", "expires_in_days": 1.5}, "body: expires_in_days"),
        ({"name": "cli", "expires_in_days": 0}, "body: expires_in_days"),
        ({"name": "cli", "expires_in_days": 10**6}, "body: expires_in_days"),
        ({"name": "cli", "expires_in_days": -1}, "body: expires_in_days"),
        ({}, "body: name"),
        ([], "body"),
        ("cli", "body"),
        (5, "body"),
    ],
)
async def test_wrong_types_are_refused(
    api: ApiHarness, sam: Account, body: Any, field: str
) -> None:
    refused = await api.client.post(TOKENS, json=body, headers=sam.headers)
    error = _error(refused, 422)
    assert error["details"][0]["field"] == field
    assert error["message"].startswith(field)
    assert await _token_count(api) == 0


async def test_null_body_is_refused(api: ApiHarness, sam: Account) -> None:
    refused = await api.client.post(TOKENS, content=b"null", headers={**sam.headers, **JSON})
    assert "body" in _error(refused, 422)["message"]
    assert await _token_count(api) == 0


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b'{"name": "cli"}', "text/plain"),
        (b"name=cli", "application/x-www-form-urlencoded"),
        (b'{"name": "cli"}', "application/xml"),
        (b'{"name": "cli"}', None),
    ],
)
async def test_wrong_content_type_is_refused(
    api: ApiHarness, sam: Account, content: bytes, content_type: str | None
) -> None:
    headers = dict(sam.headers)
    if content_type:
        headers["content-type"] = content_type
    refused = await api.client.post(TOKENS, content=content, headers=headers)
    assert "Content-Type: application/json" in _error(refused, 415)["message"]
    assert await _token_count(api) == 0


async def test_json_with_a_charset_is_accepted(api: ApiHarness, sam: Account) -> None:
    made = await api.client.post(
        TOKENS,
        content=b'{"name": "cli"}',
        headers={**sam.headers, "content-type": "application/json; charset=utf-8"},
    )
    assert made.status_code == 201, made.text


# -- SQL and other text where it does not belong --------------------------------------------------


@pytest.mark.parametrize("hostile", INJECTIONS)
async def test_sql_in_a_body_is_stored_as_text(api: ApiHarness, sam: Account, hostile: str) -> None:
    made = await api.client.post(TOKENS, json={"name": hostile}, headers=sam.headers)
    assert made.status_code == 201, made.text
    assert made.json()["name"] == hostile
    renamed = await api.client.patch("/api/me", json={"display_name": hostile}, headers=sam.headers)
    assert renamed.json()["display_name"] == hostile
    assert (await _rows(api))["users"] == 1
    assert {"users", "api_tokens"} <= await _tables(api)


@pytest.mark.parametrize(
    "name",
    ["a\x00b", "🦓" * 120, "\u202eevil", "\uff46\uff55\uff4c\uff4c", "名前" * 60, "line\nbreak"],
    ids=["nul", "emoji-at-the-limit", "rtl-override", "fullwidth", "cjk-at-the-limit", "newline"],
)
async def test_unusual_text_round_trips(api_db: ApiHarness, name: str) -> None:
    """On SQLite and on MariaDB (utf8mb4): what is accepted comes back as it was sent."""
    sam = await api_db.signup("sam")
    made = await api_db.client.post(TOKENS, json={"name": name}, headers=sam.headers)
    assert made.status_code == 201, made.text
    listed = await api_db.client.get(TOKENS, headers=sam.headers)
    assert [item["name"] for item in listed.json()["items"]] == [name]


def _list_routes(schema: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """Every GET route without path parameters and the names of its query parameters."""
    found = []
    for path, operations in schema["paths"].items():
        get = operations.get("get")
        if get is None or "{" in path:
            continue
        names = [p["name"] for p in get.get("parameters", []) if p["in"] == "query"]
        if names:
            found.append((path, names))
    return found


async def test_sql_in_query_filters_and_sort_finds_nothing(api_db: ApiHarness) -> None:
    """On SQLite and on MariaDB: the two dialects quote differently."""
    api = api_db
    sam = await api.signup("sam")
    before, tables = await _baseline(api, sam), await _tables(api)
    routes = _list_routes(_openapi(api))
    assert ("/api/me/tokens", ["limit", "offset", "sort"]) in routes
    failures = []
    for path, names in routes:
        for name in names:
            for hostile in INJECTIONS:
                response = await api.client.get(path, params={name: hostile}, headers=sam.headers)
                status = response.status_code
                if name == "sort" and status == 422 and "sort" in response.text:
                    continue
                body = response.json()
                if 400 <= status < 500 and body["error"]["message"]:
                    continue
                if status == 200 and name != "sort" and body.get("total", 0) == 0:
                    continue  # a text filter that matched nothing, as it should
                failures.append(f"GET {path}?{name}={hostile!r} → {status} {response.text[:160]}")
    assert not failures, "\n".join(failures)
    assert await _tables(api) == tables
    assert await _rows(api) == before


async def test_sorting_by_a_secret_column_is_refused(api: ApiHarness, sam: Account) -> None:
    for field in ("password_hash", "-password_hash", "token_hash"):
        refused = await api.client.get("/api/users", params={"sort": field}, headers=sam.headers)
        assert "cannot sort by" in _error(refused, 422)["message"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "query: limit"),
        ({"limit": 201}, "query: limit"),
        ({"limit": "ten"}, "query: limit"),
        ({"offset": -1}, "query: offset"),
        ({"offset": 2**40}, "query: offset"),
    ],
)
async def test_bad_paging_is_refused(
    api: ApiHarness, sam: Account, params: dict[str, Any], field: str
) -> None:
    refused = await api.client.get(TOKENS, params=params, headers=sam.headers)
    assert _error(refused, 422)["details"][0]["field"] == field


# -- path parameters ------------------------------------------------------------------------------


def _path_params(schema: dict[str, Any]) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(method, path, parameter, its schema) for every path parameter of every operation."""
    found = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for param in operation.get("parameters", []):
                if param["in"] == "path":
                    found.append((method.upper(), path, param["name"], param["schema"]))
    return found


async def test_every_id_in_a_path_is_bounded(api: ApiHarness, sam: Account) -> None:
    """Ids are 1..2**31-1 in the schema, so absurd ones are a 422 naming them, never a 500."""
    before = await _baseline(api, sam)
    params = [p for p in _path_params(_openapi(api)) if p[3].get("type") == "integer"]
    assert ("DELETE", "/api/me/tokens/{token_id}", "token_id") in [p[:3] for p in params]
    failures = []
    for method, path, name, schema in params:
        if schema.get("minimum") != 1 or schema.get("maximum", 2**63) > 2**31 - 1:
            failures.append(f"{method} {path}: {name} is not bounded to 1..2**31-1 ({schema})")
        for value in ABSURD_IDS:
            url = path.replace(f"{{{name}}}", value)
            for other in _other_params(path, name):
                url = url.replace(other, "1")
            response = await api.client.request(method, url, json={}, headers=sam.headers)
            fields = [d["field"] for d in response.json().get("error", {}).get("details", [])]
            if response.status_code != 422 or f"path: {name}" not in fields:
                failures.append(f"{method} {url} → {response.status_code} {response.text[:160]}")
    assert not failures, "\n".join(failures)
    assert await _rows(api) == before


def _other_params(path: str, name: str) -> list[str]:
    return [part for part in path.split("/") if part.startswith("{") and part != f"{{{name}}}"]


async def test_hostile_text_in_a_path_is_a_client_error(api: ApiHarness, sam: Account) -> None:
    """Text path parameters (names, kinds, hook ids) with SQL, traversal or a huge value."""
    before = await _baseline(api, sam)
    params = [p for p in _path_params(_openapi(api)) if p[3].get("type") != "integer"]
    hostile = [*INJECTIONS, "%2e%2e%2f%2e%2e%2fetc%2fpasswd", "x" * 2000, "%00", "é"]
    failures = []
    for method, path, name, _ in params:
        for value in hostile:
            url = path.replace(f"{{{name}}}", value)
            for other in _other_params(path, name):
                url = url.replace(other, "1")
            response = await api.client.request(method, url, json={}, headers=sam.headers)
            if not 400 <= response.status_code < 500 or "root:" in response.text:
                failures.append(
                    f"{method} {url[:80]} → {response.status_code} {response.text[:160]}"
                )
    assert not failures, "\n".join(failures)
    assert await _rows(api) == before


# -- routes and methods ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/api/nope"), ("GET", "/nope"), ("POST", "/api/me/tokens/1/nope"), ("GET", "/api/")],
)
async def test_unknown_route_is_a_404_in_the_error_shape(
    api: ApiHarness, sam: Account, method: str, path: str
) -> None:
    refused = await api.client.request(method, path, headers=sam.headers)
    error = _error(refused, 404)
    assert error == {"code": "not_found", "message": f"there is no route {method} {path}"}


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "/api/me", "GET, PATCH"),
        ("PUT", "/api/auth/login", "POST"),
        ("GET", "/api/auth/logout", "POST"),
        ("POST", "/api/users", "GET"),
        ("PUT", "/api/me/tokens", "GET, POST"),
    ],
)
async def test_wrong_method_is_a_405_in_the_error_shape(
    api: ApiHarness, sam: Account, method: str, path: str, allowed: str
) -> None:
    refused = await api.client.request(method, path, headers=sam.headers)
    error = _error(refused, 405)
    assert error == {
        "code": "method_not_allowed",
        "message": f"{method} is not allowed on {path}",
    }
    assert refused.headers["allow"] == allowed
