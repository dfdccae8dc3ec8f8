"""Amending an adopted plan: a goal added; a target, a deadline or the financing changed.

An amendment is proposed with its changes and adopted through a request that the heads of the
units concerned and then the governor approve (workflows/amendment.yaml). Adopting it applies
the changes and records the plan's next version; the first version, the plan as approved, is
recorded then too. Every version keeps a snapshot of all the goals, so each can be read again,
and a goal's targets can be traced to the version that set them.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final

from sqlalchemy import func, select

from service.approvals import service as approvals
from service.db import utcnow
from service.documents.values import parse_quantity
from service.extensions import db
from service.goals import service as goals
from service.goals.models import Activity, Goal, Indicator, Plan, PlanAmendment, PlanVersion, keep_unit_order
from service.kernel import authz
from service.kernel.common import local_today, parse_decimal
from service.kernel.errors import GoalflowError, not_found
from service.kernel.uow import transaction
from service.kernel.workflow_registry import provides, workflow_for
from service.org.models import Role, Unit, User
from workflows import Context

SUBJECT: Final = "plan_amendment"
_TEXT_LIMIT: Final = 5_000
_AMOUNT_LIMIT: Final = Decimal(10) ** 12
FIELDS: Final = ("targets", "deadline", "financing_amount", "financing_not_applicable", "financing_source")


# -- versions ----------------------------------------------------------------------------------


def goal_snapshot(goal: Goal) -> dict[str, Any]:
    return {
        "id": goal.id, "number": goal.number, "title": goal.title,
        "units": [unit.code for unit in goal.units],
        "deadline": goal.deadline.isoformat() if goal.deadline else None,
        "financing_amount": str(goal.financing_amount) if goal.financing_amount is not None else None,
        "financing_not_applicable": goal.financing_not_applicable, "financing_source": goal.financing_source,
        "indicators": [
            {"id": i.id, "name": i.name, "baseline": i.baseline_text, "target": i.target_text} for i in goal.indicators
        ],
    }


def _stored_versions(plan: Plan) -> list[PlanVersion]:
    return list(db.session.scalars(select(PlanVersion).where(PlanVersion.plan_id == plan.id).order_by(PlanVersion.number)))


def _as_approved(plan: Plan, snapshot: list[dict]) -> PlanVersion:
    """Version 1 of a plan approved and never amended: not stored until the first amendment."""
    return PlanVersion(plan_id=plan.id, number=1, adopted_at=plan.approved_at, adopted_by_id=plan.approved_by_id,
                       snapshot=snapshot)


def versions(plan: Plan) -> list[PlanVersion]:
    """The plan's adopted versions, oldest first; an approved plan never amended has one, unsaved."""
    stored = _stored_versions(plan)
    if stored or plan.approved_at is None:
        return stored
    return [_as_approved(plan, [goal_snapshot(g) for g in plan.goals])]


def amended_on(plan: Plan) -> date | None:
    """The day of the latest adopted amendment ("актуализиран на …"), None when never amended."""
    latest = db.session.scalar(
        select(PlanVersion.adopted_at).where(PlanVersion.plan_id == plan.id, PlanVersion.number > 1)
        .order_by(PlanVersion.number.desc()).limit(1)
    )
    return local_today(latest) if latest else None


def targets_version(goal: Goal) -> PlanVersion | None:
    """The version whose adoption set the goal's current targets (number 1: the plan as approved);
    None while the plan is not adopted. One query: a plan never amended needs no snapshot."""
    stored = _stored_versions(goal.plan)
    if not stored:
        return _as_approved(goal.plan, []) if goal.plan.approved_at is not None else None
    found = None
    previous: list | None = None
    for version in stored:
        row = next((g for g in version.snapshot if g.get("id") == goal.id), None)
        if row is None:
            previous = None
            continue
        targets = [(i["name"], i["target"]) for i in row["indicators"]]
        if previous is None or targets != previous:
            found = version
        previous = targets
    return found


