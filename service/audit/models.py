"""Append-only events, chained by hash per administration."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.db import UTCDateTime, utcnow
from service.extensions import db
from service.org.models import User


class Event(db.Model):
    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("chain_id", "seq"),
        Index("ix_events_subject", "subject_type", "subject_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    chain_id: Mapped[int] = mapped_column(Integer)  # the administration's id; 0 for system-wide events
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    on_behalf_of_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(60))
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[int] = mapped_column(Integer)
    request_id: Mapped[int | None] = mapped_column(Integer)
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(Text, default="")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
    on_behalf_of: Mapped[User | None] = relationship(foreign_keys=[on_behalf_of_id])


class ChainHead(db.Model):
    """The last link of each chain; locking it serialises appends to that chain only."""

    __tablename__ = "audit_chain_heads"

    chain_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    hash: Mapped[str] = mapped_column(String(64))

    # The UPDATE that advances the head also checks the seq it was read at: on a backend without
    # row locks, a racing append fails it (StaleDataError) instead of forking the chain.
    __mapper_args__ = {"version_id_col": seq, "version_id_generator": False}


class Checkpoint(db.Model):
    """A chain's head (sequence and hash) at a moment, sealed and time-stamped by the administration
    and kept outside the database too: a rewrite of the chain before it no longer goes unnoticed."""

    __tablename__ = "audit_checkpoints"
    __table_args__ = (Index("ix_audit_checkpoints_chain_seq", "chain_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    chain_id: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reason: Mapped[str] = mapped_column(String(20))  # daily | sign_off | manual
    statement: Mapped[str] = mapped_column(Text)  # the canonical JSON that is sealed
    statement_sha256: Mapped[str] = mapped_column(String(64))  # shown on the public page
    seal: Mapped[bytes | None] = mapped_column(LargeBinary)  # CMS SignedData (DER), detached, with its time-stamp
    sealed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the time-stamp's time
    file_name: Mapped[str] = mapped_column(String(200), default="")
