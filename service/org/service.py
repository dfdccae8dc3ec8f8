"""Administrations, units, people, roles and substitutes."""

from __future__ import annotations

import re
from datetime import date, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select

from service.audit import service as audit
from service.common import local_today, settings
from service.db import utcnow
from service.errors import GoalflowError
from service.extensions import db
from service.notifications import service as outbox
from service.org.models import UNIT_ROLES, Administration, Role, RoleAssignment, Substitution, Unit, User
from service.uow import transaction


def _hasher() -> PasswordHasher:
    s = settings()
    return PasswordHasher(time_cost=s.PASSWORD_HASH_TIME_COST, memory_cost=s.PASSWORD_HASH_MEMORY_KIB)

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 8


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def _check_password(user: User, password: str) -> bool:
    try:
        return _hasher().verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "administration"


def create_administration(*, name: str, slug: str | None = None, actor: User | None = None) -> Administration:
    with transaction():
        slug = slug or _slugify(name)
        if db.session.scalar(select(Administration.id).where(Administration.slug == slug)):
            raise GoalflowError("duplicate", what=slug)
        admin = Administration(name=name.strip(), slug=slug)
        db.session.add(admin)
        db.session.flush()
        audit.ensure_chain(admin.id)
        audit.record(
            chain_id=admin.id,
            action="administration_created",
            subject_type="administration",
            subject_id=admin.id,
            actor_id=actor.id if actor else None,
            after={"name": admin.name, "slug": slug},
        )
    return admin


def create_unit(
    *, administration: Administration, code: str, name: str, kind: str = "directorate",
    parent: Unit | None = None, actor: User | None = None,
) -> Unit:
    code, name = code.strip(), name.strip()
    if not code or not name:
        raise GoalflowError("invalid_input", fields={"code" if not code else "name": "required"})
    with transaction():
        exists = db.session.scalar(
            select(Unit.id).where(Unit.administration_id == administration.id, Unit.code == code)
        )
        if exists:
            raise GoalflowError("duplicate", what=code)
        unit = Unit(administration_id=administration.id, code=code, name=name, kind=kind, parent=parent)
        db.session.add(unit)
        db.session.flush()
        audit.record(
            chain_id=administration.id,
            action="unit_created",
            subject_type="unit",
            subject_id=unit.id,
            actor_id=actor.id if actor else None,
            after={"code": code, "name": name, "kind": kind, "parent": parent.id if parent else None},
        )
    return unit


def create_user(
    *,
    email: str,
    name: str,
    password: str,
    administration: Administration | None,
    roles: list[tuple[Role, Unit | None]] = (),
    locale: str = "bg",
    actor: User | None = None,
) -> User:
    email = email.strip().lower()
    problems = {}
    if not EMAIL.match(email):
        problems["email"] = "not a valid email address"
    if len(password) < MIN_PASSWORD:
        problems["password"] = f"at least {MIN_PASSWORD} characters"
    if not name.strip():
        problems["name"] = "required"
    if locale not in ("bg", "en"):
        problems["locale"] = "bg or en"
    if problems:
        raise GoalflowError("invalid_input", fields=problems)
    with transaction():
        if db.session.scalar(select(User.id).where(func.lower(User.email) == email)):
            raise GoalflowError("duplicate", what=email)
        user = User(
            email=email, name=name.strip(), password_hash=hash_password(password),
            administration=administration, locale=locale,
        )
        db.session.add(user)
        for role, unit in roles:
            _add_role(user, role, unit)
        db.session.flush()
        audit.record(
            chain_id=administration.id if administration else 0,
            action="user_created",
            subject_type="user",
            subject_id=user.id,
            actor_id=actor.id if actor else None,
            after={"email": email, "roles": [f"{r}@{u.code}" if u else str(r) for r, u in roles]},
        )
    return user


def _add_role(user: User, role: Role, unit: Unit | None) -> None:
    role = Role(role)
    if role in UNIT_ROLES and unit is None:
        raise GoalflowError("invalid_input", fields={"unit": f"the role {role} needs a unit"})
    if role not in UNIT_ROLES and unit is not None:
        raise GoalflowError("invalid_input", fields={"unit": f"the role {role} holds for the whole administration"})
    if unit is not None and unit.administration_id != user.administration_id:
        raise GoalflowError("invalid_input", fields={"unit": "the unit belongs to another administration"})
    user.roles.append(RoleAssignment(role=role, unit=unit))


