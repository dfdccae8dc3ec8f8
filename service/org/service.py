"""Administrations, units, people, roles and substitutes."""

from __future__ import annotations

import re
from datetime import date, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Select, func, select

from service.audit import service as audit
from service.auth import service as tokens
from service.db import utcnow
from service.extensions import db
from service.kernel import authz
from service.kernel.common import local_today, settings
from service.kernel.errors import GoalflowError
from service.kernel.text import control_fields, has_control, refuse_control
from service.kernel.uow import transaction
from service.notifications import service as outbox
from service.org.models import UNIT_ROLES, Administration, Role, RoleAssignment, Substitution, Unit, User


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


def create_administration(
    *, name: str, official_name: str = "", slug: str | None = None, actor: User | None = None
) -> Administration:
    if actor is not None and not authz.manages(actor, None):
        raise GoalflowError("forbidden")  # only the installation's administrator adds administrations
    with transaction():
        slug = slug or _slugify(name)
        if db.session.scalar(select(Administration.id).where(Administration.slug == slug)):
            raise GoalflowError("duplicate", what=slug)
        admin = Administration(name=name.strip(), official_name=official_name.strip(), slug=slug)
        db.session.add(admin)
        db.session.flush()
        audit.ensure_chain(admin.id)
        audit.record(
            chain_id=admin.id,
            action="administration_created",
            subject_type="administration",
            subject_id=admin.id,
            actor_id=actor.id if actor else None,
            after={"name": admin.name, "official_name": admin.official_name, "slug": slug},
        )
    return admin


def create_unit(
    *, administration: Administration, code: str, name: str, kind: str = "directorate",
    parent: Unit | None = None, actor: User | None = None,
) -> Unit:
    if actor is not None and not authz.manages(actor, administration.id):
        raise GoalflowError("forbidden")
    code, name = code.strip(), name.strip()
    refuse_control({"code": code, "name": name})
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
    if actor is not None and not authz.manages(actor, administration.id if administration else None):
        raise GoalflowError("forbidden")
    email = email.strip().lower()
    problems = control_fields({"email": email, "name": name})
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
        _check_duties(user)
        db.session.flush()
        audit.record(
            chain_id=administration.id if administration else 0,
            action="user_created",
            subject_type="user",
            subject_id=user.id,
            actor_id=actor.id if actor else None,
            after={"email": email, "roles": [f"{r}@{u.code}" if u else str(r) for r, u in roles]},
        )
        _record_grants(user, set(), actor)
    return user


def _check_duties(user: User) -> None:
    """Separation of duties: no deciding role beside the administrator's on one account."""
    if authz.conflicting_duties(r.role for r in user.roles):
        raise GoalflowError("roles_conflict", fields={"roles": "a deciding role and the administrator role"})


def _held(user: User) -> set[tuple[Role, int | None]]:
    return {(Role(r.role), r.unit_id if r.unit_id is not None else (r.unit.id if r.unit else None)) for r in user.roles}


def _record_grants(user: User, before: set[tuple[Role, int | None]], actor: User | None) -> None:
    """Every deciding role newly held is recorded in the audit trail on its own, and the governor
    and the chief secretary are told by email (grants made by the installation itself, as its
    first people are set up, are recorded only)."""
    from service.notifications.recipients import role_holders

    granted = sorted((role, unit_id) for role, unit_id in _held(user) - before if role in authz.DECIDING_ROLES)
    if not granted:
        return
    admin_id = user.administration_id or 0
    now = utcnow()
    watchers = role_holders(admin_id, [Role.GOVERNOR, Role.CHIEF_SECRETARY]) if actor is not None and admin_id else []
    for role, unit_id in granted:
        unit = db.session.get(Unit, unit_id) if unit_id else None
        audit.record(
            chain_id=admin_id, action="deciding_role_granted", subject_type="user", subject_id=user.id,
            actor_id=actor.id if actor else None,
            after={"role": str(role), "unit": unit.code if unit else None, "email": user.email}, at=now,
        )
        for watcher in watchers:
            outbox.enqueue(
                kind="deciding_role_granted", recipient=watcher, subject_type="user", subject_id=user.id,
                params={"person": user.name, "email": user.email, "role": str(role), "unit": unit.code if unit else "",
                        "actor": actor.name, "at": local_today(now)},
                path="/", due_moment=f"grant:{role}:{unit_id or ''}:{now.isoformat()}",
            )


