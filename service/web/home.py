"""Each person's home page: what waits for them, their goals and deadlines, the year at a glance."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask import render_template
from flask_login import current_user, login_required

from service.approvals import service as approvals
from service.extensions import db
from service.goals import service as goals
from service.goals.models import Goal, Indicator, Plan
from service.org.models import Unit
from service.web import progress as progress_pages
from service.web.common import OVERVIEW_ROLES, goal_deadline, has_any_role, int_arg, lang, open_states, today
from service.web.views import bp
from service.workflow_registry import workflow_for


def current_plan(user, year: int | None = None) -> Plan | None:
    """The chosen year's plan, or the latest one up to this year."""
    plans = db.session.scalars(goals.list_plans(user)).all()
    if year is not None:
        return next((p for p in plans if p.year == year), None)
    this_year = today().year
    return next((p for p in plans if p.year <= this_year), plans[0] if plans else None)


def indicator_percent(indicator: Indicator) -> int | None:
    """Achieved against target, where both are numbers and the target is not zero."""
    if indicator.achieved is None or not indicator.target:
        return None
    return int(min(Decimal(100), indicator.achieved * 100 / indicator.target))


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    css: str
    y: int
    width: float


def bars(counts: list[tuple[str, int, str]], *, width: int = 190, row: int = 26) -> list[Bar]:
    """Horizontal bars scaled to the largest value (server-drawn SVG; no script needed)."""
    top = max((value for _, value, _ in counts), default=0) or 1
    return [Bar(label, value, css, i * row, round(value * width / top, 1)) for i, (label, value, css) in enumerate(counts)]


@dataclass
class Deadline:
    goal: Goal
    due: date
    overdue: bool
    what: str  # the goal itself or an activity's title


def deadlines(goal_list: list[Goal], open_: frozenset[str], day: date) -> list[Deadline]:
    found = []
    for goal in goal_list:
        if goal.state not in open_:
            continue
        due = goal_deadline(goal)
        found.append(Deadline(goal, due, due < day, ""))
        for activity in goal.activities:
            if activity.deadline and not activity.done:
                found.append(Deadline(goal, activity.deadline, activity.deadline < day, activity.title))
    return sorted(found, key=lambda d: (d.due, d.goal.number))


def overview(plan: Plan, goal_list: list[Goal]) -> dict:
    """The year at a glance: goals by state and by unit, indicator progress, two charts."""
    wf = workflow_for("goal")
    language = lang()
    by_state = Counter(goal.state for goal in goal_list)
    units = db.session.scalars(
        db.select(Unit).where(Unit.administration_id == plan.administration_id).order_by(Unit.id)
    ).all()
    by_unit = {
        unit.id: Counter(goal.state for goal in goal_list if unit.id in goal.unit_ids) for unit in units
    }
    indicators = [(goal, ind, indicator_percent(ind)) for goal in goal_list for ind in goal.indicators]
    measured = [pct for _, _, pct in indicators if pct is not None]
    return {
        "states": list(wf.states),
        "by_state": by_state,
        "units": [u for u in units if sum(by_unit[u.id].values())],
        "by_unit": by_unit,
        "indicators": indicators,
        "average": round(sum(measured) / len(measured)) if measured else None,
        "state_bars": bars([(wf.state_label(s, language), by_state.get(s, 0), f"state-{s}") for s in wf.states]),
        "unit_bars": bars([(u.code, sum(by_unit[u.id].values()), "unit") for u in units if sum(by_unit[u.id].values())]),
    }


@bp.get("/")
@login_required
def home():
    plan = current_plan(current_user, int_arg("year"))
    wf = workflow_for("goal")
    open_ = open_states(wf)
    goal_list = db.session.scalars(goals.list_goals(current_user, plan_id=plan.id)).all() if plan else []
    day = today()
    # Heads and experts see only their units' goals: the query already keeps to what each may see.
    due = deadlines(goal_list, open_, day)
    context = {
        "plan": plan,
        "plans": db.session.scalars(goals.list_plans(current_user)).all(),
        "pending": approvals.pending_for(current_user),
        "goals": goal_list,
        "deadlines": [d for d in due if not d.overdue],
        "overdue": [d for d in due if d.overdue],
        "missing_reports": progress_pages.missing_for(current_user, plan) if plan else [],
        "overview": overview(plan, goal_list) if plan and has_any_role(current_user, OVERVIEW_ROLES) else None,
        "wf": wf,
        "plan_wf": workflow_for("plan"),
        "lang": lang(),
        "today": day,
    }
    return render_template("home.html", **context)
