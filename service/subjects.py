"""What the approval engine needs to know about each kind of object that moves through a workflow."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from service.extensions import db
from service.goals.models import Goal, Plan
from service.progress.models import ProgressReport


@dataclass(frozen=True)
class SubjectKind:
    model: type
    administration_id: Callable[[Any], int]
    unit_ids: Callable[[Any], set[int]]
    path: Callable[[Any], str]
    describe: Callable[[Any], dict]


KINDS: dict[str, SubjectKind] = {
    "goal": SubjectKind(
        model=Goal,
        administration_id=lambda g: g.plan.administration_id,
        unit_ids=lambda g: g.unit_ids,
        path=lambda g: f"/goals/{g.id}",
        describe=lambda g: {"number": g.number, "title": g.title},
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
    model = kind(subject_type).model
    query = select(model).where(model.id == subject_id).execution_options(populate_existing=True)
    if lock:
        query = query.with_for_update()
    return db.session.execute(query).scalar_one_or_none()


def snapshot(subject) -> dict:
    return {"state": subject.state, "version": subject.version}