def _add_role(user: User, role: Role, unit: Unit | None) -> None:
    role = Role(role)
    if role in UNIT_ROLES and unit is None:
        raise GoalflowError("invalid_input", fields={"unit": f"the role {role} needs a unit"})
    if role not in UNIT_ROLES and unit is not None:
        raise GoalflowError("invalid_input", fields={"unit": f"the role {role} holds for the whole administration"})
    # A new person has no administration_id until flushed: read it through the relationship.
    admin_id = user.administration.id if user.administration is not None else user.administration_id
    if unit is not None and unit.administration_id != admin_id:
        raise GoalflowError("invalid_input", fields={"unit": "the unit belongs to another administration"})
    user.roles.append(RoleAssignment(role=role, unit=unit))


def assign_role(*, user: User, role: Role, unit: Unit | None, actor: User | None = None) -> None:
    if actor is not None and not authz.manages(actor, user.administration_id):
        raise GoalflowError("forbidden")
    if actor is not None and actor.id == user.id:
        raise GoalflowError("own_roles")
    with transaction():
        if any(r.role == role and r.unit_id == (unit.id if unit else None) for r in user.roles):
            raise GoalflowError("duplicate", what=f"{role}")
        before = _held(user)
        _add_role(user, role, unit)
        _check_duties(user)
        db.session.flush()
        _record_grants(user, before, actor)
        audit.record(
            chain_id=user.administration_id or 0,
            action="role_assigned",
            subject_type="user",
            subject_id=user.id,
            actor_id=actor.id if actor else None,
            after={"role": str(role), "unit": unit.code if unit else None},
        )


# The accounts that break the separation of duties (given before the rule, or written by hand).
ConflictingAccount = authz.ConflictingAccount
conflicting_accounts = authz.conflicting_accounts
count_conflicting_accounts = authz.count_conflicting_accounts


def remove_role(*, actor: User | None, assignment_id: int) -> None:
    """Take one role off an account (the administrator's work; nobody changes their own roles).

    Recorded in the audit trail as `role_removed`."""
    with transaction():
        assignment = db.session.get(RoleAssignment, assignment_id)
        if assignment is None:
            raise GoalflowError("not_found")
        user = assignment.user
        if actor is not None:
            get_visible_user(actor, user.id)  # another administration's people are not found
            if not authz.manages(actor, user.administration_id):
                raise GoalflowError("forbidden")
            if actor.id == user.id:
                raise GoalflowError("own_roles")
        role, unit = Role(assignment.role), assignment.unit
        user.roles.remove(assignment)
        db.session.flush()
        audit.record(
            chain_id=user.administration_id or 0,
            action="role_removed",
            subject_type="user",
            subject_id=user.id,
            actor_id=actor.id if actor else None,
            before={"role": str(role), "unit": unit.code if unit else None},
            after={"roles": _role_labels(user)},
        )


def authenticate(email: str, password: str) -> User | None:
    email = (email or "").strip().lower()
    # No address holds a control character (and PostgreSQL keeps no NUL): nobody to look up.
    user = None if has_control(email) else db.session.scalar(select(User).where(func.lower(User.email) == email))
    if user is None:
        _hasher().hash(password or "")  # spend the same time as a real check: no user enumeration
        return None
    if not user.active or not _check_password(user, password or ""):
        return None
    return user


def change_password(*, user: User, current: str, new: str) -> None:
    """A new password ends every session of this person and revokes all their API tokens.

    Whoever learnt the old password may have made a token with it: none survives. The browser that
    changed it signs in again at once (the pages and the API do it for the person).
    """
    if not _check_password(user, current):
        raise GoalflowError("invalid_input", fields={"current_password": "does not match"})
    if len(new) < MIN_PASSWORD:
        raise GoalflowError("invalid_input", fields={"new_password": f"at least {MIN_PASSWORD} characters"})
    with transaction():
        user.password_hash = hash_password(new)
        tokens.revoke_all_access(user=user, actor=user, why="password_changed")
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
    if not authz.may_name_substitute(actor, absent):
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
    if not authz.may_name_substitute(actor, substitution.absent):
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


# -- reading and managing, as a person may ----------------------------------------------------


def _same_administration(actor: User, administration_id: int | None) -> bool:
    if actor.administration_id is None:
        return authz.manages(actor, None)
    return actor.administration_id == administration_id


