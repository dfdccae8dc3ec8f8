"""Plans and goals: reading them as a person may, and saving an imported plan."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, select

from service.audit import service as audit
from service.db import utcnow
from service.extensions import db
from service.goals.models import Activity, Goal, Indicator, Plan, goal_units, keep_unit_order
from service.kernel import authz
from service.kernel.common import local_today
from service.kernel.errors import GoalflowError, not_found
from service.kernel.text import refuse_control
from service.kernel.uow import transaction
from service.kernel.workflow_registry import workflow_for
from service.org.models import Administration, Unit, User

REPORT_PLAN_STATE = "reporting"  # an imported report: the year is being reported on


def visible_goals_query(actor: User, *, now: datetime | None = None) -> Select:
    v = authz.viewer(actor, local_today(now))
    query = select(Goal).join(Plan).where(Plan.administration_id == v.administration_id)
    if not v.all_units:
        query = query.where(
            Goal.id.in_(select(goal_units.c.goal_id).where(goal_units.c.unit_id.in_(v.unit_ids)))
        )
    return query


def list_goals(
    actor: User, *, plan_id: int | None = None, state: str | None = None, unit_id: int | None = None,
    year: int | None = None, now: datetime | None = None,
) -> Select:
    query = visible_goals_query(actor, now=now)
    if plan_id is not None:
        query = query.where(Goal.plan_id == plan_id)
    if state:
        query = query.where(Goal.state == state)
    if unit_id is not None:
        query = query.where(Goal.id.in_(select(goal_units.c.goal_id).where(goal_units.c.unit_id == unit_id)))
    if year is not None:
        query = query.where(Plan.year == year)
    return query.order_by(Plan.year.desc(), Goal.number)


def get_goal(actor: User, goal_id: int, *, now: datetime | None = None) -> Goal:
    goal = db.session.scalar(visible_goals_query(actor, now=now).where(Goal.id == goal_id))
    if goal is None:
        raise not_found()
    return goal


def list_plans(actor: User) -> Select:
    return select(Plan).where(Plan.administration_id == actor.administration_id).order_by(Plan.year.desc())


def get_plan(actor: User, plan_id: int) -> Plan:
    plan = db.session.get(Plan, plan_id)
    if plan is None or plan.administration_id != actor.administration_id:
        raise not_found()
    return plan


def plan_for_year(administration: Administration, year: int) -> Plan | None:
    return db.session.scalar(select(Plan).where(Plan.administration_id == administration.id, Plan.year == year))


def create_plan(*, administration: Administration, year: int, actor: User, currency: str | None = None) -> Plan:
    if not authz.may(actor, "prepare_plans"):
        raise GoalflowError("forbidden")
    if not 2000 <= year <= 2100:
        raise GoalflowError("invalid_input", fields={"year": "between 2000 and 2100"})
    with transaction():
        if plan_for_year(administration, year):
            raise GoalflowError("duplicate", what=f"plan {year}")
        plan = Plan(
            administration_id=administration.id, year=year, currency=currency or default_currency(year),
            state=workflow_for("plan").initial,
        )
        db.session.add(plan)
        db.session.flush()
        audit.record(
            chain_id=administration.id, action="plan_created", subject_type="plan", subject_id=plan.id,
            actor_id=actor.id, after={"year": year, "currency": plan.currency, "state": plan.state},
        )
    return plan


def default_currency(year: int) -> str:
    """Bulgaria adopted the euro on 1 January 2026."""
    return "EUR" if year >= 2026 else "BGN"


# -- saving an imported document -------------------------------------------------------------
# The rules (which plan takes what, who imports, dry runs) live in service/goals/documents.py.


def save_plan_document(
    document, *, administration: Administration, actor: User | None, dry_run: bool = False,
    now: datetime | None = None,
):
    """Create or update the plan of the document's year, goal by goal (matched by number)."""
    from service.goals.documents import import_document

    return import_document(document, administration=administration, actor=actor, dry_run=dry_run, now=now)


# -- drafting goals (while the plan is a draft) --------------------------------------------------

GOAL_FIELDS = (
    "title", "strategic_documents", "strategic_goal", "strategic_indicator", "financing_amount",
    "financing_source", "financing_not_applicable", "progress_note", "deadline",
)
INDICATOR_FIELDS = ("name", "unit", "baseline", "baseline_text", "target", "target_text")
ACTIVITY_FIELDS = ("title", "deadline", "done")


def _require_draft(plan: Plan) -> None:
    if plan.state != workflow_for("plan").initial:
        raise GoalflowError("plan_not_draft")


