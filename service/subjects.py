"""What the approval engine needs to know about each kind of object that moves through a workflow."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload, lazyload

from service.extensions import db
from service.goals.models import Goal, Plan, PlanAmendment, ReportEntry
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
    from service.errors import not_found

    try:
        return KINDS[subject_type]
    except KeyError:
        raise not_found() from None


def load(subject_type: str, subject_id: int, *, lock: bool = False):
    """The object, freshly read; locked for update where the backend has row locks."""
    k = kind(subject_type)
    query = (
        select(k.model).where(k.model.id == subject_id).options(*k.load_options)
        .execution_options(populate_existing=True)
    )
    if lock:
        query = query.with_for_update(of=k.model)  # the object's row, not the rows joined to it
    return db.session.execute(query).unique().scalar_one_or_none()


def load_many(subject_type: str, subject_ids: set[int]) -> dict[int, Any]:
    """Many objects of one kind in one query (with what says whose they are), by id."""
    k = kind(subject_type)
    if not subject_ids:
        return {}
    query = select(k.model).where(k.model.id.in_(subject_ids)).options(*k.load_options)
    return {obj.id: obj for obj in db.session.execute(query).unique().scalars()}


def snapshot(subject) -> dict:
    return {"state": subject.state, "version": subject.version}
