"""``/api/auth/browser``: sign-in for Angie's web UI, the refresh token kept out of scripts' reach.

The page holds its access token in memory only. The refresh token lives in an ``HttpOnly;
Secure; SameSite=Strict`` cookie scoped to this path; refreshing and signing out also need the
``X-Angie-CSRF`` header to repeat the readable ``angie_csrf`` cookie (double submit), which a
form or a page of another site cannot do. The JSON token routes of ``/api/auth`` stay as they
are for the CLI and scripts.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Cookie, Depends, Header, Request, Response, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from angie.accounts.auth import TokenPair
from angie.accounts.security import REFRESH_TTL
from angie.api.deps import AuthDep, SessionDep, bearer_token
from angie.api.routes.auth import LoginIn
from angie.api.routes.users import UserOut
from angie.api.schemas import Out
from angie.errors import Forbidden, Unauthenticated

__all__ = ("CSRF_COOKIE", "CSRF_HEADER", "REFRESH_COOKIE", "router")

router = APIRouter(prefix="/auth/browser", tags=["auth"])
_bearer = HTTPBearer(auto_error=False)

REFRESH_COOKIE = "angie_refresh"
CSRF_COOKIE = "angie_csrf"
CSRF_HEADER = "X-Angie-CSRF"
_REFRESH_PATH = "/api/auth/browser"

RefreshCookie = Annotated[str | None, Cookie(alias=REFRESH_COOKIE, include_in_schema=False)]
CsrfCookie = Annotated[str | None, Cookie(alias=CSRF_COOKIE, include_in_schema=False)]
CsrfHeader = Annotated[
    str | None,
    Header(
        alias=CSRF_HEADER,
        description="The value of the angie_csrf cookie (double submit).",
    ),
]


class BrowserTokenOut(Out):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_in: int
    user: UserOut


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _signed_in(response: Response, pair: TokenPair) -> BrowserTokenOut:
    """Set the refresh cookie and a fresh CSRF token; the access token goes in the body."""
    age = int(REFRESH_TTL.total_seconds())
    response.set_cookie(
        REFRESH_COOKIE,
        pair.refresh_token,
        max_age=age,
        path=_REFRESH_PATH,
        secure=True,
        httponly=True,
        samesite="strict",
    )
    # Readable by the page (it sends it back as a header); worthless to anyone else alone.
    response.set_cookie(
        CSRF_COOKIE,
        secrets.token_urlsafe(32),
        max_age=age,
        path="/",
        secure=True,
        httponly=False,
        samesite="strict",
    )
    return BrowserTokenOut(
        access_token=pair.access_token,
        expires_in=pair.expires_in,
        user=UserOut.model_validate(pair.user),
    )


def _signed_out(response: Response) -> None:
    response.delete_cookie(
        REFRESH_COOKIE, path=_REFRESH_PATH, secure=True, httponly=True, samesite="strict"
    )
    response.delete_cookie(CSRF_COOKIE, path="/", secure=True, samesite="strict")


def _check_csrf(cookie: str | None, header: str | None) -> None:
    if not cookie or not header or not secrets.compare_digest(cookie, header):
        raise Forbidden(f"the {CSRF_HEADER} header must repeat the {CSRF_COOKIE} cookie")


@router.post("/login", operation_id="browser_login", responses={401: {}, 429: {}})
async def browser_login(
    body: LoginIn, request: Request, response: Response, session: SessionDep, auth: AuthDep
) -> BrowserTokenOut:
    """Sign the web UI in: an access token in the body, the refresh token in a cookie."""
    pair = await auth.login(
        session,
        email=str(body.email),
        password=body.password,
        client=_client(request),
        user_agent=request.headers.get("user-agent"),
    )
    return _signed_in(response, pair)


@router.post("/refresh", operation_id="browser_refresh", responses={401: {}, 403: {}})
async def browser_refresh(
    response: Response,
    session: SessionDep,
    auth: AuthDep,
    refresh_cookie: RefreshCookie = None,
    csrf_cookie: CsrfCookie = None,
    csrf_header: CsrfHeader = None,
) -> BrowserTokenOut:
    """A new access token for the web UI from its refresh cookie (which is rotated)."""
    _check_csrf(csrf_cookie, csrf_header)
    if not refresh_cookie:
        raise Unauthenticated("this browser is not signed in")
    pair = await auth.refresh(session, refresh_cookie)
    return _signed_in(response, pair)


@router.post(
    "/logout",
    operation_id="browser_logout",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={401: {}, 403: {}},
)
async def browser_logout(
    response: Response,
    session: SessionDep,
    auth: AuthDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    csrf_cookie: CsrfCookie = None,
    csrf_header: CsrfHeader = None,
) -> None:
    """Sign the web UI out: its login ends (the refresh cookie stops working) and the cookies
    are cleared."""
    _check_csrf(csrf_cookie, csrf_header)
    await auth.logout(session, bearer_token(credentials))
    _signed_out(response)