def _record_version(plan: Plan, number: int, *, at: datetime | None, by: int | None, amendment: PlanAmendment | None,
                    reason: str = "") -> PlanVersion:
    version = PlanVersion(
        plan_id=plan.id, number=number, adopted_at=at, adopted_by_id=by, amendment_id=amendment.id if amendment else None,
        reason=reason, snapshot=[goal_snapshot(g) for g in plan.goals],
    )
    db.session.add(version)
    return version


# -- proposing ---------------------------------------------------------------------------------


def may_propose(actor: User, plan: Plan) -> bool:
    return (
        actor.active and actor.administration_id == plan.administration_id and plan.state in workflow_for("plan").group("in_force")
        and (actor.has_role(Role.CHIEF_SECRETARY) or bool(actor.unit_ids(Role.HEAD, Role.EXPERT)))
    )


def propose(*, actor: User, plan_id: int, changes: list[dict], reason: str, now: datetime | None = None) -> PlanAmendment:
    """Record the amendment and ask for its adoption: the heads of the units concerned, then
    the governor, decide. Nothing in the plan changes until it is adopted; an amendment whose
    request cannot be made is not kept."""
    now = now or utcnow()
    reason = (reason or "").strip()
    with transaction():
        plan = goals.get_plan(actor, plan_id)
        if plan.state not in workflow_for("plan").group("in_force"):
            raise GoalflowError("plan_not_amendable")
        if not reason:
            raise GoalflowError("reason_required", fields={"reason": "say why the plan is amended"})
        cleaned, unit_ids = _checked(plan, changes)
        if not authz.can_request(actor, workflow_for(SUBJECT).transition("adopt"), unit_ids, plan.administration_id):
            raise GoalflowError("not_a_requester", transition="adopt")
        amendment = PlanAmendment(
            plan_id=plan.id, state=workflow_for(SUBJECT).initial, changes=cleaned, reason=reason,
            unit_ids_concerned=sorted(unit_ids), created_by_id=actor.id, created_at=now,
        )
        db.session.add(amendment)
        db.session.flush()
        amendment_id = amendment.id
    try:
        # The request's event in the audit trail carries the changes.
        approvals.request_transition(
            actor=actor, subject_type=SUBJECT, subject_id=amendment_id, transition="adopt", reason=reason,
            data={"changes": cleaned}, now=now,
        )
    except GoalflowError:
        with transaction():
            db.session.delete(db.session.get(PlanAmendment, amendment_id))
        raise
    return db.session.get(PlanAmendment, amendment_id)


def _checked(plan: Plan, changes: Any) -> tuple[list[dict], set[int]]:
    """The changes as stored, and the units they concern; any problem refuses them all."""
    if not isinstance(changes, list) or not changes:
        raise GoalflowError("invalid_input", fields={"changes": "at least one change"})
    goals_by_id = {g.id: g for g in plan.goals}
    units = {u.id: u for u in db.session.scalars(select(Unit).where(Unit.administration_id == plan.administration_id))}
    cleaned, concerned, problems = [], set(), {}
    for index, change in enumerate(changes):
        where = f"changes.{index}"
        if not isinstance(change, dict):
            problems[where] = "must be an object"
            continue
        if "new_goal" in change:
            new, unit_ids = _new_goal(change["new_goal"], units, where, problems)
            cleaned.append({"new_goal": new})
            concerned |= unit_ids
            continue
        goal = goals_by_id.get(change.get("goal_id")) if isinstance(change.get("goal_id"), int) else None
        if goal is None:
            problems[f"{where}.goal_id"] = "no such goal in this plan"
            continue
        edit = _goal_edit(goal, change, where, problems)
        if not edit:
            problems.setdefault(where, f"nothing to change; say one of {', '.join(FIELDS)}")
            continue
        cleaned.append({"goal_id": goal.id, "number": goal.number, **edit})
        concerned |= goal.unit_ids
    if problems:
        raise GoalflowError("invalid_input", fields=problems)
    return cleaned, concerned


