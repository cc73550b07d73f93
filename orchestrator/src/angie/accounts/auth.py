"""Who is calling: registration (first user = admin, then by invite), login, refresh, logout,
personal API tokens and the bearer check every protected route runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from limits import RateLimitItem, parse
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

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

__all__ = ("AuthService", "TokenPair")

INVITE_TTL = timedelta(days=7)
# Last-used stamps are written at most this often, so reads stay reads.
_TOUCH_EVERY = timedelta(minutes=1)


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
        invite."""
        await self._limit(self._register_limit, "register", client)
        email = email.strip().lower()
        first = (await session.scalar(select(func.count()).select_from(User))) == 0
        invite: Invite | None = None
        if first:
            setup.check(setup_code)
        else:
            if not invite_code:
                raise Forbidden("registration needs an invite from an admin of this Angie")
            invite = await session.scalar(
                select(Invite).where(Invite.code_hash == digest(invite_code)).with_for_update()
            )
            now = datetime.now(UTC)
            if invite is None or invite.used_at is not None or invite.expires_at <= now:
                raise Forbidden("the invite code is not valid (unknown, used or expired)")
            if invite.email and invite.email.lower() != email:
                raise Forbidden("the invite is for another email address")
        if await session.scalar(select(User.id).where(User.email == email)) is not None:
            raise Conflict("an account with that email already exists")
        user = User(
            email=email,
            display_name=display_name.strip() or email.split("@", 1)[0],
            password_hash=self.passwords.hash(password),
            is_admin=first or bool(invite and invite.is_admin),
        )
        session.add(user)
        try:
            await session.flush()
        except IntegrityError:
            raise Conflict("an account with that email already exists") from None
        if invite is not None:
            invite.used_by_id = user.id
            invite.used_at = datetime.now(UTC)
        if first:
            setup.retire()
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
        email = email.strip().lower()
        await self._limit(self._login_ip_limit, "login-ip", client)
        await self._limit(self._login_limit, "login", client, email)
        user = await session.scalar(select(User).where(User.email == email))
        ok, upgraded = self.passwords.verify(password, user.password_hash if user else None)
        if user is None or not ok:
            raise Unauthorized("the email or the password is wrong")
        if not user.is_active:
            raise Forbidden("this account is deactivated; ask an admin")
        if upgraded:
            user.password_hash = upgraded
        user.last_login_at = datetime.now(UTC)
        return await self._open_session(session, user, user_agent)

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
        try:
            claims = self.tokens.verify(refresh_token, "refresh")
        except TokenError as err:
            raise Unauthorized(str(err)) from None
        row = await session.get(AuthSession, claims.session_id, with_for_update=True)
        if row is None or row.revoked_at is not None or row.user_id != claims.user_id:
            raise Unauthorized("this session has ended; log in again")
        if row.refresh_hash != digest(claims.jti):
            # A refresh token used twice: someone else may hold it. End the session, and
            # commit that now: the error below rolls the rest of the request back.
            row.revoked_at = datetime.now(UTC)
            await session.commit()
            raise Unauthorized("this refresh token was already used; log in again")
        user = await session.get(User, row.user_id)
        if user is None or not user.is_active:
            raise Unauthorized("this account is deactivated; ask an admin")
        return self._pair(row, user)

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
            if row.last_used_at is None or now - row.last_used_at > _TOUCH_EVERY:
                await self._touch(session, row.id, now)
        else:
            try:
                claims = self.tokens.verify(token, "access")
            except TokenError as err:
                raise Unauthorized(str(err)) from None
            signed_in = await session.scalar(
                select(User)
                .join(AuthSession, AuthSession.user_id == User.id)
                .where(
                    AuthSession.id == claims.session_id,
                    AuthSession.revoked_at.is_(None),
                    User.id == claims.user_id,
                )
            )
            if signed_in is None:
                raise Unauthorized("this session has ended; log in again")
            user = signed_in
        if not user.is_active:
            raise Unauthorized("this account is deactivated or gone")
        return user

    async def _touch(self, session: AsyncSession, token_id: int, now: datetime) -> None:
        """Stamp a token's last use in the sign-in's own transaction, which the caller ends
        before the route runs (SQLite has one writer at a time)."""
        await session.execute(
            update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now)
        )

    # -- tokens and invites --------------------------------------------------------------------

    async def create_api_token(
        self, session: AsyncSession, user: User, name: str, expires_in_days: int | None
    ) -> tuple[ApiToken, str]:
        plain = new_api_token()
        row = ApiToken(
            user_id=user.id,
            name=name,
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
