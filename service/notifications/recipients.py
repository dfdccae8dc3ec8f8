"""Who receives a message: the people of a unit or of a role, and whoever stands in for them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import select

from service import authz
from service.extensions import db
from service.org.models import Role, RoleAssignment, User

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


def with_substitutes(people: Iterable[User], today: date) -> list[tuple[User, User | None]]:
    """(recipient, on behalf of): each person, then whoever substitutes for them today.
    A substitute receives what the absent person would."""
    result: list[tuple[User, User | None]] = []
    for person in people:
        result.append((person, None))
        result.extend((substitute, person) for substitute in authz.substitutes_of(person, today))
    return result
