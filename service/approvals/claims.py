"""What a request claims, as everyone who decides on it is shown it: the object, the move from one
state to another, each indicator's target beside the value claimed for it, any other field the
request would change, the reason, who has decided and who is still awaited, and the day the
request escalates if nobody decides.

Read only: it reads what the request stores and what its object holds now. The pages, the API
and the emails all show this one reading, so that nobody decides on less than the others see.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from service.approvals.models import TransitionRequest
from service.kernel import subjects
from service.kernel.common import settings
from service.kernel.workflow_registry import workflow_for
from service.notifications.workdays import add_working_days

# The data a request may carry beside the achieved values, in the order shown.
KNOWN_FIELDS = ("risk", "narrative")


@dataclass(frozen=True)
class IndicatorClaim:
    id: int
    name: str
    unit: str
    baseline: str
    target: str
    current: str  # what the object holds now
    claimed: str | None  # what the request asks to record; None when it asks for no value


@dataclass(frozen=True)
class FieldClaim:
    field: str
    before: str
    after: str


@dataclass(frozen=True)
class DecisionLine:
    stage_name: str
    stage: str  # the stage's label
    person: str
    person_id: int
    on_behalf_of: str
    on_behalf_of_id: int | None
    verdict: str
    as_requester: bool
    comment: str
    at: datetime


@dataclass(frozen=True)
class Awaited:
    stage_name: str
    stage: str  # the stage's label
    role: str
    unit_id: int | None
    unit: str  # the unit's code, or ""
    people: list[tuple[int, str]]  # (id, name) of those who may decide it
    current: bool  # the active stage's (False: a later stage)


@dataclass(frozen=True)
class Claim:
    request_id: int
    status: str
    subject_type: str
    subject_id: int
    number: int | str
    title: str
    path: str
    transition: str
    transition_label: str
    from_state: str
    to_state: str
    from_label: str
    to_label: str
    reason: str
    requested_by: str
    requested_at: datetime
    indicators: list[IndicatorClaim] = field(default_factory=list)
    fields: list[FieldClaim] = field(default_factory=list)
    decided: list[DecisionLine] = field(default_factory=list)
    awaited: list[Awaited] = field(default_factory=list)
    decide_by: date | None = None  # the day the worker escalates the active stage


def escalation_day(activated_at: datetime | None) -> date | None:
    """The day the worker escalates a stage activated at `activated_at`: the
    APPROVAL_ESCALATION_WORKING_DAYS-th working day after the local day it became active
    (reminders.py counts the same working days)."""
    if activated_at is None:
        return None
    s = settings()
    local = activated_at.astimezone(ZoneInfo(s.TIMEZONE)).date()
    return add_working_days(local, s.APPROVAL_ESCALATION_WORKING_DAYS)


def _indicators_of(subject_type: str, subject) -> list:
    if subject_type == "goal":
        return list(subject.indicators)
    if subject_type == "progress_report":
        return list(subject.goal.indicators)
    return []


def _text(value) -> str:
    if value is None:
        return ""
    return str(value).strip()


def _indicator_claims(req: TransitionRequest, subject, requires_values: bool) -> list[IndicatorClaim]:
    data = req.data or {}
    achieved = data.get("achieved")
    if not isinstance(achieved, dict):
        achieved = None
    if achieved is None and not requires_values:
        return []
    current_values = {}
    if req.subject_type == "progress_report":
        current_values = {v.indicator_id: v.achieved_text for v in subject.values}
    result = []
    for ind in _indicators_of(req.subject_type, subject):
        claimed = None
        if achieved is not None:
            raw = achieved.get(str(ind.id), achieved.get(ind.id))
            claimed = None if raw is None else _text(raw)
        current = current_values.get(ind.id, "") if req.subject_type == "progress_report" else ind.achieved_text
        result.append(IndicatorClaim(
            id=ind.id, name=ind.name, unit=ind.unit or "", baseline=ind.baseline_text or "",
            target=ind.target_text or "", current=current or "", claimed=claimed,
        ))
    return result


def _field_claims(req: TransitionRequest, subject) -> list[FieldClaim]:
    data = req.data or {}
    names = [n for n in KNOWN_FIELDS if n in data] + sorted(n for n in data if n not in KNOWN_FIELDS and n != "achieved")
    return [FieldClaim(n, _text(getattr(subject, n, "")), _text(data[n])) for n in names]


def _stage_labels(req: TransitionRequest, lang: str) -> dict[str, str]:
    t = workflow_for(req.subject_type).transition(req.transition)
    return {s.name: s.label.get(lang, s.name) for s in t.stages}


def _decided(req: TransitionRequest, labels: dict[str, str]) -> list[DecisionLine]:
    stage_names = {stage.id: stage.name for stage in req.stages}
    lines = []
    for d in req.decisions:
        name = stage_names.get(d.stage_id, "")
        lines.append(DecisionLine(
            stage_name=name, stage=labels.get(name, name), person=d.decided_by.name, person_id=d.decided_by_id,
            on_behalf_of=d.on_behalf_of.name if d.on_behalf_of else "", on_behalf_of_id=d.on_behalf_of_id,
            verdict=d.verdict, as_requester=d.as_requester, comment=d.comment or "", at=d.created_at,
        ))
    return lines


def _awaited(req: TransitionRequest, labels: dict[str, str]) -> list[Awaited]:
    from service.approvals.chain import slot_holders

    if req.status != "open":
        return []
    result = []
    for stage in req.stages[req.current_stage:]:
        current = stage.position == req.current_stage
        for slot in stage.slots:
            if slot.status != "pending":
                continue
            people = slot_holders(slot, req.administration_id) if current else []
            if current and not stage.allow_requester:
                people = [p for p in people if p.id != req.requested_by_id]
            result.append(Awaited(
                stage_name=stage.name, stage=labels.get(stage.name, stage.name), role=slot.role, unit_id=slot.unit_id,
                unit=slot.unit.code if slot.unit else "", people=[(p.id, p.name) for p in people], current=current,
            ))
    return result


def preload(requests) -> None:
    """What the claims of many requests read, in one query per kind rather than one per request:
    their objects, and the indicators of their goals (a list of requests calls this first)."""
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from service.extensions import db
    from service.goals.models import Goal

    wanted: dict[str, set[int]] = {}
    for req in requests:
        wanted.setdefault(req.subject_type, set()).add(req.subject_id)
    for subject_type, ids in wanted.items():
        model = subjects.kind(subject_type).model
        missing = {i for i in ids if db.session.identity_key(model, i) not in db.session.identity_map}
        subjects.load_many(subject_type, missing)
    if wanted.get("goal"):
        db.session.scalars(select(Goal).where(Goal.id.in_(wanted["goal"])).options(selectinload(Goal.indicators))).all()


def claim_of(req: TransitionRequest, subject=None, lang: str = "bg") -> Claim:
    """The request's claim, with the definition's words in `lang` (bg or en)."""
    if subject is None:
        from service.extensions import db

        model = subjects.kind(req.subject_type).model
        subject = db.session.get(model, req.subject_id) or subjects.load(req.subject_type, req.subject_id)
    wf = workflow_for(req.subject_type)
    t = wf.transition(req.transition)
    k = subjects.kind(req.subject_type)
    described = k.describe(subject)
    labels = _stage_labels(req, lang)
    stage = req.active_stage
    return Claim(
        request_id=req.id, status=req.status, subject_type=req.subject_type, subject_id=req.subject_id,
        number=described["number"], title=described["title"], path=k.path(subject),
        transition=t.name, transition_label=t.label.get(lang, t.name),
        from_state=req.from_state, to_state=req.to_state,
        from_label=wf.state_label(req.from_state, lang), to_label=wf.state_label(req.to_state, lang),
        reason=req.reason or "", requested_by=req.requested_by.name, requested_at=req.created_at,
        indicators=_indicator_claims(req, subject, "achieved_values" in t.requires or "progress_values" in t.requires),
        fields=_field_claims(req, subject),
        decided=_decided(req, labels),
        awaited=_awaited(req, labels),
        decide_by=escalation_day(stage.activated_at) if stage is not None else None,
    )


def as_json(claim: Claim) -> dict:
    """The claim as the API shows it: codes and data; the words are the client's to choose."""
    return {
        "subject": {"type": claim.subject_type, "id": claim.subject_id, "number": claim.number, "title": claim.title},
        "transition": claim.transition,
        "from_state": claim.from_state,
        "to_state": claim.to_state,
        "indicators": [
            {"id": i.id, "name": i.name, "unit": i.unit, "baseline": i.baseline, "target": i.target,
             "current": i.current, "claimed": i.claimed}
            for i in claim.indicators
        ],
        "changes": [{"field": f.field, "from": f.before, "to": f.after} for f in claim.fields],
        "reason": claim.reason,
        "decided": [
            {"stage": d.stage_name, "verdict": d.verdict, "by": {"id": d.person_id, "name": d.person},
             "on_behalf_of": {"id": d.on_behalf_of_id, "name": d.on_behalf_of} if d.on_behalf_of_id else None,
             "as_requester": d.as_requester, "at": d.at.isoformat()}
            for d in claim.decided
        ],
        "awaiting": [
            {"stage": a.stage_name, "role": a.role, "unit_id": a.unit_id, "current": a.current,
             "people": [{"id": pid, "name": name} for pid, name in a.people]}
            for a in claim.awaited
        ],
        "decide_by": claim.decide_by.isoformat() if claim.decide_by else None,
    }


def for_message(request_id: int, lang: str) -> tuple[dict, str]:
    """What a message asking for a decision adds to its words (the claim, in `lang`), and the
    path it leads to: the decision page of the request, not merely its object."""
    from service.extensions import db
    from service.notifications.messages import claim_context

    req = db.session.get(TransitionRequest, request_id)
    if req is None:
        return {}, ""
    k = subjects.kind(req.subject_type)
    # From the session where the change in hand holds it: a fresh read would drop what it changed.
    subject = db.session.get(k.model, req.subject_id)
    if subject is None:
        return {}, ""
    claim = claim_of(req, subject, lang)
    return {"claim": claim_context(claim, lang), "subject_type": req.subject_type}, decision_path(req.id)


def decision_path(request_id: int) -> str:
    return f"/approvals/{request_id}"