def _text(value: Any, where: str, problems: dict, *, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str) or len(value) > _TEXT_LIMIT or "\x00" in value:
        problems[where] = f"a text of at most {_TEXT_LIMIT} characters"
        return ""
    if required and not value.strip():
        problems[where] = "required"
    return value.strip()


def _day(value: Any, where: str, problems: dict) -> str | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value)).isoformat()
    except ValueError:
        problems[where] = "a date as YYYY-MM-DD"
        return None


def _amount(value: Any, where: str, problems: dict) -> str | None:
    if value in (None, ""):
        return None
    number = parse_decimal(value)
    if number is None or abs(number) >= _AMOUNT_LIMIT or number < 0:
        problems[where] = "a non-negative amount"
        return None
    return str(number.quantize(Decimal("0.01")))


def _goal_edit(goal: Goal, change: dict, where: str, problems: dict) -> dict:
    edit: dict[str, Any] = {}
    targets = change.get("targets")
    if targets is not None:
        known = {str(i.id): i for i in goal.indicators}
        if not isinstance(targets, dict) or not targets:
            problems[f"{where}.targets"] = "an object of indicator ids to new targets"
        else:
            edit["targets"] = {}
            for key, value in targets.items():
                if str(key) not in known:
                    problems[f"{where}.targets.{key}"] = "no such indicator on this goal"
                else:
                    edit["targets"][str(key)] = _text(value, f"{where}.targets.{key}", problems, required=True)
    if "deadline" in change:
        edit["deadline"] = _day(change["deadline"], f"{where}.deadline", problems)
    if "financing_amount" in change:
        edit["financing_amount"] = _amount(change["financing_amount"], f"{where}.financing_amount", problems)
    if "financing_not_applicable" in change:
        edit["financing_not_applicable"] = bool(change["financing_not_applicable"])
    if "financing_source" in change:
        edit["financing_source"] = _text(change["financing_source"], f"{where}.financing_source", problems)[:300]
    return edit


def _new_goal(raw: Any, units: dict[int, Unit], where: str, problems: dict) -> tuple[dict, set[int]]:
    where = f"{where}.new_goal"
    if not isinstance(raw, dict):
        problems[where] = "must be an object"
        return {}, set()
    unit_ids = raw.get("unit_ids")
    if not isinstance(unit_ids, list) or not unit_ids or not all(isinstance(u, int) and u in units for u in unit_ids):
        problems[f"{where}.unit_ids"] = "one or more units of this administration"
        unit_ids = []
    indicators = []
    for i, item in enumerate(raw.get("indicators") or []):
        if not isinstance(item, dict):
            problems[f"{where}.indicators.{i}"] = "must be an object"
            continue
        indicators.append({
            "name": _text(item.get("name"), f"{where}.indicators.{i}.name", problems, required=True),
            "baseline": _text(item.get("baseline"), f"{where}.indicators.{i}.baseline", problems),
            "target": _text(item.get("target"), f"{where}.indicators.{i}.target", problems, required=True),
        })
    activities = raw.get("activities") or []
    if not isinstance(activities, list):
        problems[f"{where}.activities"] = "a list of texts"
        activities = []
    new = {
        "title": _text(raw.get("title"), f"{where}.title", problems, required=True),
        "unit_ids": list(dict.fromkeys(unit_ids)),
        "strategic_documents": _text(raw.get("strategic_documents"), f"{where}.strategic_documents", problems),
        "indicators": indicators,
        "activities": [_text(a, f"{where}.activities", problems) for a in activities if a],
        "deadline": _day(raw.get("deadline"), f"{where}.deadline", problems),
        "financing_amount": _amount(raw.get("financing_amount"), f"{where}.financing_amount", problems),
        "financing_not_applicable": bool(raw.get("financing_not_applicable")),
        "financing_source": _text(raw.get("financing_source"), f"{where}.financing_source", problems)[:300],
    }
    return new, set(new["unit_ids"])


