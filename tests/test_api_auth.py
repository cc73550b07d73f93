"""Sign-in through the HTTP API: registration and invites, login, refresh rotation, logout,
tampered and foreign tokens, personal API tokens, rate limits, admin rules and log hygiene."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json
import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from api_support import PASSWORD, Account, ApiHarness
from sqlalchemy import func, select, update

from angie.accounts.auth import AuthService
from angie.accounts.security import Tokens
from angie.api.app import create_app
from angie.db.models import ApiToken, AuthSession, Invite, User

REGISTER = "/api/auth/register"
LOGIN = "/api/auth/login"
REFRESH = "/api/auth/refresh"
LOGOUT = "/api/auth/logout"


# -- helpers --------------------------------------------------------------------------------------


def _email(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:6]}@home.test"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _error(response: httpx.Response, status: int) -> str:
    """The error message of a response that must have ``status`` and the one error shape."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "request_id"}, body
    assert body["request_id"] == response.headers["x-request-id"]
    message = body["error"]["message"]
    assert isinstance(message, str)
    assert message
    return message


async def _count(api: ApiHarness, model: type[Any]) -> int:
    async with api.angie.services.database.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def _invite(
    api: ApiHarness, admin: Account, email: str | None = None, *, is_admin: bool = False
) -> str:
    made = await api.client.post(
        "/api/users/invites", json={"email": email, "is_admin": is_admin}, headers=admin.headers
    )
    assert made.status_code == 201, made.text
    code: str = made.json()["code"]
    return code


async def _register(
    api: ApiHarness, email: str, code: str | None = None, *, setup: str | None = None
) -> httpx.Response:
    invite = {"invite_code": code} if code is not None else {}
    if setup is not None:
        invite["setup_code"] = setup
    return await api.client.post(REGISTER, json={"email": email, "password": PASSWORD, **invite})


async def _login(api: ApiHarness, email: str, password: str = PASSWORD) -> httpx.Response:
    return await api.client.post(LOGIN, json={"email": email, "password": password})


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _hand_made(header: dict[str, Any], payload: dict[str, Any], key: bytes | None) -> str:
    """A JWT assembled by hand, so the header can claim any algorithm (signed HMAC-SHA256)."""
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}"
    if key is None:
        return signing_input + "."
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def _key(api: ApiHarness) -> bytes:
    # The same derivation as angie.accounts.security.Tokens: a valid control token proves it.
    secret = api.angie.settings.secret.encode()
    return hmac.new(secret, b"angie/api-jwt/v1", hashlib.sha256).digest()


def _claims(account: Account, **changes: Any) -> dict[str, Any]:
    """The claims of ``account``'s access token with ``changes`` (a value of None drops a claim)."""
    claims: dict[str, Any] = jwt.decode(account.token, options={"verify_signature": False})
    return {k: v for k, v in {**claims, **changes}.items() if v is not None}


# -- registration ---------------------------------------------------------------------------------


async def test_first_account_is_admin_and_the_next_needs_an_invite(api: ApiHarness) -> None:
    first = await _register(api, _email("sam"), setup=api.angie.services.setup.code)
    assert first.status_code == 201, first.text
    assert first.json()["is_admin"] is True
    assert "password" not in first.text

    second = await _register(api, _email("lee"))
    assert "invite" in _error(second, 403)
    assert await _count(api, User) == 1


async def test_invited_person_registers_without_admin_rights(api: ApiHarness) -> None:
    admin = await api.signup("sam")
    email = _email("lee")
    code = await _invite(api, admin, email)
    made = await _register(api, email.upper(), code)  # emails are compared lower-cased
    assert made.status_code == 201, made.text
    assert made.json()["is_admin"] is False
    assert made.json()["email"] == email
    async with api.angie.services.database.session() as session:
        invite = await session.scalar(select(Invite))
        assert invite is not None
        assert invite.used_at is not None
        assert invite.used_by_id == made.json()["id"]