def assign_role(*, user: User, role: Role, unit: Unit | None, actor: User | None = None) -> None:
    with transaction():
        if any(r.role == role and r.unit_id == (unit.id if unit else None) for r in user.roles):
            raise GoalflowError("duplicate", what=f"{role}")
        _add_role(user, role, unit)
        db.session.flush()
        audit.record(
            chain_id=user.administration_id or 0,
            action="role_assigned",
            subject_type="user",
            subject_id=user.id,
            actor_id=actor.id if actor else None,
            after={"role": str(role), "unit": unit.code if unit else None},
        )


def authenticate(email: str, password: str) -> User | None:
    user = db.session.scalar(select(User).where(func.lower(User.email) == (email or "").strip().lower()))
    if user is None:
        _hasher().hash(password or "")  # spend the same time as a real check: no user enumeration
        return None
    if not user.active or not _check_password(user, password or ""):
        return None
    return user


def change_password(*, user: User, current: str, new: str) -> None:
    """A new password ends every other session of this person (their cookies carry the old generation)."""
    if not _check_password(user, current):
        raise GoalflowError("invalid_input", fields={"current_password": "does not match"})
    if len(new) < MIN_PASSWORD:
        raise GoalflowError("invalid_input", fields={"new_password": f"at least {MIN_PASSWORD} characters"})
    with transaction():
        user.password_hash = hash_password(new)
        user.session_generation += 1
        audit.record(
            chain_id=user.administration_id or 0,
            action="password_changed",
            subject_type="user",
            subject_id=user.id,
            actor_id=user.id,
        )


def end_sessions(*, user: User) -> None:
    with transaction():
        user.session_generation += 1


def name_substitute(
    *, absent: User, substitute: User, starts_on: date, ends_on: date, actor: User, now: datetime | None = None
) -> Substitution:
    """`substitute` sees and decides what waits for `absent` from `starts_on` to `ends_on`."""
    now = now or utcnow()
    why = ""
    if substitute.id == absent.id:
        why = "a person cannot substitute themselves"
    elif substitute.administration_id != absent.administration_id:
        why = "the substitute must work in the same administration"
    elif ends_on < starts_on:
        why = "the end date is before the start date"
    elif ends_on < local_today(now):
        why = "the substitution would already be over"
    elif absent.has_role(Role.GOVERNOR) and not substitute.has_role(Role.DEPUTY_GOVERNOR):
        why = "the governor's substitute must be a deputy governor"
    elif not substitute.active:
        why = "the substitute's account is disabled"
    if why:
        raise GoalflowError("invalid_substitute", why=why)
    if actor.id != absent.id and not actor.has_role(Role.ADMIN):
        raise GoalflowError("forbidden")
    with transaction():
        sub = Substitution(
            absent_id=absent.id, substitute_id=substitute.id, starts_on=starts_on, ends_on=ends_on,
            created_by_id=actor.id, created_at=now,
        )
        db.session.add(sub)
        db.session.flush()
        audit.record(
            chain_id=absent.administration_id or 0,
            action="substitute_named",
            subject_type="user",
            subject_id=absent.id,
            actor_id=actor.id,
            after={"substitute": substitute.id, "starts_on": starts_on, "ends_on": ends_on},
            at=now,
        )
        outbox.enqueue(
            kind="substitute_named",
            recipient=substitute,
            subject_type="substitution",
            subject_id=sub.id,
            params={"absent": absent.name, "starts_on": starts_on.strftime("%d.%m.%Y"),
                    "ends_on": ends_on.strftime("%d.%m.%Y")},
            path="/",
            due_moment=None,
        )
    return sub


def cancel_substitute(*, substitution: Substitution, actor: User) -> None:
    if actor.id != substitution.absent_id and not actor.has_role(Role.ADMIN):
        raise GoalflowError("forbidden")
    with transaction():
        substitution.cancelled = True
        audit.record(
            chain_id=substitution.absent.administration_id or 0,
            action="substitute_cancelled",
            subject_type="user",
            subject_id=substitution.absent_id,
            actor_id=actor.id,
            after={"substitution": substitution.id},
        )


def get_user(user_id: int) -> User | None:
    return db.session.get(User, user_id)


def user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def unit_by_code(administration: Administration, code: str) -> Unit | None:
    return db.session.scalar(select(Unit).where(Unit.administration_id == administration.id, Unit.code == code))
