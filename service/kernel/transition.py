"""The one path every transition takes, for every declared workflow (docs/architecture.md).

`apply` is the only code that decides whether a transition may happen and the only code that
makes it happen: it locks the object, checks the source state, who asks and for whom, the
version the asker saw, the reason, the guards (a campaign still open, the plan in force, ...)
and the data, then fires the definition and records the `state_changed` event. A staged
transition first opens an approval chain (service/approvals/chain.py); the decision that
completes the chain comes back through `apply(request=...)`, which checks the claim again on
the object as it is now.

The two rules about people live here as well:
- who may ask (`standing`): whoever holds a requester's role, in their own name, or a
  substitute for the absent person who holds it;
- who may decide (`claims`): the holders of the active stage's slots, in their own name or
  for the absent person they stand in for, but never the person who asked, whatever role or
  substitution they would act through.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import inspect as sa_inspect

from service.approvals import chain
from service.approvals.models import StageSlot, TransitionRequest
from service.audit import service as audit
from service.db import utcnow
from service.extensions import db
from service.kernel import authz, subjects
from service.kernel.common import local_today
from service.kernel.errors import GoalflowError, not_found
from service.kernel.text import refuse_control
from service.kernel.uow import transaction
from service.kernel.workflow_registry import GUARD_ERRORS, workflow_for
from service.notifications import service as outbox
from service.org.models import Role, User
from workflows import Context, TransitionDef


@dataclass(frozen=True)
class Standing:
    """In whose name someone asks: their own (None) or the absent person's they stand in for."""

    on_behalf_of: User | None = None


@dataclass(frozen=True)
class SlotClaim:
    """A slot this person may decide now, directly or for the absent `on_behalf_of`."""

    slot: StageSlot
    on_behalf_of: User | None


@dataclass(frozen=True)
class Outcome:
    subject: object
    request: TransitionRequest | None
    on_behalf_of: User | None
    applied: bool


# -- who may ask, who may decide ------------------------------------------------------------


def standing(actor: User, t: TransitionDef, subject_type: str, subject, today: date) -> Standing | None:
    """May `actor` ask for `t` on this object, and in whose name? None: not at all."""
    k = subjects.kind(subject_type)
    units, admin_id = k.unit_ids(subject), k.administration_id(subject)
    if authz.can_request(actor, t, units, admin_id):
        return Standing(None)
    for absent in authz.absent_principals(actor, today):
        if authz.can_request(absent, t, units, admin_id):
            return Standing(absent)
    return None


def claims(actor: User, request: TransitionRequest, *, now: datetime | None = None) -> list[SlotClaim]:
    """The pending slots of the active stage that `actor` may decide, and for whom.

    Separation of duties: whoever asked decides nothing of it, neither in their own name, nor
    as a substitute, nor through a second role. Where the
    definition lets the requester's approval count, it was counted, in their own name only,
    when the stage became active (chain.advance)."""
    stage = request.active_stage
    excluded = chain.excluded_ids(request)
    if stage is None or actor.id in excluded:
        return []
    principals = [(actor, None)] + [
        (p, p) for p in authz.absent_principals(actor, local_today(now)) if p.id not in excluded
    ]
    found = []
    for slot in stage.slots:
        if slot.status != "pending":
            continue
        for person, on_behalf in principals:
            if authz.holds_slot(person, slot.role, slot.unit_id, request.administration_id):
                found.append(SlotClaim(slot, on_behalf))
                break
    return found