def list_administrations(actor: User) -> Select:
    query = select(Administration).order_by(Administration.id)
    if authz.manages(actor, None) and actor.administration_id is None:
        return query
    return query.where(Administration.id == actor.administration_id)


def get_administration(actor: User, administration_id: int) -> Administration:
    admin = db.session.get(Administration, administration_id)
    if admin is None or not _same_administration(actor, admin.id):
        raise GoalflowError("not_found")
    return admin


def rename_administration(
    *, actor: User, administration_id: int, name: str | None = None, official_name: str | None = None
) -> Administration:
    """The short name and the official one that documents' titles give
    ("Областна администрация на област Хасково"); None leaves a name as it is."""
    changes = {key: value for key, value in (("name", name), ("official_name", official_name)) if value is not None}
    return update_administration(actor=actor, administration_id=administration_id, changes=changes)


SENDER_FIELDS = ("name", "official_name", "mail_from_name", "mail_from_address")


def update_administration(*, actor: User | None, administration_id: int, changes: dict) -> Administration:
    """Its names (the short one, and the official one of the documents' titles), and the sender of
    its emails (a name and an address; an empty address: MAIL_FROM)."""
    refuse_control({k: changes[k] for k in SENDER_FIELDS if k in changes})
    changes = {k: (changes[k] or "").strip() for k in SENDER_FIELDS if k in changes}
    problems = {}
    if "name" in changes and not changes["name"]:
        problems["name"] = "required"
    limit = Administration.__table__.c.name.type.length
    for key in ("name", "official_name"):
        if len(changes.get(key, "")) > limit:
            problems[key] = f"at most {limit} characters"
    address = changes.get("mail_from_address", "")
    if address and (not EMAIL.match(address) or not address.isascii()):
        problems["mail_from_address"] = "not a valid email address"
    for key in SENDER_FIELDS:  # names go into mail headers: one line each
        if any(ch in changes.get(key, "") for ch in "\r\n"):
            problems.setdefault(key, "must be one line")
    if problems:
        raise GoalflowError("invalid_input", fields=problems)
    with transaction():
        if actor is None:  # the installation itself (the demo, the command line)
            admin = db.session.get(Administration, administration_id)
        else:
            admin = get_administration(actor, administration_id)
            if not authz.manages(actor, admin.id):
                raise GoalflowError("forbidden")
        before = {k: getattr(admin, k) for k in SENDER_FIELDS}
        for key, value in changes.items():
            setattr(admin, key, value)
        audit.record(
            chain_id=admin.id,
            action="administration_changed" if set(changes) - {"name", "official_name"} else "administration_renamed",
            subject_type="administration", subject_id=admin.id,
            actor_id=actor.id if actor else None, before=before, after={k: getattr(admin, k) for k in SENDER_FIELDS},
        )
    return admin


def list_units(actor: User, *, administration_id: int | None = None) -> Select:
    query = select(Unit).order_by(Unit.administration_id, Unit.id)
    if administration_id is not None:
        query = query.where(Unit.administration_id == administration_id)
    if authz.manages(actor, None) and actor.administration_id is None:
        return query
    return query.where(Unit.administration_id == actor.administration_id)


def get_unit(actor: User, unit_id: int) -> Unit:
    unit = db.session.get(Unit, unit_id)
    if unit is None or not _same_administration(actor, unit.administration_id):
        raise GoalflowError("not_found")
    return unit


def update_unit(*, actor: User, unit_id: int, changes: dict) -> Unit:
    """Rename, recode or move a unit; only its administration's administrator may."""
    with transaction():
        unit = get_unit(actor, unit_id)
        if not authz.manages(actor, unit.administration_id):
            raise GoalflowError("forbidden")
        refuse_control({name: changes[name] for name in ("code", "name") if name in changes})
        before = {"code": unit.code, "name": unit.name, "kind": unit.kind, "parent": unit.parent_id}
        if "parent_id" in changes:
            parent = get_unit(actor, changes["parent_id"]) if changes["parent_id"] is not None else None
            if parent is not None and (parent.administration_id != unit.administration_id or _below(parent, unit)):
                raise GoalflowError("invalid_input", fields={"parent_id": "not a unit this one can sit under"})
            unit.parent = parent
        for name in ("code", "name", "kind"):
            if name in changes:
                setattr(unit, name, changes[name].strip())
        db.session.flush()
        audit.record(
            chain_id=unit.administration_id, action="unit_changed", subject_type="unit", subject_id=unit.id,
            actor_id=actor.id, before=before,
            after={"code": unit.code, "name": unit.name, "kind": unit.kind, "parent": unit.parent_id},
        )
    return unit


