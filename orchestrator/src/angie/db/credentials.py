"""Read and write encrypted credentials; plaintext exists only in memory, never in a row."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import delete, select

from angie.db.models import Credential

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from angie.db.crypto import SecretBox

__all__ = ("CredentialStore",)


class CredentialStore:
    def __init__(self, session: AsyncSession, box: SecretBox) -> None:
        self._session = session
        self._box = box

    async def _row(self, name: str, user_id: int | None) -> Credential | None:
        query = select(Credential).where(
            Credential.name == name, Credential.owner_key == (user_id or 0)
        )
        return (await self._session.scalars(query)).one_or_none()

    async def set(self, name: str, value: str, *, user_id: int | None = None) -> None:
        if not name.strip():
            raise ValueError("a credential needs a name")
        row = await self._row(name, user_id)
        if row is None:
            self._session.add(
                Credential(name=name, user_id=user_id, ciphertext=self._box.encrypt(value))
            )
        else:
            row.ciphertext = self._box.encrypt(value)
        await self._session.flush()

    async def get(self, name: str, *, user_id: int | None = None) -> str | None:
        row = await self._row(name, user_id)
        return None if row is None else self._box.decrypt(row.ciphertext)

    async def delete(self, name: str, *, user_id: int | None = None) -> bool:
        result = await self._session.execute(
            delete(Credential).where(
                Credential.name == name, Credential.owner_key == (user_id or 0)
            )
        )
        return bool(getattr(result, "rowcount", 0))
