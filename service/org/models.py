"""Administrations, their units, people, roles and substitutes."""

from __future__ import annotations

import enum
from datetime import date, datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, Date, Enum, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.db import UTCDateTime, utcnow
from service.extensions import db


class Role(enum.StrEnum):
    GOVERNOR = "governor"
    DEPUTY_GOVERNOR = "deputy_governor"
    CHIEF_SECRETARY = "chief_secretary"
    HEAD = "head"
    EXPERT = "expert"
    OBSERVER = "observer"
    ADMIN = "admin"


# Roles that belong to a unit; the others hold for the whole administration.
UNIT_ROLES = frozenset({Role.HEAD, Role.EXPERT})


class Administration(db.Model):
    __tablename__ = "administrations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    # As the documents' titles name it: "Областна администрация на област Хасково".
    official_name: Mapped[str] = mapped_column(String(300), default="", server_default="")
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The sender of the administration's emails; empty: the installation's MAIL_FROM.
    mail_from_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    mail_from_address: Mapped[str] = mapped_column(String(254), default="", server_default="")

    units: Mapped[list[Unit]] = relationship(back_populates="administration", order_by="Unit.id")

    @property
    def document_name(self) -> str:
        """The name a document's title gives: the official one when set."""
        return self.official_name.strip() or self.name


class Unit(db.Model):
    __tablename__ = "units"
    __table_args__ = (UniqueConstraint("administration_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    administration_id: Mapped[int] = mapped_column(ForeignKey("administrations.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(20), default="directorate")  # cabinet, directorate, department, sector

    administration: Mapped[Administration] = relationship(back_populates="units")
    parent: Mapped[Unit | None] = relationship(remote_side=[id])


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    administration_id: Mapped[int | None] = mapped_column(ForeignKey("administrations.id"), index=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(300), default="")
    locale: Mapped[str] = mapped_column(String(5), default="bg")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped on password change and logout-everywhere: sessions carrying an older value end.
    session_generation: Mapped[int] = mapped_column(Integer, default=0)
    # The identifier the person's qualified certificate carries in its subject serialNumber
    # (ETSI EN 319 412-1: "PNOBG-" and the ЕГН): a КЕП is accepted only from that person.
    signing_identity: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    administration: Mapped[Administration | None] = relationship()
    roles: Mapped[list[RoleAssignment]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    def get_id(self) -> str:  # Flask-Login: the generation makes old cookies invalid
        return f"{self.id}:{self.session_generation}"

    def has_role(self, role: Role, unit_id: int | None = None) -> bool:
        return any(r.role == role and (unit_id is None or r.unit_id == unit_id) for r in self.roles)

    def unit_ids(self, *roles: Role) -> set[int]:
        return {r.unit_id for r in self.roles if r.unit_id is not None and (not roles or r.role in roles)}

    def __repr__(self) -> str:
        return f"<User {self.email}>"


class RoleAssignment(db.Model):
    __tablename__ = "role_assignments"
    __table_args__ = (UniqueConstraint("user_id", "role", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=20))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)

    user: Mapped[User] = relationship(back_populates="roles")
    unit: Mapped[Unit | None] = relationship()


class Substitution(db.Model):
    """While it runs, `substitute` sees and decides what waits for `absent`."""

    __tablename__ = "substitutions"

    id: Mapped[int] = mapped_column(primary_key=True)
    absent_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    substitute_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)

    absent: Mapped[User] = relationship(foreign_keys=[absent_id])
    substitute: Mapped[User] = relationship(foreign_keys=[substitute_id])


class ApiToken(db.Model):
    """A personal API token; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()
