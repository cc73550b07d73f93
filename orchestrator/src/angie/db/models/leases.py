"""Leases: which process holds a job only one process may do at a time (the scheduler).

A holder proves it is alive by bumping ``version``; a contender takes the lease over once it
has seen the same version for a whole lease period on its own clock, so no two machines'
clocks are ever compared. ``renewed_at`` is for people reading the row, not for the protocol.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from angie.db.base import Base

__all__ = ("Lease",)


class Lease(Base):
    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    # host:pid:nonce of the holder; NULL once released.
    holder: Mapped[str | None] = mapped_column(String(191))
    version: Mapped[int] = mapped_column(BigInteger, default=0)
    renewed_at: Mapped[datetime]
