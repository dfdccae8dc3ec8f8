"""The audit trail: every change and decision appends an event chained by hash."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, insert, select, union_all, update
from sqlalchemy import event as sa_event
from sqlalchemy.orm import attributes
from sqlalchemy.orm.exc import StaleDataError

from service import observability
from service.audit.models import ChainHead, Event
from service.db import utcnow
from service.extensions import db
from service.kernel.uow import mark_written, remember, remembered

GENESIS = "0" * 64


def _canonical(payload: dict[str, Any]) -> str:
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def _digest(event: Event) -> str:
    payload = {
        "chain": event.chain_id,
        "seq": event.seq,
        "prev": event.prev_hash,
        "at": event.at.isoformat(timespec="microseconds"),
        "actor": event.actor_id,
        "for": event.on_behalf_of_id,
        "action": event.action,
        "subject": [event.subject_type, event.subject_id],
        "request": event.request_id,
        "before": event.before,
        "after": event.after,
        "reason": event.reason,
    }
    return hashlib.sha256(_canonical(payload).encode("utf-8")).hexdigest()


def jsonable(values: dict[str, Any] | None) -> dict[str, Any] | None:
    """Before/after values as JSON keeps them (decimals and dates as text)."""
    return None if values is None else json.loads(_canonical(values))


def ensure_chain(chain_id: int) -> None:
    if db.session.get(ChainHead, chain_id) is None:
        db.session.add(ChainHead(chain_id=chain_id, seq=0, hash=GENESIS))
        db.session.flush()


def record(
    *,
    chain_id: int,
    action: str,
    subject_type: str,
    subject_id: int,
    actor_id: int | None,
    on_behalf_of_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str = "",
    request_id: int | None = None,
    at: datetime | None = None,
) -> Event:
    """Append one event in the caller's transaction."""
    head = _locked_head(chain_id)
    event = Event(
        chain_id=chain_id,
        seq=head.seq + 1,
        prev_hash=head.hash,
        at=at or utcnow(),
        actor_id=actor_id,
        on_behalf_of_id=on_behalf_of_id,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        request_id=request_id,
        before=jsonable(before),
        after=jsonable(after),
        reason=reason or "",
    )
    event.hash = _digest(event)
    head.seq, head.hash = event.seq, event.hash
    db.session.add(event)
    return event


@cache
def _locked_head_query():
    return (
        select(ChainHead).where(ChainHead.chain_id == bindparam("head_chain")).with_for_update()
        .execution_options(populate_existing=True)
    )


def _locked_head(chain_id: int) -> ChainHead:
    """The chain's head, read and locked once per transaction; the transaction's events advance it
    in memory and the flush writes it back once (a decision appends two events)."""
    def read() -> ChainHead:
        head = db.session.execute(_locked_head_query(), {"head_chain": chain_id}).scalar_one_or_none()
        if head is None:
            ensure_chain(chain_id)
            head = db.session.get(ChainHead, chain_id)
        return head

    return remembered(_LOCKED_HEADS, chain_id, read)


_LOCKED_HEADS = "audit.locked_heads"


def lock_chain(chain_id: int) -> None:
    """Lock the chain now, before the caller writes anything (then its writes go in one flush)."""
    _locked_head(chain_id)


def hold_locked(head: ChainHead) -> None:
    """A head the caller's own read locked (a decision reads it with its request and goal): the
    transaction's events use it without reading it again."""
    remember(_LOCKED_HEADS, head.chain_id, head)


# -- the flush: the head's advance and its events in one statement ---------------------------------


