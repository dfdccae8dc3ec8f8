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

from service.db import UTCDateTime, utcnow
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