def _units(administration_id: int, unit_ids: list[int]) -> list[Unit]:
    if not unit_ids:
        raise GoalflowError("invalid_input", fields={"unit_ids": "a goal needs at least one responsible unit"})
    units = db.session.scalars(
        select(Unit).where(Unit.id.in_(unit_ids), Unit.administration_id == administration_id).order_by(Unit.id)
    ).all()
    if len(units) != len(set(unit_ids)):
        raise GoalflowError("invalid_input", fields={"unit_ids": "no such unit in this administration"})
    order = list(dict.fromkeys(unit_ids))
    return sorted(units, key=lambda unit: order.index(unit.id))  # as entered


def _goal_state(goal: Goal) -> dict:
    return {
        **{name: getattr(goal, name) for name in GOAL_FIELDS},
        "units": [unit.id for unit in goal.units],
        "indicators": [{name: getattr(i, name) for name in INDICATOR_FIELDS} for i in goal.indicators],
        "activities": [{name: getattr(a, name) for name in ACTIVITY_FIELDS} for a in goal.activities],
        "version": goal.version,
    }


def _apply_changes(goal: Goal, changes: dict, units: list[Unit] | None) -> None:
    refuse_control(changes)  # before anything changes: the whole edit is refused, naming the field
    for name in GOAL_FIELDS:
        if name in changes:
            setattr(goal, name, changes[name])
    if units is not None:
        goal.units = units
    if "indicators" in changes:  # the list replaces the old one, in the order given
        goal.indicators = [
            Indicator(position=i, **{k: v for k, v in item.items() if k in INDICATOR_FIELDS})
            for i, item in enumerate(changes["indicators"])
        ]
    if "activities" in changes:
        goal.activities = [
            Activity(position=i, **{k: v for k, v in item.items() if k in ACTIVITY_FIELDS})
            for i, item in enumerate(changes["activities"])
        ]


def create_goal(*, actor: User, plan_id: int, number: int, changes: dict, now: datetime | None = None) -> Goal:
    """A new goal in a draft plan, by the chief secretary or by the heads and experts of its units."""
    now = now or utcnow()
    with transaction():
        plan = get_plan(actor, plan_id)
        units = _units(plan.administration_id, list(changes.get("unit_ids") or []))
        if not authz.may_prepare_goal(actor, plan.administration_id, {u.id for u in units}):
            raise GoalflowError("forbidden")
        _require_draft(plan)
        if db.session.scalar(select(Goal.id).where(Goal.plan_id == plan.id, Goal.number == number)):
            raise GoalflowError("duplicate", what=f"goal {number}")
        goal = Goal(
            plan=plan, number=number, title="", state=workflow_for("goal").initial,
            financing_currency=plan.currency,
        )
        _apply_changes(goal, changes, units)
        db.session.add(goal)
        keep_unit_order(goal)  # flushes
        audit.record(
            chain_id=plan.administration_id, action="goal_created", subject_type="goal", subject_id=goal.id,
            actor_id=actor.id, after={"number": number, **_goal_state(goal)}, at=now,
        )
    return goal


def update_goal(
    *, actor: User, goal_id: int, changes: dict, expected_version: int | None, now: datetime | None = None
) -> Goal:
    """Change a drafted goal: its fields, and (replacing them whole) its units, indicators and activities."""
    now = now or utcnow()
    with transaction():
        goal = get_goal(actor, goal_id, now=now)
        admin_id = goal.plan.administration_id
        if not authz.may_edit_goal(actor, admin_id, goal.unit_ids):
            raise GoalflowError("forbidden")
        _require_draft(goal.plan)
        if expected_version is not None and expected_version != goal.version:
            raise GoalflowError("stale_version", expected=expected_version, actual=goal.version)
        units = None
        if "unit_ids" in changes:
            units = _units(admin_id, list(changes["unit_ids"] or []))
            if not authz.may_edit_goal(actor, admin_id, {u.id for u in units}):
                raise GoalflowError("forbidden")  # nobody hands a goal over to units that are not theirs alone
        before = _goal_state(goal)
        _apply_changes(goal, changes, units)
        goal.updated_at = now  # the row itself changes, so the version moves even when only the lists did
        db.session.flush()
        if units is not None:
            keep_unit_order(goal)
        audit.record(
            chain_id=admin_id, action="goal_edited", subject_type="goal", subject_id=goal.id,
            actor_id=actor.id, before=before, after=_goal_state(goal), at=now,
        )
    return goal