async def test_admin_invite_makes_an_admin(api: ApiHarness) -> None:
    admin = await api.signup("sam")
    email = _email("lee")
    made = await _register(api, email, await _invite(api, admin, email, is_admin=True))
    assert made.status_code == 201, made.text
    assert made.json()["is_admin"] is True


async def test_invite_works_once(api: ApiHarness) -> None:
    admin = await api.signup("sam")
    code = await _invite(api, admin)
    assert (await _register(api, _email("lee"), code)).status_code == 201
    again = await _register(api, _email("kim"), code)
    assert "not valid" in _error(again, 403)
    assert await _count(api, User) == 2


@pytest.mark.parametrize(
    ("problem", "reason"),
    [("unknown", "not valid"), ("expired", "expired"), ("for-someone-else", "another email")],
)
async def test_bad_invite_is_refused(api: ApiHarness, problem: str, reason: str) -> None:
    admin = await api.signup("sam")
    code = await _invite(api, admin, _email("lee") if problem == "for-someone-else" else None)
    if problem == "expired":
        async with api.angie.services.database.session() as session:
            yesterday = datetime.now(UTC) - timedelta(days=1)
            await session.execute(update(Invite).values(expires_at=yesterday))
    refused = await _register(api, _email("kim"), "made-up" if problem == "unknown" else code)
    assert reason in _error(refused, 403)
    assert await _count(api, User) == 1


async def test_duplicate_email_is_a_conflict(api: ApiHarness) -> None:
    admin = await api.signup("sam")
    refused = await _register(api, admin.email.upper(), await _invite(api, admin))
    assert "already exists" in _error(refused, 409)
    assert await _count(api, User) == 1


async def test_short_password_is_refused(api: ApiHarness) -> None:
    refused = await api.client.post(REGISTER, json={"email": _email("sam"), "password": "short"})
    message = _error(refused, 422)
    assert "password" in message
    assert refused.json()["error"]["details"][0]["field"] == "body: password"
    assert await _count(api, User) == 0


async def test_passwords_are_stored_as_argon2id_hashes(api: ApiHarness) -> None:
    account = await api.signup("sam")
    async with api.angie.services.database.session() as session:
        user = await session.get(User, account.id)
        assert user is not None
        assert user.password_hash is not None
        assert user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in user.password_hash


# -- login ----------------------------------------------------------------------------------------


async def test_wrong_password_and_unknown_email_look_the_same(api: ApiHarness) -> None:
    account = await api.signup("sam")
    wrong = _error(await _login(api, account.email, "not the password"), 401)
    unknown = _error(await _login(api, _email("nobody")), 401)
    assert wrong == unknown == "the email or the password is wrong"


async def test_login_stamps_last_login(api: ApiHarness) -> None:
    account = await api.signup("sam")
    logged = await _login(api, account.email)
    assert logged.status_code == 200, logged.text
    assert logged.json()["user"]["last_login_at"] is not None
    assert logged.json()["token_type"] == "bearer"
    async with api.angie.services.database.session() as session:
        user = await session.get(User, account.id)
        assert user is not None
        assert user.last_login_at is not None


async def test_deactivated_account_cannot_log_in_or_use_its_tokens(api: ApiHarness) -> None:
    admin = await api.signup("sam")
    lee = await api.signup("lee")
    off = await api.client.patch(
        f"/api/users/{lee.id}", json={"is_active": False}, headers=admin.headers
    )
    assert off.status_code == 200, off.text
    assert "deactivated" in _error(await _login(api, lee.email), 403)
    assert "deactivated" in _error(await api.client.get("/api/me", headers=lee.headers), 401)
    refreshed = await api.client.post(REFRESH, json={"refresh_token": lee.refresh_token})
    assert "deactivated" in _error(refreshed, 401)


# -- refresh and logout ---------------------------------------------------------------------------