def why_not_decider(actor: User, request: TransitionRequest, *, now: datetime | None = None) -> GoalflowError:
    """The error for someone `claims` gives nothing to."""
    stage = request.active_stage
    people = [actor, *authz.absent_principals(actor, local_today(now))]

    def held(slots) -> bool:
        return any(authz.holds_slot(p, s.role, s.unit_id, request.administration_id) for p in people for s in slots)

    if actor.id in chain.excluded_ids(request):
        if any(s.status == "pending" for s in stage.slots if held([s])):
            return GoalflowError("separation_of_duties")
        if any(d.decided_by_id == actor.id and d.stage_id == stage.id for d in request.decisions):
            return GoalflowError("already_decided")
        return GoalflowError("not_an_approver")
    if any(d.decided_by_id == actor.id and d.stage_id == stage.id for d in request.decisions):
        return GoalflowError("already_decided")
    # Their slot was filled, or their stage completed, by someone faster: a conflict, not a lack of rights.
    done = [s for st in request.stages if st.position < stage.position for s in st.slots]
    if held([s for s in stage.slots if s.status != "pending"]) or held(done):
        return GoalflowError("decision_overtaken")
    return GoalflowError("not_an_approver")


# -- questions --------------------------------------------------------------------------------


def visible(
    actor: User, subject_type: str, subject_id: int, *, lock: bool = False, now: datetime | None = None,
    loaded: bool = False,
):
    """The object if `actor` may see it; otherwise 404, as if it did not exist. `loaded`: the
    transaction has read (and locked) it already; it is not read again."""
    k = subjects.kind(subject_type)
    subject = db.session.get(k.model, subject_id) if loaded else None
    if subject is None:
        subject = subjects.load(subject_type, subject_id, lock=lock)
    if subject is None:
        raise not_found()
    if not authz.viewer(actor, local_today(now)).sees(k.administration_id(subject), k.visible_units(subject)):
        raise not_found()
    return subject


def offers(actor: User, subject_type: str, subject, *, now: datetime | None = None) -> list[TransitionDef]:
    """What this person may ask for on this object now: declared, theirs to ask, guards passing,
    and no request already open on it."""
    k = subjects.kind(subject_type)
    if k.requests and chain.open_request(subject_type, subject.id) is not None:
        return []
    wf = workflow_for(subject_type)
    today = local_today(now)
    return [
        t for t in wf.available(subject.state)
        if standing(actor, t, subject_type, subject, today) is not None
        and wf.refusal(t, Context(subject=subject, actor=actor)) is None
    ]


# -- the one path -----------------------------------------------------------------------------


