"""Who may see and do what: role and object-level rules in one place.

A person holds roles for the whole administration (governor, chief secretary, observer, ...) or
for a unit (head, expert; a unit covers the units below it). While a substitution runs, the
substitute also holds what the absent person holds, for deciding and for seeing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache

from sqlalchemy import Date, String, and_, bindparam, cast, exists, func, or_, select
from sqlalchemy.orm import joinedload

from service.extensions import db
from service.kernel.errors import forbidden
from service.kernel.uow import remember, remembered, remembered_answers
from service.org.models import Role, RoleAssignment, Substitution, Unit, User
from workflows import Party, TransitionDef

# Roles that see every goal of their administration.
ADMINISTRATION_READERS = frozenset(
    {Role.GOVERNOR, Role.DEPUTY_GOVERNOR, Role.CHIEF_SECRETARY, Role.OBSERVER, Role.ADMIN}
)


def _running(today: date):
    """Substitutions in force on `today`."""
    return (
        Substitution.cancelled.is_(False),
        Substitution.starts_on <= today,
        Substitution.ends_on >= today,
    )


def absent_principals(user: User, today: date) -> list[User]:
    """The people `user` stands in for today."""
    def read() -> list[User]:
        query = select(User).join(Substitution, Substitution.absent_id == User.id)
        return list(db.session.scalars(query.where(Substitution.substitute_id == user.id, *_running(today))))

    return list(remembered(_ABSENT, (user.id, today), read, until_changed=(Substitution, User)))


def substitutes_of(user: User, today: date) -> list[User]:
    """The people standing in for `user` today."""
    query = select(User).join(Substitution, Substitution.substitute_id == User.id)
    return list(db.session.scalars(query.where(Substitution.absent_id == user.id, *_running(today))))


_DESCENDANTS = "authz.unit_descendants"
_ABSENT = "authz.absent_principals"
_PEOPLE = "authz.people"
_TREES = "authz.unit_trees"


def people_of(administration_id: int) -> list[User]:
    """Everyone of the administration, with their roles and the administration (the sender of their
    emails), in one query: who holds a slot, who is told."""
    def read() -> list[User]:
        return list(db.session.scalars(
            select(User).where(User.administration_id == administration_id)
            .options(joinedload(User.roles), joinedload(User.administration))
        ).unique())

    return remembered(_PEOPLE, administration_id, read, until_changed=(User, RoleAssignment))


@cache
def _people_query():
    """read_people's statement, built once with bound parameters (building it cost as much as running it)."""
    administration_id = bindparam("administration_id")
    running = and_(Substitution.substitute_id == bindparam("actor_id"), *_running(bindparam("today", type_=Date)))
    absent = exists().where(Substitution.absent_id == User.id, running)
    tree = (
        select(func.aggregate_strings(cast(Unit.id, String) + ":" + func.coalesce(cast(Unit.parent_id, String), ""), ","))
        .where(Unit.administration_id == administration_id)
        .scalar_subquery()
    )
    return (
        select(User, absent.label("absent"), tree.label("tree"))
        .where(or_(User.administration_id == administration_id,
                   User.id.in_(select(Substitution.absent_id).where(running))))
        .options(joinedload(User.roles), joinedload(User.administration))
    )


def read_people(actor: User, administration_id: int, today: date) -> None:
    """What a decision asks about people, in one query instead of three: everyone of the
    administration with their roles (people_of), whom `actor` stands in for today
    (absent_principals) and the administration's unit tree (unit_scope). Each answer is remembered
    for the transaction as if read on its own."""
    rows = db.session.execute(
        _people_query(), {"administration_id": administration_id, "actor_id": actor.id, "today": today}
    ).unique().all()
    children: dict[int, set[int]] = {}
    for pair in (rows[0].tree or "").split(",") if rows else ():
        if pair:
            unit, _, parent = pair.partition(":")
            children.setdefault(int(unit), set())
            if parent:
                children.setdefault(int(parent), set()).add(int(unit))
    remember(_PEOPLE, administration_id, [row.User for row in rows if row.User.administration_id == administration_id],
             until_changed=(User, RoleAssignment))
    remember(_ABSENT, (actor.id, today), [row.User for row in rows if row.absent], until_changed=(Substitution, User))
    remember(_TREES, administration_id, children, until_changed=(Unit,))