@sa_event.listens_for(db.session, "before_flush")
def _write_events_with_their_head(session, flush_context, instances) -> None:
    """On PostgreSQL, the events a flush would insert and the advance of their chain's head go in
    one statement (a CTE updating the head, checked at the seq it was read at, and inserting the
    events only if it did); the unit of work is left the head's UPDATE and the events' INSERT to
    skip. Elsewhere (SQLite) the unit of work writes them as usual."""
    if session.get_bind().dialect.name != "postgresql":
        return
    by_chain: dict[int, list[Event]] = {}
    for obj in session.new:
        if isinstance(obj, Event):
            by_chain.setdefault(obj.chain_id, []).append(obj)
    for chain_id, events in by_chain.items():
        head = session.identity_map.get(session.identity_key(ChainHead, chain_id))
        if head is None or head not in session.dirty:
            continue  # a chain begun in this transaction: the unit of work writes it
        read_at = attributes.instance_state(head).committed_state.get("seq")
        if read_at is None or read_at is attributes.NO_VALUE:
            continue
        events.sort(key=lambda e: e.seq)
        params = {"head_chain": chain_id, "read_at": read_at, "head_seq": head.seq, "head_hash": head.hash}
        for n, e in enumerate(events):
            params.update({f"e{n}_{c.key}": getattr(e, c.key) for c in _EVENT_COLUMNS})
            params[f"e{n}_reason"] = e.reason or ""
        written = session.connection().execute(_events_with_head(len(events)), params).all()
        if len(written) != len(events):
            raise StaleDataError(f"the audit chain {chain_id} moved on since it was read at {read_at}")
        observability.note_events(session, events)  # they leave the session before its flush sees them
        for e in events:
            session.expunge(e)
        mark_written(head)


_EVENT_COLUMNS = [c for c in Event.__table__.c if c.key != "id"]


@cache
def _events_with_head(n_events: int):
    """The CTE writing `n_events` events with their head's advance, built once per count with bound
    parameters (building it with its values each time cost more than executing it)."""
    heads, table = ChainHead.__table__, Event.__table__
    advanced = (
        update(heads).where(heads.c.chain_id == bindparam("head_chain"), heads.c.seq == bindparam("read_at"))
        .values(seq=bindparam("head_seq", type_=heads.c.seq.type), hash=bindparam("head_hash", type_=heads.c.hash.type))
        .returning(heads.c.chain_id).cte("head")
    )
    rows = [
        select(*(bindparam(f"e{n}_{c.key}", type_=c.type) for c in _EVENT_COLUMNS)).select_from(advanced)
        for n in range(n_events)
    ]
    return (
        insert(table).from_select([c.key for c in _EVENT_COLUMNS], rows[0] if n_events == 1 else union_all(*rows))
        .add_cte(advanced).returning(table.c.id)
    )


@dataclass
class ChainReport:
    ok: bool
    events_checked: int
    chain_id: int | None = None
    seq: int | None = None
    event_id: int | None = None
    problem: str = ""


def verify(chain_id: int | None = None) -> ChainReport:
    """Walk every chain (or one) and name the first broken link."""
    heads = db.session.scalars(
        select(ChainHead).where(ChainHead.chain_id == chain_id) if chain_id is not None else select(ChainHead)
    ).all()
    checked = 0
    for head in heads:
        prev, expected_seq = GENESIS, 1
        rows = db.session.execute(
            select(Event).where(Event.chain_id == head.chain_id).order_by(Event.seq).execution_options(yield_per=1000)
        ).scalars()
        for event in rows:
            checked += 1
            problem = ""
            if event.seq != expected_seq:
                problem = f"event {expected_seq} is missing (found {event.seq})"
            elif event.prev_hash != prev:
                problem = "its link to the previous event does not match"
            elif _digest(event) != event.hash:
                problem = "its content does not match its hash"
            if problem:
                return ChainReport(False, checked, head.chain_id, expected_seq, event.id, problem)
            prev, expected_seq = event.hash, expected_seq + 1
        if head.seq != expected_seq - 1 or head.hash != prev:
            return ChainReport(
                False, checked, head.chain_id, expected_seq, None, "the chain ends before its recorded last event"
            )
    return ChainReport(True, checked)


def history(subject_type: str, subject_id: int) -> Select:
    """The events of one object, oldest first (the caller has checked that it may be seen)."""
    return (
        select(Event)
        .where(Event.subject_type == subject_type, Event.subject_id == subject_id)
        .order_by(Event.chain_id, Event.seq)
    )
