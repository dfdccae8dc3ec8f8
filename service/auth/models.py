"""Failed sign-ins, kept in the database: every web process of every mode counts in the same place."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from service.db import UTCDateTime, utcnow
from service.extensions import db


class LoginFailure(db.Model):
    """One wrong password (or email): for which account, from which address, when."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    account: Mapped[str] = mapped_column(String(254))  # the email as typed, lower-cased ("" when none)
    address: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        Index("ix_login_failures_account_at", "account", "at"),
        Index("ix_login_failures_address_at", "address", "at"),
    )