async def test_refresh_rotates_and_reuse_ends_the_session(api: ApiHarness) -> None:
    account = await api.signup("sam")
    first = await api.client.post(REFRESH, json={"refresh_token": account.refresh_token})
    assert first.status_code == 200, first.text
    newest = first.json()
    assert newest["refresh_token"] != account.refresh_token
    assert (await api.client.get("/api/me", headers=_bearer(newest["access_token"]))).is_success

    reused = await api.client.post(REFRESH, json={"refresh_token": account.refresh_token})
    assert "already used" in _error(reused, 401)
    # The reuse ended the whole session: the newest refresh and access tokens are dead too.
    after = await api.client.post(REFRESH, json={"refresh_token": newest["refresh_token"]})
    assert "ended" in _error(after, 401)
    me = await api.client.get("/api/me", headers=_bearer(newest["access_token"]))
    assert "ended" in _error(me, 401)
    async with api.angie.services.database.session() as session:
        row = await session.scalar(select(AuthSession).where(AuthSession.user_id == account.id))
        assert row is not None
        assert row.revoked_at is not None


async def test_logout_ends_access_and_refresh(api: ApiHarness) -> None:
    account = await api.signup("sam")
    out = await api.client.post(LOGOUT, headers=account.headers)
    assert out.status_code == 204, out.text
    assert "ended" in _error(await api.client.get("/api/me", headers=account.headers), 401)
    refreshed = await api.client.post(REFRESH, json={"refresh_token": account.refresh_token})
    assert "ended" in _error(refreshed, 401)


async def test_logout_needs_a_token(api: ApiHarness) -> None:
    assert "Bearer" in _error(await api.client.post(LOGOUT), 401)


async def test_logout_of_one_session_keeps_the_others(api: ApiHarness) -> None:
    account = await api.signup("sam")
    other = (await _login(api, account.email)).json()
    assert (await api.client.post(LOGOUT, headers=account.headers)).status_code == 204
    assert (await api.client.get("/api/me", headers=_bearer(other["access_token"]))).is_success


# -- tampered, foreign and malformed tokens -------------------------------------------------------


async def test_hand_made_token_with_the_right_key_is_accepted(api: ApiHarness) -> None:
    """The control for the tampering tests below: the key and claims they start from work."""
    account = await api.signup("sam")
    token = _hand_made({"alg": "HS256", "typ": "JWT"}, _claims(account), _key(api))
    assert (await api.client.get("/api/me", headers=_bearer(token))).status_code == 200


async def test_expired_access_token_is_refused(api: ApiHarness) -> None:
    account = await api.signup("sam")
    sid = _claims(account)["sid"]
    stale = Tokens(api.angie.settings.secret, access_ttl=timedelta(minutes=-5))
    token, _ = stale.issue(account.id, sid, "access")
    assert "expired" in _error(await api.client.get("/api/me", headers=_bearer(token)), 401)


HS256 = {"alg": "HS256", "typ": "JWT"}


def _tampered(name: str, changes: dict[str, Any], reason: str = "not valid", **kw: Any) -> Any:
    header, key = kw.get("header", HS256), kw.get("key", "same")
    return pytest.param(header, changes, key, reason, id=name)


