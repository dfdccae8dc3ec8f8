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
    LargeBinary,
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
    # The order the units were entered in ("Дирекция АКРРДС и Дирекция АПОФУС"); see keep_unit_order.
    Column("position", Integer, nullable=False, default=0, server_default="0"),
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
    units: Mapped[list[Unit]] = relationship(
        secondary=goal_units, lazy="selectin", order_by=[goal_units.c.position, Unit.id]
    )
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


def keep_unit_order(goal: Goal) -> None:
    """Write the position of each of the goal's units as its list has them (the secondary
    table's rows are written by the flush, which knows no order)."""
    db.session.flush()
    for position, unit in enumerate(goal.units):
        db.session.execute(
            goal_units.update()
            .where(goal_units.c.goal_id == goal.id, goal_units.c.unit_id == unit.id)
            .values(position=position)
        )


class ReportEntry(db.Model):
    """A goal's entry in the year's report: the achieved values and the column-14 narrative.

    Each accepted quarterly report updates the draft; at year end the responsible unit edits and
    submits it, the heads approve, the chief secretary compiles it into the report and the
    governor's approval of the report signs it (workflows/report_entry.yaml). Signed, it is frozen.
    """

    __tablename__ = "report_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("goals.id", ondelete="CASCADE"), unique=True)
    state: Mapped[str] = mapped_column(String(40), index=True)
    narrative: Mapped[str] = mapped_column(Text, default="")
    # Set once a person edits the narrative: later quarters then add to it instead of rewriting it.
    narrative_edited: Mapped[bool] = mapped_column(Boolean, default=False)
    quarters: Mapped[list] = mapped_column(JSON, default=list)  # the accepted reports it was drawn from
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)

    goal: Mapped[Goal] = relationship()
    values: Mapped[list[ReportEntryValue]] = relationship(
        back_populates="entry", cascade="all, delete-orphan", lazy="selectin"
    )
    signed_by: Mapped[User | None] = relationship(foreign_keys=[signed_by_id])

    __mapper_args__ = {"version_id_col": version}

    def value_for(self, indicator_id: int) -> ReportEntryValue | None:
        return next((v for v in self.values if v.indicator_id == indicator_id), None)


class ReportEntryValue(db.Model):
    __tablename__ = "report_entry_values"
    __table_args__ = (UniqueConstraint("entry_id", "indicator_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("report_entries.id", ondelete="CASCADE"), index=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicators.id", ondelete="CASCADE"))
    achieved: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    achieved_text: Mapped[str] = mapped_column(Text, default="")

    entry: Mapped[ReportEntry] = relationship(back_populates="values")
    indicator: Mapped[Indicator] = relationship()


class PlanAmendment(db.Model):
    """A change to an adopted plan (goals added; targets, deadlines, financing changed), adopted
    through a request that the heads concerned and the governor approve
    (workflows/amendment.yaml). Adopted, it makes the plan's next version."""

    __tablename__ = "plan_amendments"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), index=True)
    state: Mapped[str] = mapped_column(String(40), index=True)
    changes: Mapped[list] = mapped_column(JSON, default=list)
    reason: Mapped[str] = mapped_column(Text, default="")
    unit_ids_concerned: Mapped[list] = mapped_column(JSON, default=list)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    plan: Mapped[Plan] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])

    __mapper_args__ = {"version_id_col": version}


class PlanVersion(db.Model):
    """One adopted version of a plan: the first is the plan as approved, each adopted amendment
    makes the next. The snapshot keeps every goal as it stood."""

    __tablename__ = "plan_versions"
    __table_args__ = (UniqueConstraint("plan_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    adopted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    adopted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    amendment_id: Mapped[int | None] = mapped_column(ForeignKey("plan_amendments.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    snapshot: Mapped[list] = mapped_column(JSON, default=list)

    adopted_by: Mapped[User | None] = relationship(foreign_keys=[adopted_by_id])


class ImportJob(db.Model):
    """A plan import (or its dry run) the worker runs for a large file; the page and the API poll it.

    The file is kept in the row until the job ends (web and worker may run on different hosts);
    `result` is the import's answer as the API gives it, `error_code` a code of service/kernel/errors.py.
    """

    __tablename__ = "import_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    administration_id: Mapped[int] = mapped_column(ForeignKey("administrations.id"), index=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255), default="")
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    data: Mapped[bytes | None] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(20), default="queued")  # queued | running | done | failed
    phase: Mapped[str] = mapped_column(String(20), default="")  # reading | importing, while running
    done: Mapped[int] = mapped_column(Integer, default=0)  # goals handled of `total`
    total: Mapped[int] = mapped_column(Integer, default=0)
    result: Mapped[dict | None] = mapped_column(JSON)
    error_code: Mapped[str] = mapped_column(String(60), default="")
    error_params: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
