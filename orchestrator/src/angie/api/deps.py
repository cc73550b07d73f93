"""The dependencies routes declare: ``AngieDep``, ``SessionDep``, ``CurrentUser``, ``AdminUser``.

A request's session is committed when its route returns, before the response is sent, so a
client that reads right after a write sees it. Authentication accepts a JWT access token or a
personal API token (``angie_pat_…``) as ``Authorization: Bearer``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from angie.api.auth import AuthService
from angie.api.errors import Forbidden, Unauthorized
from angie.daemon import Angie
from angie.db.models import User

__all__ = (
    "AdminUser",
    "AngieDep",
    "AuthDep",
    "CurrentUser",
    "SessionDep",
    "bearer_token",
    "get_angie",
    "release",
)

_bearer = HTTPBearer(auto_error=False, description="A JWT access token or a personal API token")


def get_angie(request: Request) -> Angie:
    angie: Angie = request.app.state.angie
    return angie


def get_auth(request: Request) -> AuthService:
    auth: AuthService = request.app.state.auth
    return auth


AngieDep = Annotated[Angie, Depends(get_angie)]
AuthDep = Annotated[AuthService, Depends(get_auth)]


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with get_angie(request).database.session() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def release(session: AsyncSession) -> None:
    """End the request's transaction before a service writes in a transaction of its own.

    On SQLite, a request transaction that has written anything holds the database's one write
    lock until it ends, and the service's write would wait for it.
    """
    await session.commit()


def bearer_token(credentials: HTTPAuthorizationCredentials | None) -> str:
    if credentials is None or not credentials.credentials:
        raise Unauthorized()
    return credentials.credentials


async def current_user(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    user = await get_auth(request).authenticate(session, bearer_token(credentials))
    request.state.user_id = user.id
    return user


CurrentUser = Annotated[User, Depends(current_user)]


async def admin_user(user: CurrentUser) -> User:
    if not user.is_admin:
        raise Forbidden("only an admin of this Angie can do that")
    return user


AdminUser = Annotated[User, Depends(admin_user)]