@pytest.mark.parametrize(
    ("header", "changes", "key", "reason"),
    [
        _tampered("forged-key", {}, key=b"another-angie-entirely"),
        _tampered("alg-none", {}, header={"alg": "none", "typ": "JWT"}, key=None),
        _tampered("hs512-header", {}, header={"alg": "HS512", "typ": "JWT"}),
        _tampered("rs256-header", {}, header={"alg": "RS256", "typ": "JWT"}),
        _tampered("wrong-issuer", {"iss": "mallory"}),
        _tampered("wrong-audience", {"aud": "other-api"}),
        _tampered("missing-exp", {"exp": None}),
        _tampered("text-exp", {"exp": "tomorrow"}),
        _tampered("missing-sub", {"sub": None}),
        _tampered("non-numeric-sub", {"sub": "sam"}),
        _tampered("huge-sub", {"sub": str(2**70)}),
        _tampered("missing-sid", {"sid": None}),
        _tampered("huge-sid", {"sid": 2**70}),
        _tampered("negative-sid", {"sid": -1}),
        _tampered("refresh-typ", {"typ": "refresh"}, "not an access"),
        _tampered("missing-typ", {"typ": None}, "not an access"),
    ],
)
async def test_tampered_token_is_refused(
    api: ApiHarness,
    header: dict[str, Any],
    changes: dict[str, Any],
    key: bytes | str | None,
    reason: str,
) -> None:
    account = await api.signup("sam")
    signing_key = _key(api) if key == "same" else key
    assert not isinstance(signing_key, str)
    token = _hand_made(header, _claims(account, **changes), signing_key)
    refused = await api.client.get("/api/me", headers=_bearer(token))
    assert reason in _error(refused, 401)
    assert refused.headers["www-authenticate"] == "Bearer"


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
async def test_hs512_signed_with_the_same_key_is_refused(api: ApiHarness) -> None:
    """A correctly signed HS512 token: the algorithm is pinned, not read from the header."""
    account = await api.signup("sam")
    token = jwt.encode(_claims(account), _key(api), algorithm="HS512")
    assert "not valid" in _error(await api.client.get("/api/me", headers=_bearer(token)), 401)


async def test_refresh_token_is_not_an_access_token(api: ApiHarness) -> None:
    account = await api.signup("sam")
    refused = await api.client.get("/api/me", headers=_bearer(account.refresh_token))
    assert "not an access token" in _error(refused, 401)


async def test_access_token_is_not_a_refresh_token(api: ApiHarness) -> None:
    account = await api.signup("sam")
    refused = await api.client.post(REFRESH, json={"refresh_token": account.token})
    assert "not a refresh token" in _error(refused, 401)
    # And the session is untouched by the attempt.
    assert (await api.client.get("/api/me", headers=account.headers)).status_code == 200


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer garbage",
        "Bearer a.b.c",
        "Bearer " + "x" * 5000,
        "Bearer angie_pat_not-a-real-token",
        "Bearer ",
        "Bearer",
        "Basic c2FtOnB3",
        "",
        "Bearer é-ü",
    ],
)
async def test_malformed_authorization_is_refused(api: ApiHarness, authorization: str) -> None:
    await api.signup("sam")
    refused = await api.client.get(
        "/api/me", headers={b"Authorization": authorization.encode("utf-8")}
    )
    _error(refused, 401)


async def test_no_authorization_header_is_refused(api: ApiHarness) -> None:
    refused = await api.client.get("/api/me")
    assert "Authorization: Bearer" in _error(refused, 401)


# -- personal API tokens --------------------------------------------------------------------------


async def _new_api_token(api: ApiHarness, account: Account, **body: Any) -> dict[str, Any]:
    made = await api.client.post(
        "/api/me/tokens", json={"name": "cli", **body}, headers=account.headers
    )
    assert made.status_code == 201, made.text
    created: dict[str, Any] = made.json()
    return created


async def test_api_token_is_shown_once_and_works_as_a_bearer(api: ApiHarness) -> None:
    account = await api.signup("sam")
    created = await _new_api_token(api, account)
    value = created["token"]
    assert value.startswith("angie_pat_")
    assert value.startswith(created["prefix"])

    listed = await api.client.get("/api/me/tokens", headers=account.headers)
    assert listed.status_code == 200, listed.text
    assert value not in listed.text
    assert [set(item) for item in listed.json()["items"]] == [
        {"id", "name", "prefix", "scopes", "created_at", "last_used_at", "expires_at", "revoked_at"}
    ]
    me = await api.client.get("/api/me", headers=_bearer(value))
    assert me.status_code == 200, me.text
    assert me.json()["id"] == account.id
    async with api.angie.services.database.session() as session:
        row = await session.get(ApiToken, created["id"])
        assert row is not None
        assert row.last_used_at is not None
        assert value not in row.token_hash


