"""Each person's home page: what waits for them, their goals and deadlines, the year at a glance.

The tables' rows are made here, each value formatted, shortened and translated once: the template
only writes them out (a governor's page has a row per goal and one per indicator, and each
template call, translation and date format costs more there than the page's queries)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask import current_app, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from jinja2.filters import do_truncate
from markupsafe import Markup
from sqlalchemy.orm import joinedload, load_only

from service.approvals import service as approvals
from service.extensions import db
from service.goals import service as goals
from service.goals.models import Goal, Indicator, Plan
from service.kernel import authz, subjects
from service.kernel.workflow_registry import workflow_for
from service.org.models import Unit
from service.web import progress as progress_pages
from service.web.common import goal_deadline, int_arg, lang, open_states, today
from service.web.filters import day
from service.web.views import bp

PENDING_SHOWN, OVERDUE_SHOWN, DEADLINES_SHOWN = 10, 15, 10
# What the page shows of each goal: its units in the same query; the long texts stay unread.
HOME_GOAL_COLUMNS = (
    load_only(Goal.id, Goal.plan_id, Goal.number, Goal.title, Goal.state, Goal.deadline, Goal.version),
    joinedload(Goal.units),
)


def current_plan(plans: list[Plan], year: int | None = None) -> Plan | None:
    """The chosen year's plan, or the latest one up to this year (`plans`: newest first)."""
    if year is not None:
        return next((p for p in plans if p.year == year), None)
    this_year = today().year
    return next((p for p in plans if p.year <= this_year), plans[0] if plans else None)


def indicator_percent(indicator: Indicator) -> int | None:
    """Achieved against target, where both are numbers and the target is not zero."""
    if indicator.achieved is None or not indicator.target:
        return None
    return int(min(Decimal(100), indicator.achieved * 100 / indicator.target))


def shorten(text: str, length: int) -> str:
    """As the template's `truncate(length)` filter shortens it."""
    return do_truncate(current_app.jinja_env, text, length)


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
    # Filled in for the deadlines the page lists (`shown`):
    url: str = ""
    day: str = ""
    text: str = ""  # what, or else the goal's title, shortened


def deadlines(goal_list: list[Goal], open_: frozenset[str], day_: date) -> list[Deadline]:
    found = []
    for goal in goal_list:
        if goal.state not in open_:
            continue
        due = goal_deadline(goal)
        found.append(Deadline(goal, due, due < day_, ""))
        for activity in goal.activities:
            if activity.deadline and not activity.done:
                found.append(Deadline(goal, activity.deadline, activity.deadline < day_, activity.title))
    return sorted(found, key=lambda d: (d.due, d.goal.number))


def shown(found: list[Deadline], count: int, urls: dict[int, str]) -> list[Deadline]:
    """The first `count` deadlines, ready to list."""
    for d in found[:count]:
        d.url, d.day, d.text = urls[d.goal.id], day(d.due), shorten(d.what or d.goal.title, 90)
    return found[:count]


@dataclass(frozen=True)
class GoalRow:
    goal: Goal
    url: str
    title: str  # shortened
    units: str
    deadline: str  # its day, or the end of the year
    state_label: str


def goal_rows(goal_list: list[Goal], urls: dict[int, str], state_labels: dict[str, str]) -> list[GoalRow]:
    year_end = _("end of year")
    return [
        GoalRow(
            goal, urls[goal.id], shorten(goal.title, 160), ", ".join(unit.code for unit in goal.units),
            day(goal.deadline) if goal.deadline else year_end, state_labels.get(goal.state, goal.state),
        )
        for goal in goal_list
    ]


@dataclass(frozen=True)
class IndicatorRow:
    goal: Goal
    url: str
    indicator: Indicator
    name: str  # shortened
    percent: int | None
    label: Markup  # the progress bar's accessible name
    note: str  # shown when there is no percentage: no value yet, or not measurable


