"""Quarterly progress: a campaign per plan and quarter, one report per active goal and
responsible unit, reminders while reports are missing, and one summary when it closes.

A report moves through the declared `progress` workflow (workflows/progress.yaml): its guards,
data requirements and actions run in the engine; this module checks who may act, owns the
transaction, records the audit event and queues the messages.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from service.audit import service as audit
from service.db import utcnow
from service.documents.quarter import QuarterSummary, QuarterSummaryRow, export_quarter_summary_xlsx
from service.extensions import db
from service.goals.models import Goal, Plan
from service.kernel import authz
from service.kernel import transition as one_path
from service.kernel.common import local_today, settings
from service.kernel.errors import GoalflowError, forbidden, not_found
from service.kernel.uow import transaction
from service.kernel.workflow_registry import workflow_for
from service.notifications import service as outbox
from service.notifications.recipients import role_holders, unit_people, with_substitutes
from service.notifications.workdays import add_working_days, working_days_after
from service.org.models import Role, Unit, User
from service.progress.models import Campaign, ProgressReport

SUBJECT = "progress_report"
OPEN, CLOSED = "open", "closed"
RISKS = ("on_track", "at_risk", "off_track")
RISK_LABELS = {
    "bg": {"on_track": "по план", "at_risk": "в риск", "off_track": "изостава"},
    "en": {"on_track": "on track", "at_risk": "at risk", "off_track": "off track"},
}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SUMMARY_READERS = (Role.GOVERNOR, Role.CHIEF_SECRETARY)


# -- the calendar of quarters -------------------------------------------------------------------


def quarter_start(year: int, quarter: int) -> date:
    return date(year, 3 * quarter - 2, 1)


def quarter_end(year: int, quarter: int) -> date:
    month = 3 * quarter
    return date(year, month, calendar.monthrange(year, month)[1])


def campaign_opens_on(year: int, quarter: int) -> date:
    """The first working day after the quarter: the day its campaign opens by the calendar."""
    return add_working_days(quarter_end(year, quarter), 1)


def campaign_due_on(year: int, quarter: int) -> date:
    """The reports are due a set number of working days after the quarter's campaign opens by
    the calendar, whenever it is actually opened: a campaign for 2023 opened in 2026 is due
    in 2023 (and is overdue from its first day)."""
    return add_working_days(campaign_opens_on(year, quarter), settings().CAMPAIGN_DUE_WORKING_DAYS)


def last_ended_quarter(year: int, today: date) -> int | None:
    """The latest quarter of `year` that ended before `today` (Q1 from 1 April on)."""
    ended = [q for q in (1, 2, 3, 4) if quarter_end(year, q) < today]
    return ended[-1] if ended else None


# -- reading ------------------------------------------------------------------------------------


def _admin_id(report: ProgressReport) -> int:
    return report.campaign.plan.administration_id


def _sees_goal(actor: User, goal: Goal, today: date) -> bool:
    return authz.viewer(actor, today).sees(goal.plan.administration_id, goal.unit_ids)


def get_campaign(*, actor: User, campaign_id: int) -> Campaign:
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None or campaign.plan.administration_id != actor.administration_id:
        raise not_found()
    return campaign


def list_campaigns(*, actor: User | None, plan_id: int | None = None, status: str | None = None) -> list[Campaign]:
    """Campaigns of the person's administration (`actor` None: every one, for operators)."""
    query = select(Campaign).join(Plan)
    if actor is not None:
        query = query.where(Plan.administration_id == actor.administration_id)
    if plan_id is not None:
        query = query.where(Campaign.plan_id == plan_id)
    if status:
        query = query.where(Campaign.status == status)
    return list(db.session.scalars(query.order_by(Plan.year.desc(), Campaign.quarter.desc())))


def get_report(*, actor: User, report_id: int, now: datetime | None = None) -> ProgressReport:
    """A report is visible to whoever sees its goal."""
    report = db.session.get(ProgressReport, report_id)
    if report is None or not _sees_goal(actor, report.goal, local_today(now)):
        raise not_found()
    return report


