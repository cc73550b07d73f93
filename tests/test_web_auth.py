"""The web UI's sign-in: the access token in the body, the refresh token in an HttpOnly cookie
scoped to /api/auth/browser, refresh and sign-out guarded by a double-submit CSRF token."""

from __future__ import annotations

from http.cookies import SimpleCookie

import httpx
from api_support import PASSWORD, ApiHarness, error_message

LOGIN = "/api/auth/browser/login"
REFRESH = "/api/auth/browser/refresh"
LOGOUT = "/api/auth/browser/logout"


def _cookies(response: httpx.Response) -> dict[str, SimpleCookie]:
    """Each Set-Cookie of the response, parsed, by cookie name."""
    found: dict[str, SimpleCookie] = {}
    for header in response.headers.get_list("set-cookie"):
        cookie = SimpleCookie()
        cookie.load(header)
        for name in cookie:
            found[name] = cookie
    return found


def _value(response: httpx.Response, name: str) -> str:
    return _cookies(response)[name][name].value


def _sent(refresh: str, csrf: str) -> str:
    """The Cookie header a browser sends to /api/auth/browser (both cookies are in scope)."""
    return f"angie_refresh={refresh}; angie_csrf={csrf}"


async def _browser_login(api: ApiHarness) -> httpx.Response:
    account = await api.signup("pat")
    answer = await api.client.post(LOGIN, json={"email": account.email, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return answer


async def test_browser_login_keeps_the_refresh_token_out_of_the_page(api: ApiHarness) -> None:
    answer = await _browser_login(api)
    body = answer.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "user"}
    cookies = _cookies(answer)
    refresh = cookies["angie_refresh"]["angie_refresh"]
    assert refresh["httponly"] is True
    assert refresh["secure"] is True
    assert refresh["samesite"].lower() == "strict"
    assert refresh["path"] == "/api/auth/browser"
    csrf = cookies["angie_csrf"]["angie_csrf"]
    assert csrf["httponly"] == ""  # the page reads it to send it back as a header
    assert csrf["secure"] is True
    assert csrf["samesite"].lower() == "strict"
    me = await api.client.get(
        "/api/me", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert me.status_code == 200, me.text


async def test_browser_refresh_rotates_the_cookie_and_gives_a_working_token(
    api: ApiHarness,
) -> None:
    login = await _browser_login(api)
    refresh, csrf = _value(login, "angie_refresh"), _value(login, "angie_csrf")
    answer = await api.client.post(
        REFRESH, headers={"Cookie": _sent(refresh, csrf), "X-Angie-CSRF": csrf}
    )
    assert answer.status_code == 200, answer.text
    assert _value(answer, "angie_refresh") != refresh
    token = answer.json()["access_token"]
    me = await api.client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200, me.text
    # The old refresh token worked once.
    again = await api.client.post(
        REFRESH, headers={"Cookie": _sent(refresh, csrf), "X-Angie-CSRF": csrf}
    )
    assert "already used" in error_message(again, 401)


async def test_browser_refresh_without_the_csrf_header_is_refused(api: ApiHarness) -> None:
    login = await _browser_login(api)
    refresh, csrf = _value(login, "angie_refresh"), _value(login, "angie_csrf")
    missing = await api.client.post(REFRESH, headers={"Cookie": _sent(refresh, csrf)})
    assert "X-Angie-CSRF" in error_message(missing, 403)
    wrong = await api.client.post(
        REFRESH, headers={"Cookie": _sent(refresh, csrf), "X-Angie-CSRF": "guessed"}
    )
    assert "X-Angie-CSRF" in error_message(wrong, 403)
    # Nothing was used up: the right header still works.
    right = await api.client.post(
        REFRESH, headers={"Cookie": _sent(refresh, csrf), "X-Angie-CSRF": csrf}
    )
    assert right.status_code == 200, right.text


async def test_browser_refresh_without_a_cookie_is_unauthorized(api: ApiHarness) -> None:
    answer = await api.client.post(
        REFRESH, headers={"Cookie": "angie_csrf=abc", "X-Angie-CSRF": "abc"}
    )
    assert "not signed in" in error_message(answer, 401)


async def test_browser_refresh_from_another_site_is_refused(api: ApiHarness) -> None:
    login = await _browser_login(api)
    refresh, csrf = _value(login, "angie_refresh"), _value(login, "angie_csrf")
    answer = await api.client.post(
        REFRESH,
        headers={
            "Cookie": _sent(refresh, csrf),
            "X-Angie-CSRF": csrf,
            "Origin": "https://evil.example",
        },
    )
    error_message(answer, 403)


async def test_browser_logout_ends_the_login_and_clears_the_cookies(api: ApiHarness) -> None:
    login = await _browser_login(api)
    refresh, csrf = _value(login, "angie_refresh"), _value(login, "angie_csrf")
    token = login.json()["access_token"]
    headers = {"Authorization": f"Bearer {token}", "X-Angie-CSRF": csrf}
    refused = await api.client.post(LOGOUT, headers={**headers, "Cookie": "angie_csrf=other"})
    error_message(refused, 403)
    answer = await api.client.post(LOGOUT, headers={**headers, "Cookie": _sent(refresh, csrf)})
    assert answer.status_code == 204, answer.text
    cleared = _cookies(answer)
    assert cleared["angie_refresh"]["angie_refresh"].value == ""
    assert cleared["angie_refresh"]["angie_refresh"]["max-age"] == "0"
    assert cleared["angie_csrf"]["angie_csrf"]["max-age"] == "0"
    after = await api.client.post(
        REFRESH, headers={"Cookie": _sent(refresh, csrf), "X-Angie-CSRF": csrf}
    )
    error_message(after, 401)
    me = await api.client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    error_message(me, 401)


async def test_browser_login_with_a_wrong_password_sets_no_cookie(api: ApiHarness) -> None:
    account = await api.signup("sam")
    answer = await api.client.post(LOGIN, json={"email": account.email, "password": "not-it!!"})
    error_message(answer, 401)
    assert "set-cookie" not in answer.headers