# -- adopting (the workflow's action) -----------------------------------------------------------


def apply(amendment: PlanAmendment, actor: User | None) -> PlanVersion:
    """Apply the adopted amendment to the plan and record the next version (and the first,
    if this is the plan's first amendment)."""
    plan = amendment.plan
    now = utcnow()
    count = db.session.scalar(select(func.count()).select_from(PlanVersion).where(PlanVersion.plan_id == plan.id))
    if not count:
        _record_version(plan, 1, at=plan.approved_at, by=plan.approved_by_id, amendment=None)
        count = 1
    for change in amendment.changes:
        if "new_goal" in change:
            _add_goal(plan, change["new_goal"])
        else:
            _change_goal(db.session.get(Goal, change["goal_id"]), change, now)
    db.session.flush()
    db.session.refresh(plan)
    return _record_version(plan, count + 1, at=now, by=actor.id if actor else None, amendment=amendment,
                           reason=amendment.reason)


def _change_goal(goal: Goal, change: dict, now: datetime) -> None:
    for indicator in goal.indicators:
        if str(indicator.id) in change.get("targets", {}):
            text = change["targets"][str(indicator.id)]
            number, unit = parse_quantity(text)
            indicator.target_text, indicator.target = text, number
            indicator.unit = unit or indicator.unit
    if "deadline" in change:
        goal.deadline = date.fromisoformat(change["deadline"]) if change["deadline"] else None
    if "financing_amount" in change:
        goal.financing_amount = Decimal(change["financing_amount"]) if change["financing_amount"] else None
        goal.financing_not_applicable = False if change["financing_amount"] else goal.financing_not_applicable
    if "financing_not_applicable" in change:
        goal.financing_not_applicable = change["financing_not_applicable"]
        if goal.financing_not_applicable:
            goal.financing_amount = None
    if "financing_source" in change:
        goal.financing_source = change["financing_source"]
    goal.updated_at = now


def _add_goal(plan: Plan, new: dict) -> Goal:
    number = max((g.number for g in plan.goals), default=0) + 1
    units = [db.session.get(Unit, unit_id) for unit_id in new["unit_ids"]]
    goal = Goal(
        plan=plan, number=number, title=new["title"], strategic_documents=new.get("strategic_documents", ""),
        state=workflow_for("goal").initial, financing_currency=plan.currency, units=units,
        deadline=date.fromisoformat(new["deadline"]) if new.get("deadline") else None,
        financing_amount=Decimal(new["financing_amount"]) if new.get("financing_amount") else None,
        financing_not_applicable=new.get("financing_not_applicable", False),
        financing_source=new.get("financing_source", ""),
    )
    goal.indicators = [
        Indicator(position=i, name=item["name"], baseline_text=item["baseline"], target_text=item["target"],
                  baseline=parse_quantity(item["baseline"])[0], target=parse_quantity(item["target"])[0],
                  unit=parse_quantity(item["target"])[1])
        for i, item in enumerate(new["indicators"])
    ]
    goal.activities = [Activity(position=i, title=title) for i, title in enumerate(new["activities"])]
    db.session.add(goal)
    keep_unit_order(goal)
    return goal


# -- reading -----------------------------------------------------------------------------------


def get_amendment(actor: User, amendment_id: int, now: datetime | None = None) -> PlanAmendment:
    amendment = db.session.get(PlanAmendment, amendment_id)
    if amendment is None or not authz.viewer(actor, local_today(now)).sees(amendment.plan.administration_id, set()):
        raise not_found()
    return amendment


def plan_amendments(plan: Plan) -> list[PlanAmendment]:
    return list(db.session.scalars(
        select(PlanAmendment).where(PlanAmendment.plan_id == plan.id).order_by(PlanAmendment.id.desc())
    ))


@provides("action", "apply_plan_amendment")
def apply_plan_amendment(ctx: Context) -> None:
    """An approved amendment becomes the plan's new version."""
    apply(ctx.subject, ctx.actor)