def list_reports(
    *, actor: User, campaign_id: int | None = None, state: str | None = None, unit_id: int | None = None,
    only_open_campaigns: bool = False, now: datetime | None = None,
) -> list[ProgressReport]:
    """Reports this person may see, newest campaign first."""
    viewer = authz.viewer(actor, local_today(now))
    query = (
        select(ProgressReport)
        .join(Campaign)
        .join(Plan)
        .join(Goal, Goal.id == ProgressReport.goal_id)
        .where(Plan.administration_id == viewer.administration_id)
        .options(selectinload(ProgressReport.goal), selectinload(ProgressReport.unit))
    )
    if not viewer.all_units:
        query = query.where(ProgressReport.unit_id.in_(viewer.unit_ids))
    if campaign_id is not None:
        query = query.where(ProgressReport.campaign_id == campaign_id)
    if state:
        query = query.where(ProgressReport.state == state)
    if unit_id is not None:
        query = query.where(ProgressReport.unit_id == unit_id)
    if only_open_campaigns:
        query = query.where(Campaign.status == OPEN)
    return list(db.session.scalars(query.order_by(Campaign.id.desc(), Goal.number, ProgressReport.unit_id)))


def missing_reports(*, actor: User, now: datetime | None = None) -> list[ProgressReport]:
    """Reports of open campaigns that are still to be submitted, as this person sees them."""
    initial = workflow_for(SUBJECT).initial
    return list_reports(actor=actor, state=initial, only_open_campaigns=True, now=now)


@dataclass
class CampaignBoard:
    """The chief secretary's view of one campaign."""

    campaign: Campaign
    reports: list[ProgressReport]
    counts: dict[str, int]
    missing: list[ProgressReport]
    overdue: bool


def campaign_board(*, actor: User, campaign_id: int, now: datetime | None = None) -> CampaignBoard:
    campaign = get_campaign(actor=actor, campaign_id=campaign_id)
    reports = list_reports(actor=actor, campaign_id=campaign.id, now=now)
    wf = workflow_for(SUBJECT)
    counts = {state: sum(r.state == state for r in reports) for state in wf.states}
    missing = [r for r in reports if r.state == wf.initial]
    overdue = campaign.status == OPEN and local_today(now) > campaign.due_on
    return CampaignBoard(campaign, reports, counts, missing, overdue)


def allowed_actions(actor: User, report: ProgressReport, *, now: datetime | None = None) -> list[str]:
    """The transitions this person may take on the report now (for offering them)."""
    return [t.name for t in one_path.offers(actor, SUBJECT, report, now=now)]


# -- acting on a report ------------------------------------------------------------------------


def _act(
    *, actor: User, report_id: int, transition: str, data: dict, reason: str,
    expected_version: int | None, now: datetime | None,
) -> ProgressReport:
    """The one path moves the report; then the unit is told, and the last accepted report closes
    the campaign (whose row the path locked), in the same transaction."""
    now = now or utcnow()
    with transaction():
        outcome = one_path.apply(
            actor=actor, subject_type=SUBJECT, subject_id=report_id, transition=transition, data=data,
            reason=reason, expected_version=expected_version, now=now,
        )
        report = outcome.subject
        _notify_transition(report, transition, actor, reason, local_today(now))
        if _all_accepted(report.campaign):
            _close(report.campaign, actor=actor, now=now)
    return report


def submit_report(
    *, actor: User, report_id: int, achieved: dict, narrative: str = "", risk: str = "on_track",
    expected_version: int | None = None, now: datetime | None = None,
) -> ProgressReport:
    """An expert (or the head) of the report's unit submits the achieved values, a narrative and a risk flag."""
    data = {"achieved": achieved, "narrative": narrative, "risk": risk}
    return _act(actor=actor, report_id=report_id, transition="submit", data=data, reason="",
                expected_version=expected_version, now=now)