def _descendants(unit_ids: set[int]) -> set[int]:
    """A unit's role covers its departments and sectors."""
    if not unit_ids:
        return set()

    for children in remembered_answers(_TREES).values():  # the administration's units, read with its people
        if unit_ids <= children.keys():
            result, frontier = set(unit_ids), set(unit_ids)
            while frontier:
                frontier = {c for u in frontier for c in children[u]} - result
                result |= frontier
            return result

    def read() -> frozenset[int]:
        result, frontier = set(unit_ids), set(unit_ids)
        while frontier:
            frontier = set(db.session.scalars(select(Unit.id).where(Unit.parent_id.in_(frontier)))) - result
            result |= frontier
        return frozenset(result)

    return set(remembered(_DESCENDANTS, frozenset(unit_ids), read, until_changed=(Unit,)))


def unit_scope(user: User, *roles: Role) -> set[int]:
    return _descendants(user.unit_ids(*roles))


def holds(user: User, party: Party, subject_unit_ids: set[int], subject_admin_id: int | None) -> bool:
    """Does `user` hold the role a definition names, for this subject?"""
    if subject_admin_id is not None and user.administration_id != subject_admin_id:
        return False
    role = Role(party.role)
    if party.scope == "responsible_units":
        return bool(unit_scope(user, role) & subject_unit_ids)
    return user.has_role(role)


def holds_slot(user: User, role: str, unit_id: int | None, admin_id: int) -> bool:
    if user.administration_id != admin_id or not user.active:
        return False
    if unit_id is None:
        return user.has_role(Role(role))
    return unit_id in unit_scope(user, Role(role))


def can_request(user: User, t: TransitionDef, subject_unit_ids: set[int], admin_id: int) -> bool:
    return any(holds(user, party, subject_unit_ids, admin_id) for party in t.requesters)


@dataclass(frozen=True)
class Viewer:
    """What one person may read: everything in their administration, or some units only."""

    administration_id: int | None
    all_units: bool
    unit_ids: frozenset[int]

    def sees(self, admin_id: int, unit_ids: set[int]) -> bool:
        if self.administration_id != admin_id:
            return False
        # An object of no unit in particular (the year's plan) is the whole administration's.
        return self.all_units or not unit_ids or bool(self.unit_ids & unit_ids)


def viewer(user: User, today: date) -> Viewer:
    people = [user, *absent_principals(user, today)]
    if any(r.role in ADMINISTRATION_READERS for p in people for r in p.roles):
        return Viewer(user.administration_id, True, frozenset())
    units: set[int] = set()
    for person in people:
        units |= unit_scope(person, Role.HEAD, Role.EXPERT)
    return Viewer(user.administration_id, False, frozenset(units))


# -- managing the organisation and preparing the plan ------------------------------------------

# Roles whose holders decide requests or sign. None of them sits on an account beside the
# administrator's, who manages people and roles: whoever grants roles must not be able to
# grant himself a decision.
DECIDING_ROLES = frozenset({Role.GOVERNOR, Role.DEPUTY_GOVERNOR, Role.CHIEF_SECRETARY, Role.HEAD})


def conflicting_duties(roles) -> list[Role]:
    """The deciding roles that `roles` (one account's) hold beside the administrator's; empty: none."""
    held = {Role(r) for r in roles}
    return sorted(held & DECIDING_ROLES) if Role.ADMIN in held else []


@dataclass(frozen=True)
class ConflictingAccount:
    """An account that holds a deciding role beside the administrator's (given before the rule,
    or written into the database by hand): reported until one of the roles is removed."""

    user: User
    roles: list[RoleAssignment]  # the conflicting ones: the administrator's and each deciding one


def conflicting_accounts(administration_id: int | None = None, *, everywhere: bool = False) -> list[ConflictingAccount]:
    """The accounts whose roles break the separation of duties, of one administration (None: the
    installation's own accounts) or, with `everywhere`, of the whole installation; by name."""
    query = select(User).where(
        User.id.in_(select(RoleAssignment.user_id).where(RoleAssignment.role == Role.ADMIN)),
        User.id.in_(select(RoleAssignment.user_id).where(RoleAssignment.role.in_(sorted(DECIDING_ROLES)))),
    ).order_by(User.name, User.id)
    if not everywhere:
        query = query.where(User.administration_id.is_(None) if administration_id is None
                            else User.administration_id == administration_id)
    found = []
    for user in db.session.scalars(query):
        if conflicting_duties(r.role for r in user.roles):
            roles = [r for r in user.roles if r.role == Role.ADMIN or r.role in DECIDING_ROLES]
            found.append(ConflictingAccount(user, sorted(roles, key=lambda r: (str(r.role), r.unit_id or 0))))
    return found


