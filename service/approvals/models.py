"""Transition requests and their approval chains."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    inspect,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.db import UTCDateTime, python_value, utcnow
from service.extensions import db
from service.org.models import Unit, User

OPEN = "open"


class TransitionRequest(db.Model):
    """Someone asked for a transition; it walks the declared stages until applied or closed."""

    __tablename__ = "transition_requests"
    __table_args__ = (
        # At most one open request per object, enforced by the database itself.
        Index(
            "uq_transition_requests_one_open",
            "subject_type",
            "subject_id",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
        Index("ix_transition_requests_status_admin", "status", "administration_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    administration_id: Mapped[int] = mapped_column(ForeignKey("administrations.id"))
    workflow: Mapped[str] = mapped_column(String(40))
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[int] = mapped_column(Integer)
    transition: Mapped[str] = mapped_column(String(60))
    from_state: Mapped[str] = mapped_column(String(40))
    to_state: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), default=OPEN)  # open, approved, rejected, withdrawn
    current_stage: Mapped[int] = mapped_column(Integer, default=0)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # Asked as this absent person's substitute; they, like the requester, never decide it.
    on_behalf_of_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The object's version the claim was made on: the claim is what the approvers decide.
    subject_version: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    close_reason: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Set by every decision, so that each one is a new version of the request (what a decider
    # was shown is that version).
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])
    on_behalf_of: Mapped[User | None] = relationship(foreign_keys=[on_behalf_of_id])
    closed_by: Mapped[User | None] = relationship(foreign_keys=[closed_by_id])
    stages: Mapped[list[RequestStage]] = relationship(
        back_populates="request", cascade="all, delete-orphan", order_by="RequestStage.position", lazy="selectin"
    )
    decisions: Mapped[list[Decision]] = relationship(
        back_populates="request", cascade="all, delete-orphan", order_by="Decision.id", lazy="selectin"
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def active_stage(self) -> RequestStage | None:
        if self.status != OPEN or self.current_stage >= len(self.stages):
            return None
        return self.stages[self.current_stage]


class RequestStage(db.Model):
    __tablename__ = "request_stages"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("transition_requests.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(60))
    rule: Mapped[str] = mapped_column(String(10))  # all_of, any_of, quorum
    quorum: Mapped[int | None] = mapped_column(Integer)
    allow_requester: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(20), default="waiting")  # waiting, active, approved, rejected
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    request: Mapped[TransitionRequest] = relationship(back_populates="stages")
    slots: Mapped[list[StageSlot]] = relationship(
        back_populates="stage", cascade="all, delete-orphan", order_by="StageSlot.id", lazy="selectin"
    )

    @property
    def approvals_needed(self) -> int:
        if self.rule == "any_of":
            return 1
        if self.rule == "quorum":
            return min(self.quorum or 1, len(self.slots))
        return len(self.slots)


class StageSlot(db.Model):
    """One approval a stage needs: a role, scoped to a unit where the definition says so."""

    __tablename__ = "stage_slots"

    id: Mapped[int] = mapped_column(primary_key=True)
    stage_id: Mapped[int] = mapped_column(ForeignKey("request_stages.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending, approved, rejected

    stage: Mapped[RequestStage] = relationship(back_populates="slots")
    unit: Mapped[Unit | None] = relationship()


class Decision(db.Model):
    __tablename__ = "decisions"
    # One decision fills a slot: a second one racing for it fails in the database.
    __table_args__ = (UniqueConstraint("slot_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("transition_requests.id", ondelete="CASCADE"), index=True)
    stage_id: Mapped[int] = mapped_column(ForeignKey("request_stages.id", ondelete="CASCADE"))
    slot_id: Mapped[int] = mapped_column(ForeignKey("stage_slots.id", ondelete="CASCADE"))
    verdict: Mapped[str] = mapped_column(String(10))  # approve, reject
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    on_behalf_of_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    as_requester: Mapped[bool] = mapped_column(Boolean, default=False)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    request: Mapped[TransitionRequest] = relationship(back_populates="decisions")
    slot: Mapped[StageSlot] = relationship()
    decided_by: Mapped[User] = relationship(foreign_keys=[decided_by_id])
    on_behalf_of: Mapped[User | None] = relationship(foreign_keys=[on_behalf_of_id])


# What a request claims is fixed once asked: a different claim is a new request.
CLAIM = (
    "administration_id", "workflow", "subject_type", "subject_id", "subject_version", "transition", "from_state",
    "to_state", "reason", "data", "requested_by_id", "on_behalf_of_id", "created_at",
)


class ClaimChanged(Exception):
    """Code tried to change what a request claims."""


@event.listens_for(TransitionRequest, "before_update")
def _claim_is_immutable(mapper, connection, target: TransitionRequest) -> None:
    state = inspect(target)
    changed = [name for name in CLAIM if state.attrs[name].history.has_changes()]
    if changed:
        raise ClaimChanged(f"a request's claim is immutable once asked ({', '.join(changed)}); ask a new request")


# -- the flush: a decided request's rows in one statement ------------------------------------------


@event.listens_for(db.session, "before_flush")
def _write_decided_request_together(session, flush_context, instances) -> None:
    """On PostgreSQL, what a flush would write of a request already in the database (its UPDATE,
    checked at the version it was read at, its stages' and slots' UPDATEs, its new decisions'
    INSERT, and the UPDATE of its object when the request's transition was just applied, checked at
    the object's version) goes in one statement: a CTE updating the request, the rows beside it,
    and the decisions inserted only if every checked update was. The objects are then marked as
    written, so that the unit of work has nothing of them left to do (and, when nothing else
    changed, is not run at all). Elsewhere (SQLite) the unit of work writes them as usual."""
    if session.get_bind().dialect.name != "postgresql":
        return
    requests = [obj for obj in session.dirty if isinstance(obj, TransitionRequest)]
    for request in requests:
        _write_together(session, request)


def _changes(obj) -> dict:
    """The column attributes the flush would write, and their new values: those set since the
    object was read (the state keeps their old values) to something else."""
    state = inspect(obj)
    columns = state.mapper.columns
    return {
        key: state.dict[key] for key, old in state.committed_state.items()
        if key in columns and key in state.dict and state.dict[key] != old
    }


def _value(obj, column):
    """The value an INSERT writes for this column, the column's Python default where unset."""
    value = getattr(obj, column.key)
    if value is None and column.default is not None:
        value = python_value(column.default)
        setattr(obj, column.key, value)
    return value


def _subject_change(session, request: TransitionRequest):
    """The request's object, when this flush writes it with a new version and nothing but its own
    columns (the transition the request's last approval applied): (object, its changes, the version
    it was read at). None otherwise: the unit of work writes it."""
    from sqlalchemy.orm import attributes

    from service.kernel.subjects import KINDS

    kind = KINDS.get(request.subject_type)
    subject = kind and session.identity_map.get(session.identity_key(kind.model, request.subject_id))
    if subject is None or subject not in session.dirty:
        return None
    state = inspect(subject)
    mapper = state.mapper
    if not state.persistent or mapper.version_id_col is None or mapper.version_id_col.key != "version":
        return None
    if any(state.attrs[r.key].history.has_changes() for r in mapper.relationships):
        return None
    changed = _changes(subject)
    read_at = state.committed_state.get("version")
    if "version" not in changed or read_at is None or read_at is attributes.NO_VALUE:
        return None
    for column in mapper.local_table.c:  # what the unit of work would add: `updated_at`
        if column.onupdate is not None and column.key not in changed:
            value = python_value(column.onupdate)
            setattr(subject, column.key, value)
            changed[column.key] = value
    return subject, changed, read_at


# The statement of each shape of write (which columns of which rows, how many decisions), built
# once with bound parameters: a decision's is the same every time.
_STATEMENTS: dict = {}


def _statement(request_keys: tuple, row_keys: tuple, n_decisions: int, subject: tuple | None):
    from sqlalchemy import and_, bindparam, exists, insert, select, union_all, update

    requests_t, decisions_t = TransitionRequest.__table__, Decision.__table__
    written = (
        update(requests_t)
        .where(requests_t.c.id == bindparam("r_id"), requests_t.c.version == bindparam("r_read_at"))
        .values({**{requests_t.c[k]: bindparam(f"r_{k}", type_=requests_t.c[k].type) for k in request_keys},
                 requests_t.c.version: bindparam("r_version", type_=requests_t.c.version.type)})
        .returning(requests_t.c.id).cte("written")
    )
    ctes = []
    for n, (model, keys) in enumerate(row_keys):
        table = model.__table__
        ctes.append(
            update(table).where(table.c.id == bindparam(f"o{n}_id"), exists(select(written.c.id)))
            .values({table.c[k]: bindparam(f"o{n}_{k}", type_=table.c[k].type) for k in keys}).cte(f"row_{n}")
        )
    checked = exists(select(written.c.id))
    if subject is not None:
        model, keys = subject
        table = model.__table__
        subject_cte = (
            update(table)
            .where(table.c.id == bindparam("s_id"), table.c.version == bindparam("s_read_at"), exists(select(written.c.id)))
            .values({table.c[k]: bindparam(f"s_{k}", type_=table.c[k].type) for k in keys})
            .returning(table.c.id).cte("subject")
        )
        ctes.append(subject_cte)
        checked = and_(checked, exists(select(subject_cte.c.id)))
    if not n_decisions:
        return select(written.c.id).where(checked).add_cte(written, *ctes)
    columns = [c for c in decisions_t.c if c.key != "id"]
    rows = [
        select(*(bindparam(f"d{n}_{c.key}", type_=c.type) for c in columns)).select_from(written).where(checked)
        for n in range(n_decisions)
    ]
    return (
        insert(decisions_t).from_select([c.key for c in columns], rows[0] if len(rows) == 1 else union_all(*rows))
        .returning(decisions_t.c.id, decisions_t.c.slot_id).add_cte(written, *ctes)
    )


def _write_together(session, request: TransitionRequest) -> None:
    from sqlalchemy.orm import attributes, make_transient_to_detached
    from sqlalchemy.orm.exc import StaleDataError

    from service.kernel.uow import mark_written

    state = inspect(request)
    if not state.persistent:
        return
    changed = _changes(request)
    read_at = state.committed_state.get("version", request.version)
    if not changed or "version" in changed or read_at is None or read_at is attributes.NO_VALUE:
        return
    stages = [s for s in request.stages if inspect(s).persistent]
    slots = [slot for s in stages for slot in s.slots if inspect(slot).persistent]
    if len(stages) != len(request.stages) or any(inspect(slot).pending for s in stages for slot in s.slots):
        return  # a chain being built: the unit of work writes it
    decisions = [d for d in request.decisions if inspect(d).pending]
    if any(d.slot is None or d.slot.id is None for d in decisions):
        return
    _claim_is_immutable(None, None, request)  # what the mapper's before_update checks

    new_version = TransitionRequest.__mapper__.version_id_generator(read_at)
    rows = [(obj, _changes(obj)) for obj in [*stages, *slots]]
    rows = [(obj, values) for obj, values in rows if values]
    subject = _subject_change(session, request)
    for d in decisions:
        d.request_id, d.slot_id = request.id, d.slot.id
    shape = (tuple(changed), tuple((type(obj), tuple(values)) for obj, values in rows), len(decisions),
             (type(subject[0]), tuple(subject[1])) if subject else None)
    statement = _STATEMENTS.get(shape)
    if statement is None:
        statement = _STATEMENTS[shape] = _statement(*shape)
    params = {"r_id": request.id, "r_read_at": read_at, "r_version": new_version}
    params.update({f"r_{key}": value for key, value in changed.items()})
    for n, (obj, values) in enumerate(rows):
        params[f"o{n}_id"] = obj.id
        params.update({f"o{n}_{key}": value for key, value in values.items()})
    if subject:
        params.update({"s_id": subject[0].id, "s_read_at": subject[2]})
        params.update({f"s_{key}": value for key, value in subject[1].items()})
    columns = [c for c in Decision.__table__.c if c.key != "id"]
    for n, d in enumerate(decisions):
        params.update({f"d{n}_{c.key}": _value(d, c) for c in columns})
    result = session.connection().execute(statement, params).all()
    if len(result) != (len(decisions) or 1):
        raise StaleDataError(f"the request {request.id} (or its object) moved on since it was read")
    request.version = new_version
    ids = {slot_id: id_ for id_, slot_id in result} if decisions else {}
    for d in decisions:
        session.expunge(d)
        d.id = ids[d.slot_id]
        for column in Decision.__table__.c:
            _value(d, column)
        make_transient_to_detached(d)
        session.add(d)
    mark_written(request, *(obj for obj, _ in rows), *([subject[0]] if subject else []))