def accept_report(
    *, actor: User, report_id: int, comment: str = "", expected_version: int | None = None,
    now: datetime | None = None,
) -> ProgressReport:
    return _act(actor=actor, report_id=report_id, transition="accept", data={}, reason=(comment or "").strip(),
                expected_version=expected_version, now=now)


def return_report(
    *, actor: User, report_id: int, reason: str, expected_version: int | None = None, now: datetime | None = None,
) -> ProgressReport:
    return _act(actor=actor, report_id=report_id, transition="return", data={}, reason=(reason or "").strip(),
                expected_version=expected_version, now=now)


def _report_params(report: ProgressReport) -> dict:
    plan = report.campaign.plan
    return {
        "number": report.goal.number, "title": report.goal.title, "unit": report.unit.code,
        "quarter": report.campaign.quarter, "year": plan.year,
    }


def _notify_transition(report: ProgressReport, transition: str, actor: User, reason: str, today: date) -> None:
    """Who is told depends on where the report now is: in review, its head; back to be
    reported, its experts and whoever submitted it."""
    wf = workflow_for(SUBJECT)
    if report.state in wf.group("in_review"):
        kind, people, extra = "report_submitted", unit_people([report.unit_id], [Role.HEAD]), {"submitter": actor.name}
    elif report.state == wf.initial:
        people = unit_people([report.unit_id], [Role.EXPERT])
        if report.submitted_by is not None and report.submitted_by not in people:
            people.append(report.submitted_by)
        kind, extra = "report_returned", {"decider": actor.name, "reason": reason}
    else:
        return
    for recipient, on_behalf in with_substitutes(people, today):
        if recipient.id == actor.id:
            continue
        outbox.enqueue(
            kind=kind, recipient=recipient, subject_type=SUBJECT, subject_id=report.id,
            params={**_report_params(report), **extra}, path=f"/progress/{report.id}",
            due_moment=f"{transition}:v{report.version}", on_behalf_of=on_behalf,
        )


# -- campaigns ----------------------------------------------------------------------------------


def board_path(campaign: Campaign) -> str:
    """The campaign's status board: where the governor and the chief secretary follow it."""
    return f"/progress/campaigns/{campaign.id}"


def _goal_lines(reports: list[ProgressReport]) -> str:
    return "\n".join(f"{r.goal.number}. {r.goal.title}" for r in sorted(reports, key=lambda r: r.goal.number))


def open_campaign(
    *, plan_id: int, quarter: int, actor: User | None = None, now: datetime | None = None
) -> Campaign:
    """Open the quarter's campaign: one report per active goal and responsible unit, and a
    message to each unit's experts and head. `actor` None: the scheduler or an operator."""
    now = now or utcnow()
    today = local_today(now)
    if quarter not in (1, 2, 3, 4):
        raise GoalflowError("invalid_input", fields={"quarter": "must be 1, 2, 3 or 4"})
    with transaction():
        plan = db.session.execute(
            select(Plan).where(Plan.id == plan_id).with_for_update().execution_options(populate_existing=True)
        ).scalar_one_or_none()
        if plan is None or (actor is not None and actor.administration_id != plan.administration_id):
            raise not_found()
        if actor is not None and not authz.may(actor, "run_campaigns"):
            raise forbidden()
        if plan.state not in workflow_for("plan").group("in_force"):
            raise GoalflowError("plan_not_in_force")
        if today < quarter_start(plan.year, quarter):
            raise GoalflowError("quarter_not_started")
        if db.session.scalar(select(Campaign.id).where(Campaign.plan_id == plan.id, Campaign.quarter == quarter)):
            raise GoalflowError("duplicate", what=f"{plan.year} Q{quarter}")
        campaign = Campaign(
            plan=plan, quarter=quarter, status=OPEN, opened_at=now, opened_by_id=actor.id if actor else None,
            due_on=campaign_due_on(plan.year, quarter),
        )
        initial = workflow_for(SUBJECT).initial
        active = workflow_for("goal").group("active")
        for goal in plan.goals:
            if goal.state in active:
                campaign.reports.extend(ProgressReport(goal=goal, unit=unit, state=initial) for unit in goal.units)
        db.session.add(campaign)
        db.session.flush()
        audit.record(
            chain_id=plan.administration_id, action="campaign_opened", subject_type="campaign",
            subject_id=campaign.id, actor_id=actor.id if actor else None,
            after={"plan": plan.id, "quarter": quarter, "due_on": campaign.due_on, "reports": len(campaign.reports)},
            at=now,
        )
        _notify_units(campaign, campaign.reports, kind="campaign_opened", moment="opened", today=today)
    return campaign