def count_conflicting_accounts() -> int:
    """How many accounts of the installation hold a deciding role beside the administrator's."""
    return len(conflicting_accounts(everywhere=True))


def may_change_roles(actor: User, user: User) -> bool:
    """An administrator changes the roles of the people they manage, never their own."""
    return manages(actor, user.administration_id) and actor.id != user.id


def manages(user: User, administration_id: int | None) -> bool:
    """An administrator manages people and units of their administration (and decides nothing).

    An administrator with no administration of their own is the installation's: they manage all.
    """
    if not user.active or not user.has_role(Role.ADMIN):
        return False
    return user.administration_id is None or user.administration_id == administration_id


def administered(user: User) -> int | None:
    """The administration whose people, units, outbox and audit chain an administrator works on:
    their own; None (every administration) for the installation's administrator. Anyone else,
    or a disabled administrator, is refused.
    """
    if not user.active or not user.has_role(Role.ADMIN):
        raise forbidden()
    return user.administration_id


def may_prepare_goal(user: User, administration_id: int, unit_ids: set[int]) -> bool:
    """Who drafts a goal of the plan: the chief secretary, or a head or expert of every unit it names."""
    if user.administration_id != administration_id or not user.active:
        return False
    if user.has_role(Role.CHIEF_SECRETARY):
        return True
    scope = unit_scope(user, Role.HEAD, Role.EXPERT)
    return bool(unit_ids) and unit_ids <= scope


def may_edit_goal(user: User, administration_id: int, unit_ids: set[int]) -> bool:
    """Editing a drafted goal: the chief secretary, or a head or expert of one of its units."""
    if user.administration_id != administration_id or not user.active:
        return False
    return user.has_role(Role.CHIEF_SECRETARY) or bool(unit_scope(user, Role.HEAD, Role.EXPERT) & unit_ids)


def reads_only(user: User) -> bool:
    """An observer (and someone with no role at all) reads; they change nothing."""
    return all(r.role == Role.OBSERVER for r in user.roles)


def may_name_substitute(actor: User, absent: User) -> bool:
    """People name their own substitutes; an administrator may do it for anyone they manage."""
    if manages(actor, absent.administration_id):
        return True
    return actor.id == absent.id and actor.active and not reads_only(actor)


# -- what a person may do, as the pages ask it ----------------------------------------------------

# Who prepares the year's plan: starts it and imports its documents.
PLAN_PREPARERS = frozenset({Role.CHIEF_SECRETARY, Role.ADMIN})
# Who opens and closes the quarterly campaigns.
CAMPAIGN_RUNNERS = frozenset({Role.CHIEF_SECRETARY})
# Who follows the campaigns' boards.
BOARD_READERS = frozenset({Role.CHIEF_SECRETARY, Role.GOVERNOR, Role.DEPUTY_GOVERNOR, Role.OBSERVER, Role.ADMIN})
# Who sees the year at a glance on their home page.
OVERVIEW_READERS = frozenset({Role.GOVERNOR, Role.DEPUTY_GOVERNOR, Role.CHIEF_SECRETARY, Role.OBSERVER})

_HOLDERS = {
    "administer": frozenset({Role.ADMIN}),
    "prepare_plans": PLAN_PREPARERS,
    "run_campaigns": CAMPAIGN_RUNNERS,
    "read_campaign_boards": BOARD_READERS,
    "read_year_overview": OVERVIEW_READERS,
}


def may(user: User, question: str) -> bool:
    """May this person do what `question` names ("administer", "prepare_plans", "run_campaigns",
    "read_campaign_boards", "read_year_overview")? The templates ask it as `may(question)`."""
    if not getattr(user, "is_authenticated", False) or not user.active:
        return False
    return any(user.has_role(role) for role in _HOLDERS[question])
