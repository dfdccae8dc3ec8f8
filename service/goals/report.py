"""The year fills the report: each goal's entry in the year's report (its achieved values and the
column-14 narrative), drafted from the accepted quarterly reports, then edited and submitted by
the responsible unit, approved by the heads, compiled by the chief secretary and signed with the
governor's approval of the report (workflows/report_entry.yaml, through the approval requests).

Only a draft is edited; a signed entry is frozen, as is anything that waits for a decision.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Final

from sqlalchemy import select

from service.approvals import service as approvals
from service.approvals.models import TransitionRequest
from service.audit import service as audit
from service.db import utcnow
from service.extensions import db
from service.goals.models import Goal, Plan, ReportEntry, ReportEntryValue
from service.kernel import authz
from service.kernel.common import local_today, parse_decimal
from service.kernel.errors import GoalflowError, not_found
from service.kernel.uow import transaction
from service.kernel.workflow_registry import provides, workflow_for
from service.org.models import User
from workflows import Context

SUBJECT: Final = "report_entry"
_ROMAN: Final = ("I", "II", "III", "IV")
_NARRATIVE_LIMIT: Final = 20_000
_VALUE_LIMIT: Final = 2_000
# The goal's outcome, in the documents' language, before the reason its request gave.
_OUTCOME_WORDS: Final[dict[str, str]] = {
    "done": "Изпълнена", "not_done": "Неизпълнена", "dropped": "Отпаднала",
}  # fmt: skip


def initial_state() -> str:
    return workflow_for(SUBJECT).initial


def entry_of(goal: Goal) -> ReportEntry | None:
    return db.session.scalar(select(ReportEntry).where(ReportEntry.goal_id == goal.id))


def _new_entry(goal: Goal) -> ReportEntry:
    """A draft that starts from what the goal already has (an imported report's column 14)."""
    entry = ReportEntry(goal=goal, state=initial_state(), narrative=goal.progress_note or "", quarters=[])
    for indicator in goal.indicators:
        if indicator.achieved_text or indicator.achieved is not None:
            entry.values.append(ReportEntryValue(
                indicator_id=indicator.id, achieved=indicator.achieved, achieved_text=indicator.achieved_text,
            ))
    db.session.add(entry)
    return entry


def _quarter_line(item: dict) -> str:
    return f"{_ROMAN[item['quarter'] - 1]} тримесечие ({item['unit']}): {item['narrative']}".strip()


def outcome_line(goal: Goal) -> str:
    """Why the goal ended as it did: the reason given when its outcome was approved."""
    if goal.state not in _OUTCOME_WORDS:
        return ""
    reason = db.session.scalar(
        select(TransitionRequest.reason)
        .where(TransitionRequest.subject_type == "goal", TransitionRequest.subject_id == goal.id,
               TransitionRequest.status == "approved", TransitionRequest.to_state == goal.state)
        .order_by(TransitionRequest.closed_at.desc())
        .limit(1)
    )
    return f"{_OUTCOME_WORDS[goal.state]}: {reason.strip()}" if reason and reason.strip() else ""


def composed_narrative(entry: ReportEntry) -> str:
    """Column 14 as the year wrote it: each accepted quarter's narrative, then the outcome."""
    lines = [_quarter_line(item) for item in entry.quarters if item.get("narrative", "").strip()]
    outcome = outcome_line(entry.goal)
    if outcome:
        lines.append(outcome)
    return "\n".join(lines)


def take_quarterly_report(report, actor: User | None) -> ReportEntry | None:
    """An accepted quarterly report updates the draft of its goal's entry: its achieved values
    (the latest quarter's win) and the narrative. A person's edits of the narrative are kept:
    the quarter is added to them. An entry past its draft is not changed."""
    goal = report.goal
    entry = entry_of(goal) or _new_entry(goal)
    if entry.state != initial_state():
        return None
    for value in report.values:
        if not value.achieved_text.strip() and value.achieved is None:
            continue
        row = entry.value_for(value.indicator_id)
        if row is None:
            row = ReportEntryValue(indicator_id=value.indicator_id)
            entry.values.append(row)
        row.achieved, row.achieved_text = value.achieved, value.achieved_text
    item = {"report": report.id, "quarter": report.campaign.quarter, "unit": report.unit.code,
            "narrative": (report.narrative or "").strip()}
    entry.quarters = [q for q in entry.quarters if q.get("report") != report.id] + [item]
    entry.quarters.sort(key=lambda q: (q["quarter"], q["unit"]))
    if entry.narrative_edited:
        if item["narrative"]:
            entry.narrative = "\n".join(part for part in (entry.narrative.rstrip(), _quarter_line(item)) if part)
    else:
        entry.narrative = composed_narrative(entry)
    entry.updated_at = utcnow()
    db.session.flush()
    return entry


# -- reading -------------------------------------------------------------------------------------


def get_goal(actor: User, goal_id: int, now: datetime | None = None) -> Goal:
    goal = db.session.get(Goal, goal_id)
    if goal is None or not authz.viewer(actor, local_today(now)).sees(goal.plan.administration_id, goal.unit_ids):
        raise not_found()
    return goal


def may_edit(actor: User, goal: Goal, entry: ReportEntry | None) -> bool:
    """A draft, with no request waiting, edited by a head or an expert of one of the goal's units
    (or the chief secretary) while the year's report is open."""
    if goal.plan.state != "reporting":
        return False
    if entry is not None and (entry.state != initial_state() or approvals.open_request(SUBJECT, entry.id)):
        return False
    return authz.may_edit_goal(actor, goal.plan.administration_id, goal.unit_ids)


def save_entry(
    *, actor: User, goal_id: int, achieved: dict, narrative: str, expected_version: int | None = None,
    now: datetime | None = None,
) -> ReportEntry:
    """The unit's edit of the draft: achieved values by indicator id, and the narrative."""
    now = now or utcnow()
    if not isinstance(achieved, dict) or not isinstance(narrative, str):
        raise GoalflowError("invalid_input", fields={"achieved": "an object of indicator ids to values"})
    with transaction():
        goal = get_goal(actor, goal_id, now)
        entry = entry_of(goal)
        if not may_edit(actor, goal, entry):
            if not authz.may_edit_goal(actor, goal.plan.administration_id, goal.unit_ids):
                raise GoalflowError("forbidden")
            raise GoalflowError("report_entry_frozen")
        if entry is not None and expected_version is not None and expected_version != entry.version:
            raise GoalflowError("stale_version", expected=expected_version, actual=entry.version)
        problems = _problems(goal, achieved, narrative)
        if problems:
            raise GoalflowError("invalid_input", fields=problems)
        entry = entry or _new_entry(goal)
        before = snapshot(entry) if entry.id else None
        for indicator in goal.indicators:
            raw = achieved.get(str(indicator.id), achieved.get(indicator.id))
            if raw is None:
                continue
            row = entry.value_for(indicator.id)
            if row is None:
                row = ReportEntryValue(indicator_id=indicator.id)
                entry.values.append(row)
            row.achieved_text, row.achieved = str(raw).strip(), parse_decimal(raw)
        narrative = narrative.strip()
        if narrative != entry.narrative:
            entry.narrative_edited = narrative != composed_narrative(entry)
            entry.narrative = narrative
        entry.updated_at, entry.updated_by_id = now, actor.id
        db.session.flush()
        audit.record(
            chain_id=goal.plan.administration_id, action="report_entry_saved", subject_type=SUBJECT,
            subject_id=entry.id, actor_id=actor.id, before=before, after=snapshot(entry), at=now,
        )
    return entry


def _problems(goal: Goal, achieved: dict, narrative: str) -> dict[str, str]:
    problems = {}
    known = {str(i.id) for i in goal.indicators}
    for key, raw in achieved.items():
        if str(key) not in known:
            problems[f"achieved.{key}"] = "no such indicator on this goal"
        elif not isinstance(raw, str | int | float) or isinstance(raw, bool):
            problems[f"achieved.{key}"] = "must be a number or a text"
        elif len(str(raw)) > _VALUE_LIMIT:
            problems[f"achieved.{key}"] = f"at most {_VALUE_LIMIT} characters"
    if len(narrative) > _NARRATIVE_LIMIT:
        problems["narrative"] = f"at most {_NARRATIVE_LIMIT} characters"
    return problems


def snapshot(entry: ReportEntry) -> dict:
    return {
        "state": entry.state, "narrative": entry.narrative,
        "achieved": {str(v.indicator_id): v.achieved_text for v in entry.values},
    }


def request(*, actor: User, goal_id: int, transition: str, reason: str = "", now: datetime | None = None):
    """Ask for a step of the entry's workflow through the approval requests."""
    goal = get_goal(actor, goal_id, now)
    entry = entry_of(goal)
    if entry is None:
        raise GoalflowError("report_entry_missing")
    return approvals.request_transition(
        actor=actor, subject_type=SUBJECT, subject_id=entry.id, transition=transition, reason=reason, now=now,
    )


def sign_compiled_entries(plan: Plan, actor: User | None) -> list[ReportEntry]:
    """Run inside the governor's approval of the plan's report: every compiled entry is signed."""
    wf = workflow_for(SUBJECT)
    entries = db.session.scalars(
        select(ReportEntry).join(Goal).where(Goal.plan_id == plan.id, ReportEntry.state == "compiled")
    ).all()
    for entry in entries:
        before = {"state": entry.state, "version": entry.version}
        wf.fire("sign", Context(subject=entry, actor=actor))
        db.session.flush()
        audit.record(
            chain_id=plan.administration_id, action="state_changed", subject_type=SUBJECT, subject_id=entry.id,
            actor_id=actor.id if actor else None, before=before,
            after={"state": entry.state, "version": entry.version, "transition": "sign"},
        )
    return list(entries)


def plan_entries(plan: Plan) -> dict[int, ReportEntry]:
    """The plan's entries by goal id."""
    rows = db.session.scalars(select(ReportEntry).join(Goal).where(Goal.plan_id == plan.id)).all()
    return {entry.goal_id: entry for entry in rows}


def achieved_shown(entry: ReportEntry | None, indicator) -> str:
    """An indicator's achieved value as the entry has it, else as the goal has it."""
    value = entry.value_for(indicator.id) if entry else None
    if value is not None:
        return value.achieved_text
    return indicator.achieved_text or ("" if indicator.achieved is None else str(Decimal(indicator.achieved)))


@provides("action", "sign_report_entries")
def sign_report_entries(ctx: Context) -> None:
    """The governor's approval of the report signs every entry compiled into it."""
    sign_compiled_entries(ctx.subject, ctx.actor)


@provides("action", "update_report_entry")
def update_report_entry(ctx: Context) -> None:
    """An accepted quarterly report updates the draft of its goal's report entry."""
    take_quarterly_report(ctx.subject, ctx.actor)
