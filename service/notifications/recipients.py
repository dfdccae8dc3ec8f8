"""Who receives a message: the people of a unit or of a role, and whoever stands in for them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import select

from service.extensions import db
from service.kernel import authz
from service.org.models import Role, RoleAssignment, Substitution, User

UNIT_PEOPLE = (Role.HEAD, Role.EXPERT)


def unit_people(unit_ids: Iterable[int], roles: Iterable[Role] = UNIT_PEOPLE) -> list[User]:
    """Active people holding one of `roles` in one of these units (a unit's experts and head)."""
    unit_ids = list(unit_ids)
    if not unit_ids:
        return []
    return list(
        db.session.scalars(
            select(User)
            .join(RoleAssignment, RoleAssignment.user_id == User.id)
            .where(RoleAssignment.unit_id.in_(unit_ids), RoleAssignment.role.in_(list(roles)), User.active.is_(True))
            .distinct()
            .order_by(User.id)
        )
    )


def unit_people_by_unit(unit_ids: Iterable[int], roles: Iterable[Role] = UNIT_PEOPLE) -> dict[int, list[User]]:
    """unit_people for many units in one query: unit id -> its people (by id)."""
    unit_ids = list(unit_ids)
    result: dict[int, list[User]] = {u: [] for u in unit_ids}
    if not unit_ids:
        return result
    rows = db.session.execute(
        select(RoleAssignment.unit_id, User)
        .join(User, RoleAssignment.user_id == User.id)
        .where(RoleAssignment.unit_id.in_(unit_ids), RoleAssignment.role.in_(list(roles)), User.active.is_(True))
        .order_by(User.id)
    ).all()
    for unit_id, user in rows:
        if user not in result[unit_id]:
            result[unit_id].append(user)
    return result


def substitutes_by_absent(today: date) -> dict[int, list[User]]:
    """Everyone standing in for someone today, in one query: absent person's id -> substitutes."""
    rows = db.session.execute(
        select(Substitution.absent_id, User)
        .join(User, Substitution.substitute_id == User.id)
        .where(Substitution.cancelled.is_(False), Substitution.starts_on <= today, Substitution.ends_on >= today)
        .order_by(Substitution.id)
    ).all()
    result: dict[int, list[User]] = {}
    for absent_id, user in rows:
        result.setdefault(absent_id, []).append(user)
    return result


def role_holders(administration_id: int, roles: Iterable[Role]) -> list[User]:
    """Active people of the administration holding one of `roles` (the governor, the chief secretary)."""
    return list(
        db.session.scalars(
            select(User)
            .join(RoleAssignment, RoleAssignment.user_id == User.id)
            .where(
                User.administration_id == administration_id,
                RoleAssignment.role.in_(list(roles)),
                User.active.is_(True),
            )
            .distinct()
            .order_by(User.id)
        )
    )


def with_substitutes(
    people: Iterable[User], today: date, known: dict[int, list[User]] | None = None
) -> list[tuple[User, User | None]]:
    """(recipient, on behalf of): each person, then whoever substitutes for them today.
    A substitute receives what the absent person would. `known`: substitutes_by_absent(today)."""
    result: list[tuple[User, User | None]] = []
    for person in people:
        result.append((person, None))
        substitutes = known.get(person.id, []) if known is not None else authz.substitutes_of(person, today)
        result.extend((substitute, person) for substitute in substitutes)
    return result