def _notify_units(
    campaign: Campaign, reports: list[ProgressReport], *, kind: str, moment: str, today: date, stage: str = "",
    roles: tuple[Role, ...] = (Role.HEAD, Role.EXPERT),
) -> int:
    """One message per unit and person, listing that unit's reports."""
    by_unit: dict[int, list[ProgressReport]] = defaultdict(list)
    for report in reports:
        by_unit[report.unit_id].append(report)
    queued = 0
    for unit_id, unit_reports in sorted(by_unit.items()):
        unit = db.session.get(Unit, unit_id)
        params = {
            "quarter": campaign.quarter, "year": campaign.plan.year, "due": campaign.due_on, "unit": unit.code,
            "goals": _goal_lines(unit_reports), "stage": stage,
        }
        for recipient, on_behalf in with_substitutes(unit_people([unit_id], roles), today):
            queued += outbox.enqueue(
                kind=kind, recipient=recipient, subject_type="campaign", subject_id=campaign.id, params=params,
                path="/progress", due_moment=f"{moment}:unit:{unit_id}",
                on_behalf_of=on_behalf,
            ) is not None
    return queued


def open_due_campaigns(*, now: datetime | None = None) -> list[Campaign]:
    """Beat: for every plan in force, open the campaign of the quarter that last ended, once."""
    now = now or utcnow()
    today = local_today(now)
    opened = []
    in_force = workflow_for("plan").group("in_force")
    plans = db.session.execute(select(Plan.id, Plan.year).where(Plan.state.in_(in_force))).all()
    for plan_id, year in plans:
        quarter = last_ended_quarter(year, today)
        if quarter is None:
            continue
        latest = db.session.scalar(select(func.max(Campaign.quarter)).where(Campaign.plan_id == plan_id))
        if latest is not None and latest >= quarter:
            continue
        try:
            opened.append(open_campaign(plan_id=plan_id, quarter=quarter, now=now))
        except GoalflowError as exc:  # another worker opened it first, or the plan moved on
            if exc.code not in ("conflict", "duplicate", "plan_not_in_force"):
                raise
    return opened


def _all_accepted(campaign: Campaign) -> bool:
    accepted = workflow_for(SUBJECT).group("accepted")
    return all(r.state in accepted for r in campaign.reports)


def close_campaign(*, campaign_id: int, actor: User | None = None, now: datetime | None = None) -> Campaign:
    """Close by hand (the chief secretary, or an operator with `actor` None)."""
    now = now or utcnow()
    with transaction():
        campaign = db.session.execute(
            select(Campaign).where(Campaign.id == campaign_id).with_for_update()
            .execution_options(populate_existing=True)  # the status as it is now, not as first read
        ).scalar_one_or_none()
        if campaign is None or (actor is not None and actor.administration_id != campaign.plan.administration_id):
            raise not_found()
        if actor is not None and not authz.may(actor, "run_campaigns"):
            raise forbidden()
        if campaign.status != OPEN:
            raise GoalflowError("campaign_closed")
        _close(campaign, actor=actor, now=now)
    return campaign


def _close(campaign: Campaign, *, actor: User | None, now: datetime) -> None:
    campaign.status, campaign.closed_at = CLOSED, now
    audit.record(
        chain_id=campaign.plan.administration_id, action="campaign_closed", subject_type="campaign",
        subject_id=campaign.id, actor_id=actor.id if actor else None,
        after={"states": {r.id: r.state for r in campaign.reports}}, at=now,
    )
    _send_summary(campaign, local_today(now))


