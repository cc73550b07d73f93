"""The dependencies routes declare: the services they use, ``SessionDep``, ``CurrentUser``,
``AdminUser``.

Routes take narrow services (``TasksDep``, ``ToolboxDep``, …) from the one
:class:`~angie.services.Services` the app was made with; none reaches into the process.

Transactions have one owner each. Signing in is a short transaction of the request's session,
committed (its connection back in the pool) before the route starts; what the route then does
with ``SessionDep`` is its own transaction, committed when it returns, before the response is
sent (so a client that reads right after a write sees it); a service a route calls commits its
own. So a route never holds a connection or a write lock that a service waits for.
Authentication accepts a JWT access token or a personal API token (``angie_pat_…``) as
``Authorization: Bearer``; a token must also hold the route's scope (:mod:`angie.accounts.scopes`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from angie.accounts import AuthService
from angie.accounts.auth import SignIn
from angie.accounts.scopes import allows, needed_scope
from angie.agents.approvals import ApprovalService
from angie.agents.toolbox import Toolbox
from angie.db.engine import Database
from angie.db.models import User
from angie.errors import Forbidden, Unauthenticated
from angie.live import LiveBus
from angie.prompts import HouseholdPromptStore, PromptLibrary, UserPromptStore
from angie.scheduler import Scheduler
from angie.services import Services
from angie.settings import AngieSettings
from angie.tasks.service import TaskService

__all__ = (
    "AdminUser",
    "ApprovalsDep",
    "AuthDep",
    "CurrentSignIn",
    "CurrentUser",
    "DatabaseDep",
    "HouseholdPromptsDep",
    "LibraryDep",
    "LiveDep",
    "SchedulesDep",
    "ServicesDep",
    "SessionDep",
    "SettingsDep",
    "TasksDep",
    "ToolboxDep",
    "UserPromptsDep",
    "bearer_token",
    "get_services",
)

_bearer = HTTPBearer(auto_error=False, description="A JWT access token or a personal API token")


# The dependencies are ``async def`` though they await nothing: FastAPI runs a plain function
# in its thread pool, a hop per dependency on every request.
async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def _part[T](name: str, kind: type[T]) -> Callable[[Services], Awaitable[T]]:
    """A dependency that hands a route one of the services, by its name on :class:`Services`."""

    async def part(services: ServicesDep) -> T:
        found = getattr(services, name)
        assert isinstance(found, kind)
        return found

    part.__name__ = f"get_{name}"
    return part


SettingsDep = Annotated[AngieSettings, Depends(_part("settings", AngieSettings))]
DatabaseDep = Annotated[Database, Depends(_part("database", Database))]
AuthDep = Annotated[AuthService, Depends(_part("auth", AuthService))]
TasksDep = Annotated[TaskService, Depends(_part("tasks", TaskService))]
ToolboxDep = Annotated[Toolbox, Depends(_part("toolbox", Toolbox))]
ApprovalsDep = Annotated[ApprovalService, Depends(_part("approvals", ApprovalService))]
SchedulesDep = Annotated[Scheduler, Depends(_part("schedules", Scheduler))]
LiveDep = Annotated[LiveBus, Depends(_part("live", LiveBus))]
UserPromptsDep = Annotated[UserPromptStore, Depends(_part("user_prompts", UserPromptStore))]
LibraryDep = Annotated[PromptLibrary, Depends(_part("library", PromptLibrary))]
HouseholdPromptsDep = Annotated[
    HouseholdPromptStore, Depends(_part("household_prompts", HouseholdPromptStore))
]


async def get_session(database: DatabaseDep) -> AsyncIterator[AsyncSession]:
    """The request's session: committed when the route returns, rolled back if it fails.

    Not one ``begin()`` block: a sign-in that wrote commits its own short transaction first,
    and the route's work then begins a new one on the same session.
    """
    async with database.sessions() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        await session.commit()


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


def bearer_token(credentials: HTTPAuthorizationCredentials | None) -> str:
    if credentials is None or not credentials.credentials:
        raise Unauthenticated()
    return credentials.credentials


async def current_sign_in(
    request: Request,
    session: SessionDep,
    auth: AuthDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> SignIn:
    signed_in = await auth.sign_in(session, bearer_token(credentials))
    if signed_in.wrote:
        # Ended before the route runs: its write lock is not held for the route's work. A
        # sign-in that only read goes on in the route's transaction (one commit, not two).
        await session.commit()
    request.state.user_id = signed_in.user.id
    _check_scope(request, signed_in)
    return signed_in


def _check_scope(request: Request, signed_in: SignIn) -> None:
    """Refuse an API token whose scopes do not cover the route (its tag's area, read/write).

    Checked here, where every signed-in route passes, so no route can forget it.
    """
    route = request.scope.get("route")
    needed = needed_scope(getattr(route, "tags", ()), request.method)
    if not allows(signed_in.scopes, needed):
        raise Forbidden(f"this API token lacks the scope {needed}; make one that has it")


CurrentSignIn = Annotated[SignIn, Depends(current_sign_in)]


async def current_user(signed_in: CurrentSignIn) -> User:
    return signed_in.user


CurrentUser = Annotated[User, Depends(current_user)]


async def admin_user(user: CurrentUser) -> User:
    if not user.is_admin:
        raise Forbidden("only an admin of this Angie can do that")
    return user


AdminUser = Annotated[User, Depends(admin_user)]