def indicator_rows(goal_list: list[Goal], urls: dict[int, str]) -> list[IndicatorRow]:
    # The words of the progress_bar macro, translated once for the whole table.
    label = Markup(_("Progress of indicator %(name)s"))
    no_value, not_measurable = _("no value yet"), _("not measurable")
    rows = []
    for goal in goal_list:
        for ind in goal.indicators:
            pct = indicator_percent(ind)
            note = no_value if ind.target and ind.achieved is None else not_measurable
            rows.append(IndicatorRow(
                goal, urls[goal.id], ind, shorten(ind.name, 120), pct, label % {"name": shorten(ind.name, 60)}, note,
            ))
    return rows


def overview(goal_list: list[Goal], urls: dict[int, str], state_labels: dict[str, str]) -> dict:
    """The year at a glance: goals by state and by unit, indicator progress, two charts. The
    units are those the goals name (a goal's units belong to its administration)."""
    wf = workflow_for("goal")
    by_state = Counter(goal.state for goal in goal_list)
    units: dict[int, Unit] = {}
    by_unit: dict[int, Counter] = {}
    for goal in goal_list:
        for unit in goal.units:
            units.setdefault(unit.id, unit)
            by_unit.setdefault(unit.id, Counter())[goal.state] += 1
    ordered = sorted(units.values(), key=lambda u: u.id)
    indicators = indicator_rows(goal_list, urls)
    measured = [row.percent for row in indicators if row.percent is not None]
    return {
        "states": [(s, state_labels[s]) for s in wf.states],
        "by_state": by_state,
        "units": ordered,
        "by_unit": by_unit,
        "indicators": indicators,
        "average": round(sum(measured) / len(measured)) if measured else None,
        "state_bars": bars([(state_labels[s], by_state.get(s, 0), f"state-{s}") for s in wf.states]),
        "unit_bars": bars([(u.code, sum(by_unit[u.id].values()), "unit") for u in ordered]),
    }


def load_subjects(requests: Iterable) -> None:
    """The objects of these approval requests that the session does not hold yet (a head's own
    goals it does), in one query a kind, for their links (filters.subject_path)."""
    ids: dict[str, set[int]] = {}
    for req in requests:
        model = subjects.kind(req.subject_type).model
        if db.session.identity_key(model, req.subject_id) not in db.session.identity_map:
            ids.setdefault(req.subject_type, set()).add(req.subject_id)
    for subject_type, wanted in ids.items():
        subjects.load_many(subject_type, wanted)


@bp.get("/")
@login_required
def home():
    plans = db.session.scalars(goals.list_plans(current_user)).all()
    plan = current_plan(plans, int_arg("year"))
    wf = workflow_for("goal")
    language = lang()
    state_labels = {s: wf.state_label(s, language) for s in wf.states}
    goal_list = db.session.scalars(
        goals.list_goals(current_user, plan_id=plan.id).options(*HOME_GOAL_COLUMNS)
    ).unique().all() if plan else []
    urls = {goal.id: url_for("web.goal_page", goal_id=goal.id) for goal in goal_list}
    # Heads and experts see only their units' goals: the query already keeps to what each may see.
    day_ = today()
    due = deadlines(goal_list, open_states(wf), day_)
    coming = [d for d in due if not d.overdue]
    overdue = [d for d in due if d.overdue]
    pending = approvals.pending_for(current_user)
    load_subjects(req for req, claims in pending[:PENDING_SHOWN])
    context = {
        "plan": plan,
        "plans": plans,
        "pending": pending,
        "pending_shown": PENDING_SHOWN,
        "goals": goal_list,
        "goal_rows": goal_rows(goal_list, urls, state_labels),
        "deadlines": shown(coming, DEADLINES_SHOWN, urls),
        "overdue": shown(overdue, OVERDUE_SHOWN, urls),
        "overdue_count": len(overdue),
        "missing_reports": progress_pages.missing_for(current_user, plan) if plan else [],
        "overview": (
            overview(goal_list, urls, state_labels) if plan and authz.may(current_user, "read_year_overview") else None
        ),
        "wf": wf,
        "plan_wf": workflow_for("plan"),
        "lang": language,
        "today": day_,
    }
    return render_template("home.html", **context)