def close_finished_campaigns(*, now: datetime | None = None) -> list[int]:
    """Sweep: close campaigns whose reports are all accepted, or whose grace after the due date is over."""
    now = now or utcnow()
    today = local_today(now)
    grace = settings().CAMPAIGN_CLOSE_AFTER_WORKING_DAYS
    closed = []
    for campaign_id, due_on in db.session.execute(select(Campaign.id, Campaign.due_on).where(Campaign.status == OPEN)).all():
        campaign = db.session.get(Campaign, campaign_id)
        if _all_accepted(campaign) or working_days_after(due_on, today) > grace:
            try:
                close_campaign(campaign_id=campaign_id, now=now)
            except GoalflowError as exc:  # closed meanwhile by a person or another worker
                if exc.code not in ("campaign_closed", "conflict"):
                    raise
                continue
            closed.append(campaign_id)
    return closed


# -- the summary -------------------------------------------------------------------------------


def _worst_risk(reports: list[ProgressReport]) -> str | None:
    flags = [r.risk for r in reports if r.submitted_at is not None]
    return max(flags, key=RISKS.index) if flags else None


def _indicator_words(goal: Goal, reports: list[ProgressReport]) -> str:
    """Each indicator as "name: achieved / target", preferring accepted reports' values."""
    accepted = workflow_for(SUBJECT).group("accepted")
    ranked = sorted((r for r in reports if r.submitted_at), key=lambda r: (r.state in accepted, r.submitted_at))
    achieved = {}
    for report in ranked:  # later and accepted reports win
        achieved.update({v.indicator_id: v.achieved_text for v in report.values if v.achieved_text})
    nothing = "—"
    lines = []
    for indicator in goal.indicators:
        value = achieved.get(indicator.id) or indicator.achieved_text or nothing
        target = indicator.target_text or (str(indicator.target) if indicator.target is not None else nothing)
        lines.append(f"{indicator.name}: {value} / {target}")
    return "\n".join(lines)


def quarter_summary(campaign: Campaign, lang: str = "bg") -> QuarterSummary:
    """Every goal of the plan: state, indicators achieved against target, risk, missing reports."""
    wf = workflow_for(SUBJECT)
    by_goal: dict[int, list[ProgressReport]] = defaultdict(list)
    for report in campaign.reports:
        by_goal[report.goal_id].append(report)
    rows = []
    for goal in campaign.plan.goals:
        reports = by_goal.get(goal.id, [])
        risk = _worst_risk(reports)
        rows.append(
            QuarterSummaryRow(
                number=goal.number,
                title=goal.title,
                units=[u.code for u in goal.units],
                state=goal.state,
                indicators=_indicator_words(goal, reports),
                risk=RISK_LABELS[lang][risk] if risk else "",
                report_status="\n".join(f"{r.unit.code}: {wf.state_label(r.state, lang)}" for r in reports),
                report_missing=any(r.state == wf.initial for r in reports),
            )
        )
    return QuarterSummary(
        administration=campaign.plan.administration.name, year=campaign.plan.year, quarter=campaign.quarter, rows=rows
    )


def may_read_summary(actor: User, campaign: Campaign, today: date) -> bool:
    """The governor and the chief secretary of the plan's administration, and whoever stands
    in for one of them today."""
    if not actor.active or actor.administration_id != campaign.plan.administration_id:
        return False
    people = [actor, *authz.absent_principals(actor, today)]
    return any(person.has_role(role) for person in people for role in SUMMARY_READERS)


@dataclass
class GoalProgress:
    goal: Goal
    percent: int | None  # achieved against target over the indicators with numbers, capped at 100
    risk: str | None
    reports: list[ProgressReport]
    missing: list[ProgressReport]


@dataclass
class UnitProgress:
    unit: Unit
    reports: int
    accepted: int
    submitted: int
    missing: int
    percent: int | None  # the mean of its goals' progress