async def test_revoked_api_token_is_refused(api: ApiHarness) -> None:
    account = await api.signup("sam")
    created = await _new_api_token(api, account)
    gone = await api.client.delete(f"/api/me/tokens/{created['id']}", headers=account.headers)
    assert gone.status_code == 204, gone.text
    refused = await api.client.get("/api/me", headers=_bearer(created["token"]))
    assert "revoked" in _error(refused, 401)


async def test_expired_api_token_is_refused(api: ApiHarness) -> None:
    account = await api.signup("sam")
    created = await _new_api_token(api, account, expires_in_days=1)
    async with api.angie.services.database.session() as session:
        await session.execute(
            update(ApiToken).values(expires_at=datetime.now(UTC) - timedelta(minutes=1))
        )
    refused = await api.client.get("/api/me", headers=_bearer(created["token"]))
    assert "expired" in _error(refused, 401)


async def test_logout_with_an_api_token_revokes_it(api: ApiHarness) -> None:
    account = await api.signup("sam")
    created = await _new_api_token(api, account)
    out = await api.client.post(LOGOUT, headers=_bearer(created["token"]))
    assert out.status_code == 204, out.text
    assert "revoked" in _error(
        await api.client.get("/api/me", headers=_bearer(created["token"])), 401
    )
    assert (await api.client.get("/api/me", headers=account.headers)).status_code == 200


async def test_api_token_is_not_a_refresh_token(api: ApiHarness) -> None:
    account = await api.signup("sam")
    created = await _new_api_token(api, account)
    refused = await api.client.post(REFRESH, json={"refresh_token": created["token"]})
    _error(refused, 401)


async def test_nobody_else_can_revoke_my_api_token(api: ApiHarness) -> None:
    sam = await api.signup("sam")
    lee = await api.signup("lee")
    created = await _new_api_token(api, sam)
    refused = await api.client.delete(f"/api/me/tokens/{created['id']}", headers=lee.headers)
    assert f"no API token {created['id']}" in _error(refused, 404)
    assert (await api.client.get("/api/me", headers=_bearer(created["token"]))).status_code == 200


# -- rate limits ----------------------------------------------------------------------------------


async def test_login_is_rate_limited_with_retry_after(api: ApiHarness) -> None:
    account = await api.signup("sam")
    strict = AuthService(api.angie.settings.secret, login_limit="3/minute")
    app = create_app(dataclasses.replace(api.angie.services, auth_service=strict))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://angie.test"
    ) as client:
        for _ in range(3):
            attempt = await client.post(
                LOGIN, json={"email": account.email, "password": "nope-nope"}
            )
            assert attempt.status_code == 401, attempt.text
        limited = await client.post(LOGIN, json={"email": account.email, "password": PASSWORD})
        assert "too many attempts" in _error(limited, 429)
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        # The limit is per account: someone else on the same machine can still log in.
        other = await client.post(LOGIN, json={"email": _email("lee"), "password": PASSWORD})
        assert other.status_code == 401, other.text


# -- admin rules ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/users", None),
        ("PATCH", "/api/users/1", {"is_admin": False}),
        ("GET", "/api/users/invites", None),
        ("POST", "/api/users/invites", {"is_admin": True}),
        ("DELETE", "/api/users/invites/1", None),
    ],
)
async def test_admin_routes_refuse_other_people(
    api: ApiHarness, method: str, path: str, body: dict[str, Any] | None
) -> None:
    admin = await api.signup("sam")
    await _invite(api, admin)
    lee = await api.signup("lee")
    refused = await api.client.request(method, path, json=body, headers=lee.headers)
    assert "admin" in _error(refused, 403)
    async with api.angie.services.database.session() as session:
        sam = await session.get(User, admin.id)
        assert sam is not None
        assert sam.is_admin
    assert await _count(api, Invite) == 2  # the helper's invite for lee and ours, nothing new


