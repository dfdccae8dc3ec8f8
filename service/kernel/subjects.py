"""What the approval engine needs to know about each kind of object that moves through a workflow."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload, lazyload

from service.extensions import db
from service.goals.models import Goal, Plan, PlanAmendment, ReportEntry
from service.kernel.errors import GoalflowError, not_found
from service.progress.models import Campaign, ProgressReport


@dataclass(frozen=True)
class SubjectKind:
    model: type
    administration_id: Callable[[Any], int]
    unit_ids: Callable[[Any], set[int]]
    path: Callable[[Any], str]
    describe: Callable[[Any], dict]
    # What a decision reads with the object: the rows that say whose it is, in the same query.
    # Everything else (a goal's indicators, activities) loads only if a guard or action asks.
    load_options: tuple = ()
    # Whose units see the object (by default the units it belongs to).
    seen_by_units: Callable[[Any], set[int]] | None = None
    # Every transition is recorded as a request (even one that applies when asked), so that the
    # object's history reads as requests and decisions; False: only staged transitions are.
    requests: bool = True
    # Locks what transitions of this kind must take one at a time (a campaign's reports).
    serialize: Callable[[Any], None] | None = None
    # The error for someone who holds a requester's role, but for another unit.
    wrong_unit: Callable[[Any], GoalflowError] | None = None

    def visible_units(self, subject) -> set[int]:
        return (self.seen_by_units or self.unit_ids)(subject)


def _lock_campaign(report: ProgressReport) -> None:
    """One transition per campaign at a time, so that whoever accepts the last report closes it."""
    db.session.execute(
        select(Campaign).where(Campaign.id == report.campaign_id).with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()


KINDS: dict[str, SubjectKind] = {
    "goal": SubjectKind(
        model=Goal,
        administration_id=lambda g: g.plan.administration_id,
        unit_ids=lambda g: g.unit_ids,
        path=lambda g: f"/goals/{g.id}",
        describe=lambda g: {"number": g.number, "title": g.title},
        load_options=(joinedload(Goal.plan), joinedload(Goal.units), lazyload(Goal.indicators),
                      lazyload(Goal.activities)),
    ),
    "plan": SubjectKind(
        model=Plan,
        administration_id=lambda p: p.administration_id,
        unit_ids=lambda p: set(),
        path=lambda p: f"/plans/{p.id}",
        describe=lambda p: {"number": p.year, "title": p.administration.name},
    ),
    "progress_report": SubjectKind(
        model=ProgressReport,
        administration_id=lambda r: r.campaign.plan.administration_id,
        unit_ids=lambda r: {r.unit_id},
        path=lambda r: f"/progress/{r.id}",
        describe=lambda r: {"number": r.goal.number, "title": r.goal.title},
        load_options=(joinedload(ProgressReport.campaign).joinedload(Campaign.plan),),
        seen_by_units=lambda r: r.goal.unit_ids,
        requests=False,
        serialize=_lock_campaign,
        wrong_unit=lambda r: GoalflowError("report_wrong_unit", unit=r.unit.code),
    ),
    "report_entry": SubjectKind(
        model=ReportEntry,
        administration_id=lambda e: e.goal.plan.administration_id,
        unit_ids=lambda e: e.goal.unit_ids,
        path=lambda e: f"/goals/{e.goal_id}/report-entry",
        describe=lambda e: {"number": e.goal.number, "title": e.goal.title},
        load_options=(joinedload(ReportEntry.goal).joinedload(Goal.plan),),
    ),
    "plan_amendment": SubjectKind(
        model=PlanAmendment,
        administration_id=lambda a: a.plan.administration_id,
        unit_ids=lambda a: set(a.unit_ids_concerned or []),
        path=lambda a: f"/plans/{a.plan_id}/amendments/{a.id}",
        describe=lambda a: {"number": a.plan.year, "title": a.reason[:200]},
        load_options=(joinedload(PlanAmendment.plan),),
    ),
}


def kind(subject_type: str) -> SubjectKind:
    try:
        return KINDS[subject_type]
    except KeyError:
        raise not_found() from None


def load(subject_type: str, subject_id: int, *, lock: bool = False):
    """The object, freshly read; locked for update where the backend has row locks."""
    return db.session.execute(_load_query(subject_type, lock), {"subject_id": subject_id}).unique().scalar_one_or_none()


@cache
def _load_query(subject_type: str, lock: bool):
    """Built once per kind: building the statement cost as much as running it."""
    k = kind(subject_type)
    query = (
        select(k.model).where(k.model.id == bindparam("subject_id")).options(*k.load_options)
        .execution_options(populate_existing=True)
    )
    if lock:
        query = query.with_for_update(of=k.model)  # the object's row, not the rows joined to it
    return query


def load_many(subject_type: str, subject_ids: set[int]) -> dict[int, Any]:
    """Many objects of one kind in one query (with what says whose they are), by id."""
    k = kind(subject_type)
    if not subject_ids:
        return {}
    query = select(k.model).where(k.model.id.in_(subject_ids)).options(*k.load_options)
    return {obj.id: obj for obj in db.session.execute(query).unique().scalars()}


def snapshot(subject) -> dict:
    return {"state": subject.state, "version": subject.version}