def apply(
    *,
    actor: User,
    subject_type: str,
    subject_id: int,
    transition: str,
    data: dict | None = None,
    reason: str = "",
    expected_version: int | None = None,
    fresh_login: bool = True,
    now: datetime | None = None,
    request: TransitionRequest | None = None,
) -> Outcome:
    """Ask for `transition` on the object (applied at once, or opening its approval chain), or,
    with `request`, apply the request whose chain a decision just completed.

    One transaction: it joins the caller's if there is one, commits otherwise."""
    now = now or utcnow()
    today = local_today(now)
    with transaction():
        # A decision completing a chain locked the request and its object already.
        subject = visible(actor, subject_type, subject_id, lock=True, now=now, loaded=request is not None)
        k = subjects.kind(subject_type)
        wf = workflow_for(subject_type)
        if k.serialize is not None:
            k.serialize(subject)
        t = wf.transition(transition)
        if request is None:
            reason, data = (reason or "").strip(), data or {}
            refuse_control({"reason": reason, **data})  # stored, emailed and exported as it is
            if subject.state not in t.sources:
                raise GoalflowError("transition_not_declared", transition=t.name, state=subject.state)
            who = standing(actor, t, subject_type, subject, today)
            if who is None:
                if k.wrong_unit is not None and any(actor.has_role(Role(p.role)) for p in t.requesters):
                    raise k.wrong_unit(subject)
                raise GoalflowError("not_a_requester", transition=t.name)
            if expected_version is not None and expected_version != subject.version:
                raise GoalflowError("stale_version", expected=expected_version, actual=subject.version)
            if t.reason_required and not reason:
                raise GoalflowError("reason_required", fields={"reason": "required"})
        else:
            # The claim as it was asked, on the object as it was when asked: anything else moved on.
            reason, data, who = request.reason, request.data, Standing(None)
            if subject.state != request.from_state or (
                request.subject_version is not None and subject.version != request.subject_version
            ):
                raise GoalflowError("conflict")
        # `opening`: only asked for, not applied yet; a guard on the application itself (a signature
        # the decider brings) lets the request open and refuses when it is applied (wf.fire below).
        ctx = Context(subject=subject, data=data, actor=actor,
                      extra={"reason": reason, "now": now, "opening": request is None})
        refused = wf.refusing_guard(t, ctx)
        if refused:
            name, why = refused
            raise GoalflowError(GUARD_ERRORS.get(name, "transition_not_allowed_now"), why=why)
        problems = wf.data_problems(t, ctx)
        if problems:
            raise GoalflowError("transition_data_invalid", fields=problems)

        if request is None and k.requests:
            existing = chain.open_request(subject_type, subject.id)
            if existing is not None:
                raise GoalflowError("open_request_exists", request_id=existing.id)
            request = chain.build(
                subject_type=subject_type, subject=subject, t=t, actor=actor, on_behalf_of=who.on_behalf_of,
                reason=reason, data=data, now=now,
            )
            db.session.add(request)
            db.session.flush()
            audit.record(
                chain_id=request.administration_id,
                action="transition_requested",
                subject_type=subject_type,
                subject_id=subject.id,
                actor_id=actor.id,
                on_behalf_of_id=who.on_behalf_of.id if who.on_behalf_of else None,
                before=subjects.snapshot(subject),
                after={"request": request.id, "transition": t.name, "to": t.dest, "data": data},
                reason=reason,
                request_id=request.id,
                at=now,
            )
        if request is not None and not chain.advance(request, subject, now=now):
            return Outcome(subject, request, who.on_behalf_of, applied=False)

        # The change itself. A signature needs the signer's password again, whoever signs last.
        if t.fresh_login and not fresh_login:
            raise GoalflowError("fresh_login_required")
        before = subjects.snapshot(subject)
        ctx.extra["opening"] = False
        wf.fire(t.name, ctx)  # checks every guard again, as the change is made
        _next_version(subject)  # the version the flush writes, which the event records
        if request is not None:
            chain.close(request, "approved", actor, "", now)
        audit.record(
            chain_id=k.administration_id(subject),
            action="state_changed",
            subject_type=subject_type,
            subject_id=subject.id,
            actor_id=actor.id,
            on_behalf_of_id=who.on_behalf_of.id if who.on_behalf_of else None,
            before=before,
            after={**subjects.snapshot(subject), "transition": t.name, "data": data},
            reason=reason,
            request_id=request.id if request is not None else None,
            at=now,
        )
        if request is not None:
            outbox.enqueue_many(chain.applied_messages(request, subject, before["state"], actor))
        if t.then:  # a submission asks for its signature, in the same name
            asker = request.requested_by if request is not None else actor
            apply(actor=asker, subject_type=subject_type, subject_id=subject.id, transition=t.then, now=now)
    return Outcome(subject, request, who.on_behalf_of, applied=True)


def _next_version(subject) -> None:
    """Set the object's next version with its change, so that the one flush at the end writes
    both (the mapper's version check still compares the version it was read at). An object whose
    version the mapper does not count is flushed now instead, as it was."""
    state = sa_inspect(subject)
    mapper = state.mapper
    column = mapper.version_id_col
    if column is None or state.pending or mapper.version_id_generator is False:
        db.session.flush()
        return
    prop = mapper.get_property_by_column(column)
    committed = state.committed_state.get(prop.key, getattr(subject, prop.key))
    setattr(subject, prop.key, mapper.version_id_generator(committed))


def reject(request: TransitionRequest, *, actor: User, reason: str, now: datetime) -> None:
    """A rejected request whose definition says so returns the object (`rejected`), in the
    rejecter's name and with the rejection's reason; otherwise the object stays where it was."""
    t = workflow_for(request.subject_type).transition(request.transition)
    if t.rejected:
        apply(
            actor=actor, subject_type=request.subject_type, subject_id=request.subject_id, transition=t.rejected,
            reason=reason, now=now,
        )
