"""The reminder sweep: deadlines, waiting approvals and quarterly reports.

Each query asks only for what is due today (indexed deadline windows, open requests past a
cutoff, open campaigns near their due date), so a sweep costs what is due, not what exists.
Each reminder's key holds its due moment ("deadline:2023-12-31:d-7"): running the sweep again,
or two sweeps at once, queues nothing twice. A reminder whose day was missed (the worker was
down) still goes out for CATCH_UP_DAYS more days, unless a later one is due by then.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Date, Integer, and_, cast, func, literal, or_, select

from service.approvals.chain import excluded_ids, slot_holders
from service.approvals.models import OPEN, RequestStage, TransitionRequest
from service.db import utcnow
from service.extensions import db
from service.goals.models import Activity, Goal, Plan
from service.kernel import subjects
from service.kernel.common import local_today, settings
from service.kernel.uow import transaction
from service.kernel.workflow_registry import workflow_for
from service.notifications import service as outbox
from service.notifications.recipients import (
    role_holders,
    substitutes_by_absent,
    unit_people_by_unit,
    with_substitutes,
)
from service.notifications.workdays import working_days_after
from service.org.models import Role, User

CATCH_UP_DAYS = 2
QUEUE_CHUNK = 500


@dataclass
class SweepReport:
    deadlines: int = 0
    approvals: int = 0
    campaigns: int = 0
    closed_campaigns: int = 0

    @property
    def queued(self) -> int:
        return self.deadlines + self.approvals + self.campaigns


def sweep(*, now: datetime | None = None) -> SweepReport:
    from service.progress import service as progress

    now = now or utcnow()
    today = local_today(now)
    report = SweepReport()
    with _read_once():
        report.deadlines = _deadline_reminders(today)
        report.approvals = _approval_reminders(now, today)
        report.campaigns = progress.send_campaign_reminders(now=now)
        report.closed_campaigns = len(progress.close_finished_campaigns(now=now))
    return report


@contextmanager
def _read_once() -> Iterator[None]:
    """Each reminder commits on its own (below); by default a commit expires every goal and
    person the sweep has read, and the next reminder reads them all again (four queries a goal).
    The sweep works from what it read at its start, so it keeps them."""
    session = db.session()
    previous, session.expire_on_commit = session.expire_on_commit, False
    try:
        yield
    finally:
        session.expire_on_commit = previous


def _queue(**message) -> int:
    """Each reminder in its own short transaction: a sweep never holds locks for long, and what
    it queued stays queued should it stop half-way."""
    with transaction():
        return outbox.enqueue(**message) is not None


# -- deadlines ------------------------------------------------------------------------------


def soon_windows(today: date) -> dict[date, int]:
    """deadline date -> the "N days before" reminder due for it today."""
    thresholds = sorted(set(settings().DEADLINE_REMINDER_DAYS), reverse=True)
    windows: dict[date, int] = {}
    for i, days in enumerate(thresholds):
        next_days = thresholds[i + 1] if i + 1 < len(thresholds) else 0
        for late in range(CATCH_UP_DAYS + 1):
            if days - late <= next_days:
                break
            windows[today + timedelta(days=days - late)] = days
    return windows


def overdue_step(deadline: date, today: date) -> int | None:
    """The weekly overdue reminder due today (1 the day after the deadline, 2 a week later, ...)."""
    every = max(1, settings().OVERDUE_REMINDER_EVERY_DAYS)
    late = (today - deadline).days
    if late < 1 or (late - 1) % every > CATCH_UP_DAYS:
        return None
    return (late - 1) // every + 1


def _days_since(column, today: date):
    """today - column, in days, on either backend."""
    if db.session.get_bind().dialect.name == "sqlite":
        return cast(func.julianday(literal(today.isoformat())) - func.julianday(column), Integer)
    return literal(today, Date) - column


def _overdue_condition(column, today: date):
    every = max(1, settings().OVERDUE_REMINDER_EVERY_DAYS)
    return and_(column < today, (_days_since(column, today) - 1) % every <= CATCH_UP_DAYS)


def _plan_years() -> list[int]:
    in_force = workflow_for("plan").group("in_force")
    return list(db.session.scalars(select(Plan.year).where(Plan.state.in_(in_force)).distinct()))


def _deadline_reminders(today: date) -> int:
    windows = soon_windows(today)
    years = _plan_years()
    # A goal without its own deadline is due at the end of its plan's year.
    soon_years = [y for y in years if date(y, 12, 31) in windows]
    overdue_years = [y for y in years if overdue_step(date(y, 12, 31), today) is not None]
    in_force = and_(
        Plan.state.in_(workflow_for("plan").group("in_force")), Goal.state.in_(workflow_for("goal").group("active"))
    )
    goals = db.session.scalars(
        select(Goal).join(Plan).where(
            in_force,
            or_(
                Goal.deadline.in_(list(windows)),
                _overdue_condition(Goal.deadline, today),
                and_(Goal.deadline.is_(None), Plan.year.in_(soon_years + overdue_years)),
            ),
        )
    ).all()
    activities = db.session.scalars(
        select(Activity).join(Goal).join(Plan).where(
            in_force,
            Activity.done.is_(False),
            or_(Activity.deadline.in_(list(windows)), _overdue_condition(Activity.deadline, today)),
        )
    ).all()
    due = [(goal, None, goal.deadline or date(goal.plan.year, 12, 31)) for goal in goals]
    due += [(activity.goal, activity, activity.deadline) for activity in activities]
    if not due:
        return 0
    # The people of every due goal's units and today's substitutes, in two queries, not two per goal.
    people = unit_people_by_unit({u for goal, _, _ in due for u in goal.unit_ids})
    substitutes = substitutes_by_absent(today)
    messages = []
    for goal, activity, deadline in due:
        goal_people = sorted({p for u in goal.unit_ids for p in people[u]}, key=lambda p: p.id)
        messages += _deadline_messages(goal, activity, deadline, windows, today, goal_people, substitutes)
    return _queue_many(messages)


def _queue_many(messages: list[dict]) -> int:
    """Many reminders, QUEUE_CHUNK to a short transaction of one INSERT: one round trip per message
    was most of a sweep's time. What a stopped sweep queued stays queued; the rest comes next time."""
    queued = 0
    for start in range(0, len(messages), QUEUE_CHUNK):
        with transaction():
            queued += outbox.enqueue_many(messages[start:start + QUEUE_CHUNK])
    return queued


