"""The fixed registry of guards, data requirements and actions that definitions may name.

A definition names these; it cannot point at arbitrary code. Each guard returns why it refuses
(in the words shown to people) or None.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import TypeVar

from sqlalchemy import func, select

from service.approvals.models import OPEN, TransitionRequest
from service.db import utcnow
from service.extensions import db
from service.goals.models import Goal
from service.kernel.common import parse_decimal
from service.progress.models import ProgressValue
from workflows import Context, Registry, Workflow, WorkflowDefinitionError, engine, load_all

F = TypeVar("F", bound=Callable)

# A guard whose refusal has an error of its own (service/kernel/errors.py); the others refuse with
# transition_not_allowed_now and their message.
GUARD_ERRORS = {"campaign_open": "campaign_closed"}


def _now(ctx: Context):
    return ctx.extra.get("now") or utcnow()


def plan_in_force(ctx: Context) -> str | None:
    if ctx.subject.plan.state not in workflow_for("plan").group("in_force"):
        return "the plan is not approved or is no longer open for reporting"
    return None


def report_not_approved(ctx: Context) -> str | None:
    if ctx.subject.plan.state in workflow_for("plan").group("report_signed"):
        return "the year's report is already approved"
    return None


def plan_has_goals(ctx: Context) -> str | None:
    return None if ctx.subject.goals else "the plan has no goals"


def no_open_goal_requests(ctx: Context) -> str | None:
    count = db.session.scalar(
        select(func.count())
        .select_from(TransitionRequest)
        .join(Goal, Goal.id == TransitionRequest.subject_id)
        .where(TransitionRequest.subject_type == "goal", TransitionRequest.status == OPEN, Goal.plan_id == ctx.subject.id)
    )
    return f"{count} goal request(s) are still open" if count else None


def campaign_open(ctx: Context) -> str | None:
    return None if ctx.subject.campaign.status == "open" else "the quarter's campaign is closed"


def _value_problems(indicators, values) -> dict[str, str]:
    if not isinstance(values, dict):
        return {"achieved": "expected an object mapping indicator ids to achieved values"}
    problems = {}
    for indicator in indicators:
        raw = values.get(str(indicator.id), values.get(indicator.id))
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            problems[f"achieved.{indicator.id}"] = f"the achieved value of '{indicator.name[:60]}' is required"
        elif not isinstance(raw, str | int | float) or isinstance(raw, bool):
            problems[f"achieved.{indicator.id}"] = "must be a number or a text"
    known = {str(i.id) for i in indicators}
    for key in values:
        if str(key) not in known:
            problems[f"achieved.{key}"] = "no such indicator on this goal"
    return problems


def achieved_values(ctx: Context) -> dict[str, str]:
    return _value_problems(ctx.subject.indicators, ctx.data.get("achieved", {}))


def progress_values(ctx: Context) -> dict[str, str]:
    problems = _value_problems(ctx.subject.goal.indicators, ctx.data.get("achieved", {}))
    risk = ctx.data.get("risk", "on_track")
    if risk not in ("on_track", "at_risk", "off_track"):
        problems["risk"] = "must be one of on_track, at_risk, off_track"
    narrative = ctx.data.get("narrative", "")
    if not isinstance(narrative, str):
        problems["narrative"] = "must be a text"
    return problems


def _store_achieved(indicator, raw) -> None:
    indicator.achieved_text = str(raw).strip()
    indicator.achieved = parse_decimal(raw)


def record_achieved_values(ctx: Context) -> None:
    values = ctx.data.get("achieved", {})
    for indicator in ctx.subject.indicators:
        _store_achieved(indicator, values.get(str(indicator.id), values.get(indicator.id)))


def record_progress(ctx: Context) -> None:
    report = ctx.subject
    values = ctx.data.get("achieved", {})
    existing = {v.indicator_id: v for v in report.values}
    for indicator in report.goal.indicators:
        raw = values.get(str(indicator.id), values.get(indicator.id))
        value = existing.get(indicator.id) or ProgressValue(indicator_id=indicator.id)
        value.achieved_text = str(raw).strip()
        value.achieved = parse_decimal(raw)
        if value.id is None:
            report.values.append(value)
    report.narrative = ctx.data.get("narrative", "")
    report.risk = ctx.data.get("risk", "on_track")
    report.submitted_by_id = ctx.actor.id if ctx.actor else None
    report.submitted_at = utcnow()
    report.return_reason = ""


def record_decision(ctx: Context) -> None:
    """Who accepted or returned a report, and when; a return keeps its reason for the unit."""
    report = ctx.subject
    report.decided_by_id = ctx.actor.id if ctx.actor else None
    report.decided_at = _now(ctx)


def record_return(ctx: Context) -> None:
    record_decision(ctx)
    ctx.subject.return_reason = ctx.extra.get("reason", "")


def stamp_plan_approval(ctx: Context) -> None:
    ctx.subject.approved_at = _now(ctx)
    ctx.subject.approved_by_id = ctx.actor.id if ctx.actor else None


def stamp_report_approval(ctx: Context) -> None:
    ctx.subject.report_approved_at = _now(ctx)
    ctx.subject.report_approved_by_id = ctx.actor.id if ctx.actor else None


def plan_reporting(ctx: Context) -> str | None:
    if ctx.subject.goal.plan.state != "reporting":
        return "the year's report is not open for changes"
    return None


def report_entry_complete(ctx: Context) -> dict[str, str]:
    """A report entry says what was achieved: a value for every indicator and its narrative."""
    entry = ctx.subject
    problems = {}
    for indicator in entry.goal.indicators:
        value = entry.value_for(indicator.id)
        if value is None or not value.achieved_text.strip():
            problems[f"achieved.{indicator.id}"] = f"the achieved value of '{indicator.name[:60]}' is required"
    if not entry.narrative.strip():
        problems["narrative"] = "the information on progress (column 14) is required"
    return problems


def compile_report_entry(ctx: Context) -> None:
    """The entry becomes the goal's row of the report: its achieved values and column 14."""
    entry = ctx.subject
    for indicator in entry.goal.indicators:
        value = entry.value_for(indicator.id)
        if value is not None:
            indicator.achieved, indicator.achieved_text = value.achieved, value.achieved_text
    entry.goal.progress_note = entry.narrative