@dataclass
class QuarterOverview:
    """The quarter for the governor: every goal's progress, every unit's, and what is missing."""

    campaign: Campaign
    goals: list[GoalProgress]
    units: list[UnitProgress]
    missing: list[ProgressReport]
    overdue: bool


def _achieved_values(reports: list[ProgressReport]) -> dict[int, Decimal]:
    """The latest numbers reported per indicator, accepted reports first."""
    ranked = sorted((r for r in reports if r.submitted_at), key=lambda r: (r.state == "accepted", r.submitted_at))
    achieved: dict[int, Decimal] = {}
    for report in ranked:
        achieved.update({v.indicator_id: v.achieved for v in report.values if v.achieved is not None})
    return achieved


def goal_percent(goal: Goal, achieved: dict[int, Decimal]) -> int | None:
    """The mean of achieved/target over the indicators that have a positive numeric target
    (a value reported this quarter, else the goal's own), each capped at 100 %."""
    shares = []
    for indicator in goal.indicators:
        value = achieved.get(indicator.id, indicator.achieved)
        if indicator.target is None or indicator.target <= 0 or value is None:
            continue
        shares.append(min(Decimal(1), max(Decimal(0), value / indicator.target)))
    return round(100 * sum(shares) / len(shares)) if shares else None


def quarter_overview(*, actor: User, campaign_id: int, now: datetime | None = None) -> QuarterOverview:
    today = local_today(now)
    campaign = get_campaign(actor=actor, campaign_id=campaign_id)
    if not may_read_summary(actor, campaign, today):
        raise forbidden()
    initial = workflow_for(SUBJECT).initial
    by_goal: dict[int, list[ProgressReport]] = defaultdict(list)
    for report in campaign.reports:
        by_goal[report.goal_id].append(report)
    goals = []
    for goal in campaign.plan.goals:
        reports = sorted(by_goal.get(goal.id, []), key=lambda r: r.unit_id)
        goals.append(GoalProgress(
            goal=goal, percent=goal_percent(goal, _achieved_values(reports)), risk=_worst_risk(reports),
            reports=reports, missing=[r for r in reports if r.state == initial],
        ))
    units: dict[int, UnitProgress] = {}
    percents: dict[int, list[int]] = defaultdict(list)
    for row in goals:
        for report in row.reports:
            unit = units.setdefault(report.unit_id, UnitProgress(report.unit, 0, 0, 0, 0, None))
            unit.reports += 1
            unit.accepted += report.state == "accepted"
            unit.submitted += report.state == "submitted"
            unit.missing += report.state == initial
            if row.percent is not None:
                percents[report.unit_id].append(row.percent)
    for unit_id, values in percents.items():
        units[unit_id].percent = round(sum(values) / len(values))
    missing = [r for row in goals for r in row.missing]
    overdue = campaign.status == OPEN and today > campaign.due_on
    return QuarterOverview(campaign, goals, sorted(units.values(), key=lambda u: u.unit.code), missing, overdue)


def summary_download(*, actor: User, campaign_id: int, lang: str = "bg", now: datetime | None = None) -> SummaryFile:
    """The quarter's summary as the XLSX the governor receives: every goal of the plan, so for
    those who read the whole administration (the campaign board's readers)."""
    campaign = get_campaign(actor=actor, campaign_id=campaign_id)
    if not authz.viewer(actor, local_today(now)).all_units:
        raise forbidden()
    return summary_file(campaign, lang if lang in ("bg", "en") else "bg")


@dataclass
class SummaryFile:
    filename: str
    content_type: str
    data: bytes
    missing: list[str] = field(default_factory=list)


def summary_file(campaign: Campaign, lang: str = "bg") -> SummaryFile:
    summary = quarter_summary(campaign, lang)
    missing = [
        f"{r.goal.number}. {r.goal.title} ({r.unit.code})"
        for r in campaign.reports if r.state == workflow_for(SUBJECT).initial
    ]
    filename = f"goals-{campaign.plan.year}-Q{campaign.quarter}-{lang}.xlsx"
    return SummaryFile(filename, XLSX, export_quarter_summary_xlsx(summary, lang=lang), missing)


