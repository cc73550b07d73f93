"""``/api/auth``: register, log in, refresh, log out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import Field

from angie.api.deps import AuthDep, ServicesDep, SessionDep, bearer_token
from angie.api.routes.users import UserOut
from angie.api.schemas import Body, Email, Out

__all__ = ("router",)

router = APIRouter(prefix="/auth", tags=["auth"])
_bearer = HTTPBearer(auto_error=False)

Password = Annotated[str, Field(min_length=8, max_length=256)]


class RegisterIn(Body):
    email: Email
    password: Password
    display_name: str = Field(default="", max_length=120)
    invite_code: str | None = Field(default=None, max_length=128)
    setup_code: str | None = Field(
        default=None,
        max_length=64,
        description="The first account only: the code Angie printed at start "
        "(also in <data dir>/setup-code).",
    )


class LoginIn(Body):
    email: Email
    password: str = Field(min_length=1, max_length=256)


class RefreshIn(Body):
    refresh_token: str = Field(min_length=1, max_length=4096)


class TokensOut(Out):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_in: int
    user: UserOut


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.post(
    "/register",
    operation_id="register",
    status_code=status.HTTP_201_CREATED,
    responses={
        403: {"description": "The setup code (first account) or an invite is needed"},
        409: {"description": "Taken"},
        429: {"description": "Too many attempts"},
    },
)
async def register(
    body: RegisterIn, request: Request, session: SessionDep, auth: AuthDep, services: ServicesDep
) -> UserOut:
    """Create an account. The first account is the admin and needs the setup code Angie
    printed at start; later ones need an admin's invite."""
    user = await auth.register(
        session,
        email=str(body.email),
        password=body.password,
        display_name=body.display_name,
        invite_code=body.invite_code,
        setup=services.setup,
        setup_code=body.setup_code,
        client=_client(request),
    )
    return UserOut.model_validate(user)


@router.post("/login", operation_id="login", responses={401: {}, 429: {}})
async def login(body: LoginIn, request: Request, session: SessionDep, auth: AuthDep) -> TokensOut:
    """Exchange an email and password for an access token (15 min) and a refresh token."""
    pair = await auth.login(
        session,
        email=str(body.email),
        password=body.password,
        client=_client(request),
        user_agent=request.headers.get("user-agent"),
    )
    return TokensOut(
        access_token=pair.access_token,
        refresh_token=pair.refresh_token,
        expires_in=pair.expires_in,
        user=UserOut.model_validate(pair.user),
    )


@router.post("/refresh", operation_id="refresh", responses={401: {}})
async def refresh(body: RefreshIn, session: SessionDep, auth: AuthDep) -> TokensOut:
    """Exchange a refresh token for new tokens; each refresh token works once."""
    pair = await auth.refresh(session, body.refresh_token)
    return TokensOut(
        access_token=pair.access_token,
        refresh_token=pair.refresh_token,
        expires_in=pair.expires_in,
        user=UserOut.model_validate(pair.user),
    )


@router.post(
    "/logout", operation_id="logout", status_code=status.HTTP_204_NO_CONTENT, responses={401: {}}
)
async def logout(
    session: SessionDep,
    auth: AuthDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """End this login (its access and refresh tokens stop working), or revoke an API token."""
    await auth.logout(session, bearer_token(credentials))
