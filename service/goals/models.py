"""Plans and their goals: every column of the official table."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.db import UTCDateTime, utcnow
from service.extensions import db
from service.org.models import Administration, Unit, User

goal_units = Table(
    "goal_units",
    db.metadata,
    Column("goal_id", ForeignKey("goals.id", ondelete="CASCADE"), primary_key=True),
    Column("unit_id", ForeignKey("units.id"), primary_key=True, index=True),
)


class Plan(db.Model):
    """The year's plan ("Цели на ... за YYYY г.") and, once reported, its report."""

    __tablename__ = "plans"
    __table_args__ = (UniqueConstraint("administration_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    administration_id: Mapped[int] = mapped_column(ForeignKey("administrations.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3), default="BGN")
    state: Mapped[str] = mapped_column(String(40))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    report_approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    report_approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # A past year's report signed on paper and brought in as an archive: the day of the paper
    # signature, who imported it and when. Nobody signed it in goalflow.
    paper_signed_on: Mapped[date | None] = mapped_column(Date)
    archive_imported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    archive_imported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    administration: Mapped[Administration] = relationship()
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])
    report_approved_by: Mapped[User | None] = relationship(foreign_keys=[report_approved_by_id])
    archive_imported_by: Mapped[User | None] = relationship(foreign_keys=[archive_imported_by_id])
    goals: Mapped[list[Goal]] = relationship(back_populates="plan", order_by="Goal.number")

    __mapper_args__ = {"version_id_col": version}


class Goal(db.Model):
    __tablename__ = "goals"
    __table_args__ = (UniqueConstraint("plan_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    strategic_documents: Mapped[str] = mapped_column(Text, default="")
    strategic_goal: Mapped[str] = mapped_column(Text, default="")
    strategic_indicator: Mapped[str] = mapped_column(Text, default="")
    financing_amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    financing_currency: Mapped[str] = mapped_column(String(3), default="BGN")
    financing_source: Mapped[str] = mapped_column(String(300), default="")
    financing_not_applicable: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(40), index=True)
    status_wording: Mapped[str] = mapped_column(String(200), default="")  # the document's own words
    progress_note: Mapped[str] = mapped_column(Text, default="")
    deadline: Mapped[date | None] = mapped_column(Date, index=True)  # none: the end of the plan's year
    needs_review: Mapped[bool] = mapped_column(Boolean, default=False)
    import_warnings: Mapped[list] = mapped_column(JSON, default=list)
    source_cells: Mapped[list] = mapped_column(JSON, default=list)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    plan: Mapped[Plan] = relationship(back_populates="goals")
    units: Mapped[list[Unit]] = relationship(secondary=goal_units, lazy="selectin", order_by="Unit.id")
    indicators: Mapped[list[Indicator]] = relationship(
        back_populates="goal", cascade="all, delete-orphan", order_by="Indicator.position", lazy="selectin"
    )
    activities: Mapped[list[Activity]] = relationship(
        back_populates="goal", cascade="all, delete-orphan", order_by="Activity.position", lazy="selectin"
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def unit_ids(self) -> set[int]:
        return {u.id for u in self.units}


class Indicator(db.Model):
    __tablename__ = "indicators"

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("goals.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(Text)
    unit: Mapped[str] = mapped_column(String(40), default="")
    baseline: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    baseline_text: Mapped[str] = mapped_column(Text, default="")
    target: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    target_text: Mapped[str] = mapped_column(Text, default="")
    achieved: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    achieved_text: Mapped[str] = mapped_column(Text, default="")

    goal: Mapped[Goal] = relationship(back_populates="indicators")


class Activity(db.Model):
    __tablename__ = "activities"

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("goals.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(Text)
    deadline: Mapped[date | None] = mapped_column(Date, index=True)
    done: Mapped[bool] = mapped_column(Boolean, default=False)

    goal: Mapped[Goal] = relationship(back_populates="activities")
