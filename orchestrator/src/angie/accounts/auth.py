"""Who is calling: registration (first user = admin, then by invite), login, refresh, logout,
personal API tokens and the bearer check every protected route runs.

A row that may be taken once (an invite, a refresh token) is taken with a conditional update
whose row count says who won: ``SELECT … FOR UPDATE`` is ignored by SQLite.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from limits import RateLimitItem, parse
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string
from sqlalchemy import CursorResult, bindparam, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from angie.accounts.scopes import ALL, join_scopes, parse_scopes, split_scopes
from angie.accounts.security import (
    API_TOKEN_PREFIX,
    Passwords,
    TokenError,
    Tokens,
    digest,
    new_api_token,
    new_secret,
)
from angie.accounts.setup_code import SetupCode
from angie.db.models import ApiToken, AuthSession, Invite, User
from angie.errors import Conflict, Forbidden, RateLimited
from angie.errors import Unauthenticated as Unauthorized

__all__ = ("AuthService", "SignIn", "TokenPair")

INVITE_TTL = timedelta(days=7)
# Last-used stamps are written at most this often, so reads stay reads.
_TOUCH_EVERY = timedelta(minutes=1)
# Tokens whose stamp this process remembers; older entries are dropped beyond this many.
_TOUCHED_KEPT = 1024
_INVITE_INVALID = "the invite code is not valid (unknown, used or expired)"
# The person of a login that has not ended. Built once: every signed-in request runs it, and a
# statement made per request costs more to build and to key for the cache than to run.
_LOGGED_IN = (
    select(User)
    .join(AuthSession, AuthSession.user_id == User.id)
    .where(
        AuthSession.id == bindparam("session_id"),
        AuthSession.revoked_at.is_(None),
        User.id == bindparam("user_id"),
    )
)


def _taken(result: object) -> bool:
    """Whether a conditional update changed exactly one row (it won the race)."""
    assert isinstance(result, CursorResult)
    return result.rowcount == 1


@dataclass(frozen=True, slots=True)
class SignIn:
    """How a request signed in: a login (``session_id``) or a personal API token
    (``token_id``), and whose it is."""

    user: User
    session_id: int | None = None
    token_id: int | None = None
    # What an API token may do (angie.accounts.scopes); a login may do everything.
    scopes: tuple[str, ...] = ("*",)
    # Whether signing in wrote (an API token's last use): the caller then commits before the
    # route runs, so the write lock is not held for the route's work.
    wrote: bool = False

    @property
    def by_api_token(self) -> bool:
        return self.token_id is not None


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    user: User


class AuthService:
    def __init__(
        self,
        secret: str,
        *,
        redis_url: str | None = None,
        passwords: Passwords | None = None,
        login_limit: str = "10/minute",
        login_ip_limit: str = "30/minute",
        register_limit: str = "10/hour",
    ) -> None:
        self.tokens = Tokens(secret)
        self.passwords = passwords or Passwords()
        storage = (
            storage_from_string(
                f"async+{redis_url}", implementation="redispy", key_prefix="angie-limits"
            )
            if redis_url
            else storage_from_string("async+memory://")
        )
        self._limiter = MovingWindowRateLimiter(storage)
        self._login_limit = parse(login_limit)
        self._login_ip_limit = parse(login_ip_limit)
        self._register_limit = parse(register_limit)
        # When this process last stamped each token: a burst with one token stamps it once.
        self._touched: dict[int, datetime] = {}

    # -- rate limits ---------------------------------------------------------------------------

    async def _limit(self, item: RateLimitItem, *keys: str) -> None:
        if await self._limiter.hit(item, *keys):
            return
        stats = await self._limiter.get_window_stats(item, *keys)
        retry = max(1, int(stats.reset_time - datetime.now(UTC).timestamp()))
        raise RateLimited(f"too many attempts; try again in {retry} seconds", retry_after=retry)

    # -- accounts ------------------------------------------------------------------------------

    async def register(
        self,
        session: AsyncSession,
        *,
        email: str,
        password: str,
        display_name: str,
        invite_code: str | None,
        setup: SetupCode,
        setup_code: str | None,
        client: str,
    ) -> User:
        """The first account needs ``setup``'s code and becomes the admin; later ones need an
        invite. The code or the invite is taken once, before the account is made; the password
        is hashed before an invite is taken, so SQLite's write lock is not held meanwhile."""
        await self._limit(self._register_limit, "register", client)
        email = email.strip().lower()
        first = (await session.scalar(select(func.count()).select_from(User))) == 0
        if first:
            setup.check(setup_code)
            # Taken with no await in between: a parallel registration finds no code.
            setup.take()
            try:
                user = await self._make_user(
                    session, email, await self._hash(password), display_name, True
                )
            except BaseException:
                setup.put_back()
                raise
            setup.retire()
            return user
        if not invite_code:
            raise Forbidden("registration needs an invite from an admin of this Angie")
        now = datetime.now(UTC)
        invite = await session.scalar(select(Invite).where(Invite.code_hash == digest(invite_code)))
        if invite is None or invite.used_at is not None or invite.expires_at <= now:
            raise Forbidden(_INVITE_INVALID)
        if invite.email and invite.email.lower() != email:
            raise Forbidden("the invite is for another email address")
        password_hash = await self._hash(password)
        claimed = await session.execute(
            update(Invite)
            .where(Invite.id == invite.id, Invite.used_at.is_(None), Invite.expires_at > now)
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
        if not _taken(claimed):
            raise Forbidden(_INVITE_INVALID)
        user = await self._make_user(session, email, password_hash, display_name, invite.is_admin)
        await session.execute(
            update(Invite)
            .where(Invite.id == invite.id)
            .values(used_by_id=user.id)
            .execution_options(synchronize_session=False)
        )
        return user

    async def _hash(self, password: str) -> str:
        # argon2 takes a while: in a thread, so other requests go on meanwhile.
        return await asyncio.to_thread(self.passwords.hash, password)

    async def _make_user(
        self,
        session: AsyncSession,
        email: str,
        password_hash: str,
        display_name: str,
        is_admin: bool,
    ) -> User:
        if await session.scalar(select(User.id).where(User.email == email)) is not None:
            raise Conflict("an account with that email already exists")
        user = User(
            email=email,
            display_name=display_name.strip() or email.split("@", 1)[0],
            password_hash=password_hash,
            is_admin=is_admin,
        )
        session.add(user)
        try:
            await session.flush()
        except IntegrityError:
            raise Conflict("an account with that email already exists") from None
        return user

    async def login(
        self,
        session: AsyncSession,
        *,
        email: str,
        password: str,
        client: str,
        user_agent: str | None,
    ) -> TokenPair:
        """Limited per address and per account whatever the address, so guesses spread over
        many addresses still stop."""
        email = email.strip().lower()
        await self._limit(self._login_ip_limit, "login-ip", client)
        await self._limit(self._login_limit, "login-account", email)
        user = await session.scalar(select(User).where(User.email == email))
        ok, upgraded = await asyncio.to_thread(
            self.passwords.verify, password, user.password_hash if user else None
        )
        if user is None or not ok:
            raise Unauthorized("the email or the password is wrong")
        if not user.is_active:
            raise Forbidden("this account is deactivated; ask an admin")
        if upgraded:
            user.password_hash = upgraded
        user.last_login_at = datetime.now(UTC)
        return await self._open_session(session, user, user_agent)

    async def change_password(
        self,
        session: AsyncSession,
        user: User,
        *,
        current: str,
        new: str,
        revoke_api_tokens: bool,
    ) -> None:
        """Check ``current``, store ``new`` and end every login (and, when asked, revoke every
        personal API token: one made with a stolen password must not outlive the change)."""
        ok, _ = await asyncio.to_thread(self.passwords.verify, current, user.password_hash)
        if not ok:
            raise Forbidden("the current password is wrong")
        user.password_hash = await self._hash(new)
        now = datetime.now(UTC)
        await session.execute(
            update(AuthSession)
            .where(AuthSession.user_id == user.id, AuthSession.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        if revoke_api_tokens:
            await session.execute(
                update(ApiToken)
                .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
                .values(revoked_at=now)
            )

    async def _open_session(
        self, session: AsyncSession, user: User, user_agent: str | None
    ) -> TokenPair:
        row = AuthSession(
            user_id=user.id,
            refresh_hash=digest(new_secret()),  # replaced below, once the jti exists
            user_agent=(user_agent or "")[:255] or None,
            expires_at=datetime.now(UTC),
        )
        session.add(row)
        await session.flush()
        return self._pair(row, user)

    def _pair(self, row: AuthSession, user: User) -> TokenPair:
        access, _ = self.tokens.issue(user.id, row.id, "access")
        refresh, claims = self.tokens.issue(user.id, row.id, "refresh")
        row.refresh_hash = digest(claims.jti)
        row.expires_at = claims.expires_at
        row.last_used_at = datetime.now(UTC)
        return TokenPair(access, refresh, int(self.tokens.access_ttl.total_seconds()), user)

    async def refresh(self, session: AsyncSession, refresh_token: str) -> TokenPair:
        """New tokens for a refresh token, which works once: the rotation is a conditional
        update on the old token's hash, so of two parallel uses only one wins."""
        try:
            claims = self.tokens.verify(refresh_token, "refresh")
        except TokenError as err:
            raise Unauthorized(str(err)) from None
        row = await session.get(AuthSession, claims.session_id)
        if row is None or row.revoked_at is not None or row.user_id != claims.user_id:
            raise Unauthorized("this session has ended; log in again")
        user = await session.get(User, row.user_id)
        if user is None or not user.is_active:
            raise Unauthorized("this account is deactivated; ask an admin")
        access, _ = self.tokens.issue(user.id, row.id, "access")
        refresh, fresh = self.tokens.issue(user.id, row.id, "refresh")
        now = datetime.now(UTC)
        rotated = await session.execute(
            update(AuthSession)
            .where(
                AuthSession.id == row.id,
                AuthSession.refresh_hash == digest(claims.jti),
                AuthSession.revoked_at.is_(None),
            )
            .values(refresh_hash=digest(fresh.jti), expires_at=fresh.expires_at, last_used_at=now)
            .execution_options(synchronize_session=False)
        )
        if not _taken(rotated):
            # A refresh token used twice: someone else may hold it. End the session, and
            # commit that now: the error below rolls the rest of the request back.
            await session.execute(
                update(AuthSession)
                .where(AuthSession.id == row.id, AuthSession.revoked_at.is_(None))
                .values(revoked_at=now)
                .execution_options(synchronize_session=False)
            )
            await session.commit()
            raise Unauthorized("this refresh token was already used; log in again")
        return TokenPair(access, refresh, int(self.tokens.access_ttl.total_seconds()), user)

    async def logout(self, session: AsyncSession, token: str) -> None:
        """End the login the access token belongs to (an API token is revoked instead)."""
        if token.startswith(API_TOKEN_PREFIX):
            row = await session.scalar(select(ApiToken).where(ApiToken.token_hash == digest(token)))
            if row is not None and row.revoked_at is None:
                row.revoked_at = datetime.now(UTC)
            return
        try:
            claims = self.tokens.verify(token, "access")
        except TokenError as err:
            raise Unauthorized(str(err)) from None
        login = await session.get(AuthSession, claims.session_id)
        if login is not None and login.revoked_at is None:
            login.revoked_at = datetime.now(UTC)

    # -- the bearer check ----------------------------------------------------------------------

    async def authenticate(self, session: AsyncSession, token: str) -> User:
        """The person a bearer token belongs to: one query for the token's row and its user."""
        return (await self.sign_in(session, token)).user

    async def sign_in(self, session: AsyncSession, token: str) -> SignIn:
        """How a bearer token signs in: whose it is and through which login or API token."""
        now = datetime.now(UTC)
        if token.startswith(API_TOKEN_PREFIX):
            found = (
                await session.execute(
                    select(ApiToken, User)
                    .join(User, User.id == ApiToken.user_id)
                    .where(ApiToken.token_hash == digest(token))
                )
            ).first()
            if found is None or found[0].revoked_at is not None:
                raise Unauthorized("the API token is not valid (unknown or revoked)")
            row, user = found
            if row.expires_at is not None and row.expires_at <= now:
                raise Unauthorized("the API token has expired; make a new one")
            wrote = await self._touch(session, row, now)
            signed_in = SignIn(user, token_id=row.id, scopes=split_scopes(row.scopes), wrote=wrote)
        else:
            try:
                claims = self.tokens.verify(token, "access")
            except TokenError as err:
                raise Unauthorized(str(err)) from None
            user = await self._logged_in(session, claims.session_id, claims.user_id)
            signed_in = SignIn(user, session_id=claims.session_id)
        if not signed_in.user.is_active:
            raise Unauthorized("this account is deactivated or gone")
        return signed_in

    async def still_signed_in(self, session: AsyncSession, signed_in: SignIn) -> None:
        """Raise :class:`Unauthorized` once a sign-in has ended: logged out, its API token
        revoked or expired, every login ended by a password change, or the person
        deactivated. The access token's own expiry does not count: a socket outlives it."""
        user = signed_in.user
        if signed_in.session_id is not None:
            user = await self._logged_in(session, signed_in.session_id, user.id)
        else:
            found = (
                await session.execute(
                    select(ApiToken, User)
                    .join(User, User.id == ApiToken.user_id)
                    .where(ApiToken.id == signed_in.token_id, ApiToken.revoked_at.is_(None))
                )
            ).first()
            if found is None:
                raise Unauthorized("the API token was revoked")
            row, user = found
            if row.expires_at is not None and row.expires_at <= datetime.now(UTC):
                raise Unauthorized("the API token has expired; make a new one")
        if not user.is_active:
            raise Unauthorized("this account is deactivated or gone")

    async def _logged_in(self, session: AsyncSession, session_id: int, user_id: int) -> User:
        user = await session.scalar(_LOGGED_IN, {"session_id": session_id, "user_id": user_id})
        if user is None:
            raise Unauthorized("this session has ended; log in again")
        return user

    async def _touch(self, session: AsyncSession, row: ApiToken, now: datetime) -> bool:
        """Stamp a token's last use, at most once a minute, in the sign-in's own transaction
        (the caller ends it before the route runs; no second connection); says whether it
        wrote.

        Coalesced: of a burst with one token, the first request in this process writes the
        stamp and the others only read; the condition keeps other processes from writing it
        again within the minute.
        """
        due = now - _TOUCH_EVERY
        remembered = self._touched.get(row.id)
        if (row.last_used_at is not None and row.last_used_at > due) or (
            remembered is not None and remembered > due
        ):
            return False
        # Noted before the await, so the rest of the burst skips the write.
        self._touched[row.id] = now
        if len(self._touched) > _TOUCHED_KEPT:
            self._touched = {k: v for k, v in self._touched.items() if v > due}
        await session.execute(
            update(ApiToken)
            .where(
                ApiToken.id == row.id,
                or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at <= due),
            )
            .values(last_used_at=now)
            .execution_options(synchronize_session=False)
        )
        return True

    # -- tokens and invites --------------------------------------------------------------------

    async def create_api_token(
        self,
        session: AsyncSession,
        user: User,
        name: str,
        expires_in_days: int | None,
        scopes: Sequence[str] = (ALL,),
    ) -> tuple[ApiToken, str]:
        """A new token for ``user`` limited to ``scopes`` (checked: ``ValueError`` names a bad
        one); the plain value is returned only here."""
        plain = new_api_token()
        row = ApiToken(
            user_id=user.id,
            name=name,
            scopes=join_scopes(parse_scopes(scopes)),
            token_hash=digest(plain),
            prefix=plain[: len(API_TOKEN_PREFIX) + 4],
            expires_at=(
                datetime.now(UTC) + timedelta(days=expires_in_days) if expires_in_days else None
            ),
        )
        session.add(row)
        await session.flush()
        return row, plain

    async def create_invite(
        self, session: AsyncSession, admin: User, email: str | None, is_admin: bool
    ) -> tuple[Invite, str]:
        code = new_secret(24)
        row = Invite(
            code_hash=digest(code),
            email=email.strip().lower() if email else None,
            is_admin=is_admin,
            created_by_id=admin.id,
            expires_at=datetime.now(UTC) + INVITE_TTL,
        )
        session.add(row)
        await session.flush()
        return row, code