def stamp_report_entry_signature(ctx: Context) -> None:
    ctx.subject.signed_at = utcnow()
    ctx.subject.signed_by_id = ctx.actor.id if ctx.actor else None


def amended_plan_in_force(ctx: Context) -> str | None:
    if ctx.subject.plan.state not in workflow_for("plan").group("in_force"):
        return "only an adopted plan, before its report is submitted, is amended"
    return None


REGISTRY = Registry(
    guards={
        "plan_in_force": plan_in_force,
        "report_not_approved": report_not_approved,
        "plan_has_goals": plan_has_goals,
        "no_open_goal_requests": no_open_goal_requests,
        "campaign_open": campaign_open,
        "plan_reporting": plan_reporting,
        "amended_plan_in_force": amended_plan_in_force,
    },
    requirements={
        "achieved_values": achieved_values, "progress_values": progress_values,
        "report_entry_complete": report_entry_complete,
    },
    actions={
        "record_achieved_values": record_achieved_values,
        "record_progress": record_progress,
        "record_decision": record_decision,
        "record_return": record_return,
        "stamp_plan_approval": stamp_plan_approval,
        "stamp_report_approval": stamp_report_approval,
        "compile_report_entry": compile_report_entry,
        "stamp_report_entry_signature": stamp_report_entry_signature,
    },
)


_TABLES = {"guard": REGISTRY.guards, "requirement": REGISTRY.requirements, "action": REGISTRY.actions}


def provides(kind: str, name: str) -> Callable[[F], F]:
    """A guard, requirement or action that lives in a domain, registered under the name the
    definitions use when its module is imported. The kernel names no domain: the application
    factory imports the domains before any definition loads, and loading refuses a name that
    nothing registered."""
    table = _TABLES[kind]

    def register(function: F) -> F:
        if table.get(name, function) is not function:
            raise WorkflowDefinitionError(f"the {kind} '{name}' is registered twice")
        table[name] = function
        return function

    return register


def workflows() -> dict[str, Workflow]:
    """The declared workflows, loaded once per definitions directory."""
    return _loaded(str(engine.DEFINITIONS_DIR))


@cache
def _loaded(directory: str) -> dict[str, Workflow]:
    return load_all(REGISTRY, directory)


def workflow_for(subject_type: str) -> Workflow:
    for wf in workflows().values():
        if wf.subject == subject_type:
            return wf
    raise KeyError(subject_type)