def _send_summary(campaign: Campaign, today: date) -> None:
    """ONE message per reader (the governor, the chief secretary, their substitutes), with the XLSX."""
    files: dict[str, SummaryFile] = {}
    people = role_holders(campaign.plan.administration_id, SUMMARY_READERS)
    reports = campaign.reports
    for recipient, on_behalf in with_substitutes(people, today):
        lang = recipient.locale if recipient.locale in ("bg", "en") else "bg"
        file = files.get(lang) or files.setdefault(lang, summary_file(campaign, lang))
        outbox.enqueue(
            kind="quarter_summary", recipient=recipient, subject_type="campaign", subject_id=campaign.id,
            params={
                "quarter": campaign.quarter, "year": campaign.plan.year, "goals": len(campaign.plan.goals),
                "reports": len(reports), "accepted": sum(r.state in workflow_for(SUBJECT).group("accepted") for r in reports),
                "at_risk": sum(r.risk in ("at_risk", "off_track") and r.submitted_at is not None for r in reports),
                "missing": "\n".join(file.missing), "filename": file.filename,
            },
            path=board_path(campaign), due_moment="closed", on_behalf_of=on_behalf,
            attachments=[(file.filename, file.content_type, file.data)],
        )


# -- reminders (run by the sweep) -------------------------------------------------------------


def _reminder_stage(due_on: date, today: date) -> tuple[str, str] | None:
    """(stage, the due moment of the reminder) for a campaign due on `due_on`, or None today."""
    s = settings()
    if today < due_on:
        return ("before", "before") if (due_on - today).days <= s.CAMPAIGN_REMINDER_DAYS_BEFORE else None
    if today == due_on:
        return "today", "today"
    late = working_days_after(due_on, today)
    every = max(1, s.CAMPAIGN_OVERDUE_EVERY_WORKING_DAYS)
    return ("overdue", f"overdue-{late // every}") if late >= every else None


def send_campaign_reminders(*, now: datetime | None = None) -> int:
    """Remind the units whose reports are missing, and the heads whose reports wait to be
    accepted; once overdue, tell the chief secretary what is missing."""
    now = now or utcnow()
    today = local_today(now)
    initial = workflow_for(SUBJECT).initial
    soon = today + timedelta(days=settings().CAMPAIGN_REMINDER_DAYS_BEFORE)
    queued = 0
    for campaign in db.session.scalars(select(Campaign).where(Campaign.status == OPEN, Campaign.due_on <= soon)).all():
        stage = _reminder_stage(campaign.due_on, today)
        if stage is None:
            continue
        missing = [r for r in campaign.reports if r.state == initial]
        waiting = [r for r in campaign.reports if r.state in workflow_for(SUBJECT).group("in_review")]
        with transaction():
            queued += _notify_units(
                campaign, missing, kind="campaign_reminder", moment=stage[1], today=today, stage=stage[0]
            )
            queued += _notify_units(
                campaign, waiting, kind="campaign_review_reminder", moment=f"review:{stage[1]}", today=today,
                stage=stage[0], roles=(Role.HEAD,),
            )
            if stage[0] == "overdue" and missing:
                queued += _escalate_campaign(campaign, missing, today)
    return queued


def _escalate_campaign(campaign: Campaign, missing: list[ProgressReport], today: date) -> int:
    lines = "\n".join(f"{r.goal.number}. {r.goal.title} ({r.unit.code})" for r in missing)
    queued = 0
    for recipient, on_behalf in with_substitutes(role_holders(campaign.plan.administration_id, authz.CAMPAIGN_RUNNERS), today):
        queued += outbox.enqueue(
            kind="campaign_escalated", recipient=recipient, subject_type="campaign", subject_id=campaign.id,
            params={"quarter": campaign.quarter, "year": campaign.plan.year, "due": campaign.due_on, "goals": lines},
            path=board_path(campaign), due_moment="escalated", on_behalf_of=on_behalf,
        ) is not None
    return queued