def _below(candidate: Unit, unit: Unit) -> bool:
    """Is `candidate` the unit itself or one of its departments (a unit cannot sit under itself)?"""
    node: Unit | None = candidate
    while node is not None:
        if node.id == unit.id:
            return True
        node = node.parent
    return False


def list_users(actor: User) -> Select:
    """The administration's people: a directory everyone in it may read."""
    query = select(User).order_by(User.id)
    if authz.manages(actor, None) and actor.administration_id is None:
        return query
    return query.where(User.administration_id == actor.administration_id)


def get_visible_user(actor: User, user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None or not _same_administration(actor, user.administration_id):
        raise GoalflowError("not_found")
    return user


def update_user(*, actor: User, user_id: int, changes: dict) -> User:
    """Name, language, roles (replaced whole) and whether the account is active; the administrator's work.

    Disabling an account ends its sessions and revokes its tokens at once; enabling it again brings
    none of them back (the person signs in again and makes new tokens).
    """
    with transaction():
        user = get_visible_user(actor, user_id)
        if not authz.manages(actor, user.administration_id):
            raise GoalflowError("forbidden")
        refuse_control({"name": changes["name"]} if "name" in changes else {})
        before = {"name": user.name, "locale": user.locale, "active": user.active, "roles": _role_labels(user),
                  "signing_identity": user.signing_identity}
        if "signing_identity" in changes:
            user.signing_identity = _signing_identity(changes["signing_identity"])
        if "name" in changes:
            user.name = changes["name"].strip()
        if "locale" in changes:
            user.locale = changes["locale"]
        if "active" in changes and changes["active"] != user.active:
            user.active = changes["active"]
            if user.active:
                user.session_generation += 1
            else:
                tokens.revoke_all_access(user=user, actor=actor, why="account_disabled")
        held = _held(user)
        if "roles" in changes:
            if user.id == actor.id:
                raise GoalflowError("own_roles")
            user.roles.clear()
            db.session.flush()  # the old assignments leave before the new ones meet the unique constraint
            for role, unit_id in changes["roles"]:
                _add_role(user, Role(role), get_unit(actor, unit_id) if unit_id is not None else None)
            _check_duties(user)
        db.session.flush()
        _record_grants(user, held, actor)
        audit.record(
            chain_id=user.administration_id or 0, action="user_changed", subject_type="user", subject_id=user.id,
            actor_id=actor.id, before=before,
            after={"name": user.name, "locale": user.locale, "active": user.active, "roles": _role_labels(user),
                   "signing_identity": user.signing_identity},
        )
    return user


# ETSI EN 319 412-1, 5.1.3: the subject's serialNumber of a natural person's qualified certificate,
# e.g. PNOBG-7001010000 (PNO: a national personal number, BG, the ЕГН).
SIGNING_IDENTITY = re.compile(r"^(PAS|IDC|PNO|TAX|TIN)[A-Z]{2}-[0-9A-Za-z./-]{1,50}$")


def _signing_identity(value) -> str:
    value = (value or "").strip().upper() if isinstance(value, str) else value
    if value and (not isinstance(value, str) or not SIGNING_IDENTITY.match(value)):
        raise GoalflowError("invalid_input", fields={"signing_identity": "like PNOBG-7001010000 (ETSI EN 319 412-1)"})
    return value or ""


def _role_labels(user: User) -> list[str]:
    return sorted(f"{r.role}@{r.unit_id}" if r.unit_id else str(r.role) for r in user.roles)


def list_substitutions(actor: User) -> Select:
    """Mine (as the absent person or the substitute); an administrator sees all of the administration's."""
    query = select(Substitution).order_by(Substitution.starts_on.desc(), Substitution.id.desc())
    if authz.manages(actor, actor.administration_id):
        absent_ids = select(User.id)
        if actor.administration_id is not None:
            absent_ids = absent_ids.where(User.administration_id == actor.administration_id)
        return query.where(Substitution.absent_id.in_(absent_ids))
    return query.where((Substitution.absent_id == actor.id) | (Substitution.substitute_id == actor.id))


def get_substitution(actor: User, substitution_id: int) -> Substitution:
    found = db.session.scalar(list_substitutions(actor).where(Substitution.id == substitution_id))
    if found is None:
        raise GoalflowError("not_found")
    return found