@pytest.mark.parametrize("change", [{"is_admin": False}, {"is_active": False}])
async def test_admin_cannot_demote_or_deactivate_themself(
    api: ApiHarness, change: dict[str, bool]
) -> None:
    admin = await api.signup("sam")
    refused = await api.client.patch(f"/api/users/{admin.id}", json=change, headers=admin.headers)
    assert "yourself" in _error(refused, 409)
    me = await api.client.get("/api/me", headers=admin.headers)
    assert me.json()["is_admin"] is True
    assert me.json()["is_active"] is True


# -- logs -----------------------------------------------------------------------------------------


async def test_secrets_never_reach_the_logs(
    api: ApiHarness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    admin = await api.signup("sam")
    code = await _invite(api, admin)
    email = _email("lee")
    made = await _register(api, email, code)
    assert made.status_code == 201
    tokens = (await _login(api, email)).json()
    refreshed = await api.client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]})
    api_token = (await _new_api_token(api, admin))["token"]
    await api.client.get("/api/me", headers=_bearer(api_token), params={"token": api_token})
    await _login(api, email, "a-wrong-password-123")
    secrets = {
        PASSWORD,
        "a-wrong-password-123",
        code,
        admin.token,
        admin.refresh_token,
        tokens["access_token"],
        tokens["refresh_token"],
        refreshed.json()["access_token"],
        refreshed.json()["refresh_token"],
        api_token,
    }
    logged = [
        record.getMessage() + " " + json.dumps(record.__dict__, default=str)
        for record in caplog.records
        if record.name != "httpx"  # the test's own client logs the URLs it sends
    ]
    assert logged
    for text in logged:
        for secret in secrets:
            assert secret not in text


async def test_access_log_line_names_the_request(
    api: ApiHarness, caplog: pytest.LogCaptureFixture
) -> None:
    account = await api.signup("sam")
    caplog.set_level(logging.INFO, logger="angie.api.access")
    response = await api.client.get(
        "/api/me", headers={**account.headers, "X-Request-Id": "req-42"}, params={"q": "private"}
    )
    assert response.headers["x-request-id"] == "req-42"
    lines = [r for r in caplog.records if r.name == "angie.api.access"]
    assert len(lines) == 1
    fields = lines[0].__dict__
    assert fields["request_id"] == "req-42"
    assert (fields["method"], fields["path"], fields["status"]) == ("GET", "/api/me", 200)
    assert fields["user_id"] == account.id
    assert "private" not in lines[0].getMessage()
    assert "GET /api/me 200" in lines[0].getMessage()


async def test_unsafe_request_id_is_replaced(
    api: ApiHarness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="angie.api.access")
    response = await api.client.get("/api/health", headers={"X-Request-Id": "a b\tforged line"})
    given = response.headers["x-request-id"]
    assert given != "a b\tforged line"
    assert len(given) == 32
    logged = [r.__dict__["request_id"] for r in caplog.records if r.name == "angie.api.access"]
    assert logged == [given]


async def test_changing_the_password_ends_every_login(api: ApiHarness) -> None:
    sam = await api.signup("sam")
    elsewhere = await api.client.post(
        "/api/auth/login", json={"email": sam.email, "password": PASSWORD}
    )
    other = {"Authorization": f"Bearer {elsewhere.json()['access_token']}"}

    changed = await api.client.post(
        "/api/me/password",
        json={"current_password": PASSWORD, "new_password": "a brand new passphrase"},
        headers=sam.headers,
    )

    assert changed.status_code == 204
    for headers in (sam.headers, other):
        assert (await api.client.get("/api/me", headers=headers)).status_code == 401
    relogin = await api.client.post(
        "/api/auth/login", json={"email": sam.email, "password": "a brand new passphrase"}
    )
    assert relogin.status_code == 200