def _deadline_messages(goal: Goal, activity: Activity | None, deadline: date, windows: dict[date, int], today: date,
                       people: list[User], substitutes: dict[int, list[User]]) -> list[dict]:
    if deadline in windows:
        kind, moment, days = "deadline_soon", f"d-{windows[deadline]}", (deadline - today).days
    else:
        step = overdue_step(deadline, today)
        if step is None:
            return []
        kind, moment, days = "deadline_overdue", f"overdue-{step}", (today - deadline).days
    params = {
        "number": goal.number, "title": goal.title, "activity": activity.title if activity else "",
        "deadline": deadline, "days": days,
    }
    subject_type, subject_id = ("activity", activity.id) if activity else ("goal", goal.id)
    return [
        dict(kind=kind, recipient=recipient, subject_type=subject_type, subject_id=subject_id, params=params,
             path=f"/goals/{goal.id}", due_moment=f"deadline:{deadline.isoformat()}:{moment}", on_behalf_of=on_behalf)
        for recipient, on_behalf in with_substitutes(people, today, substitutes)
    ]


# -- approvals ------------------------------------------------------------------------------


def _start_of_local_day(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(settings().TIMEZONE)).astimezone(UTC)


def _latest_activation_day(today: date, working_days: int) -> date:
    """The last day on which a stage could have become active and have waited `working_days` by today."""
    day = today
    while working_days_after(day, today) < working_days:
        day -= timedelta(days=1)
    return day


def _approval_reminders(now: datetime, today: date) -> int:
    s = settings()
    remind_after, escalate_after = s.APPROVAL_REMINDER_WORKING_DAYS, s.APPROVAL_ESCALATION_WORKING_DAYS
    cutoff = _start_of_local_day(_latest_activation_day(today, min(remind_after, escalate_after)) + timedelta(days=1))
    stages = db.session.scalars(
        select(RequestStage)
        .join(TransitionRequest)
        .where(TransitionRequest.status == OPEN, RequestStage.status == "active", RequestStage.activated_at < cutoff)
        .order_by(RequestStage.id)
    ).all()
    queued = 0
    tz = ZoneInfo(s.TIMEZONE)
    for stage in stages:
        request = stage.request
        waited = working_days_after(stage.activated_at.astimezone(tz).date(), today)
        subject = subjects.load(request.subject_type, request.subject_id)
        if subject is None:
            continue
        if waited >= remind_after:
            queued += _remind_approvers(request, stage, subject, waited, today)
        if waited >= escalate_after:
            queued += _escalate_approval(request, stage, subject, waited, today)
    return queued


def _approval_params(request: TransitionRequest, stage: RequestStage, subject, waited: int, recipient: User) -> dict:
    lang = recipient.locale if recipient.locale in ("bg", "en") else "bg"
    return {
        **subjects.kind(request.subject_type).describe(subject),
        "transition": workflow_for(request.subject_type).transition(request.transition).label[lang],
        "requester": request.requested_by.name,
        "since": stage.activated_at.astimezone(ZoneInfo(settings().TIMEZONE)).date(),
        "days": waited,
    }


def _waiting_holders(request: TransitionRequest, stage: RequestStage) -> list[User]:
    people: dict[int, User] = {}
    for slot in stage.slots:
        if slot.status != "pending":
            continue
        for holder in slot_holders(slot, request.administration_id):
            if holder.id not in excluded_ids(request):  # separation of duties (service/kernel/transition.py)
                people[holder.id] = holder
    return list(people.values())


def _remind_approvers(request: TransitionRequest, stage: RequestStage, subject, waited: int, today: date) -> int:
    path = subjects.kind(request.subject_type).path(subject)
    queued = 0
    for recipient, on_behalf in with_substitutes(_waiting_holders(request, stage), today):
        if recipient.id in excluded_ids(request):
            continue
        queued += _queue(
            kind="approval_reminder", recipient=recipient, subject_type="transition_request", subject_id=request.id,
            params=_approval_params(request, stage, subject, waited, recipient), path=path,
            due_moment=f"stage:{stage.position}:reminder", on_behalf_of=on_behalf,
        )
    return queued


def _escalate_approval(request: TransitionRequest, stage: RequestStage, subject, waited: int, today: date) -> int:
    path = subjects.kind(request.subject_type).path(subject)
    waiting_for = ", ".join(p.name for p in _waiting_holders(request, stage)) or "—"
    queued = 0
    secretaries = role_holders(request.administration_id, [Role.CHIEF_SECRETARY])
    for recipient, on_behalf in with_substitutes(secretaries, today):
        params = {**_approval_params(request, stage, subject, waited, recipient), "waiting_for": waiting_for}
        queued += _queue(
            kind="approval_escalated", recipient=recipient, subject_type="transition_request", subject_id=request.id,
            params=params, path=path, due_moment=f"stage:{stage.position}:escalation", on_behalf_of=on_behalf,
        )
    return queued
