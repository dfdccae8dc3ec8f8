"""Quarterly progress: a campaign per plan and quarter, a report per goal and responsible unit."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.db import UTCDateTime, utcnow
from service.extensions import db
from service.goals.models import Goal, Indicator, Plan
from service.org.models import Unit, User


class Campaign(db.Model):
    __tablename__ = "campaigns"
    __table_args__ = (UniqueConstraint("plan_id", "quarter"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), index=True)
    quarter: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="open")  # open, closed
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    due_on: Mapped[date] = mapped_column(Date, index=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    plan: Mapped[Plan] = relationship()
    reports: Mapped[list[ProgressReport]] = relationship(back_populates="campaign", order_by="ProgressReport.id")


class ProgressReport(db.Model):
    __tablename__ = "progress_reports"
    __table_args__ = (UniqueConstraint("campaign_id", "goal_id", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("goals.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    state: Mapped[str] = mapped_column(String(40), index=True)
    narrative: Mapped[str] = mapped_column(Text, default="")
    risk: Mapped[str] = mapped_column(String(20), default="on_track")  # on_track, at_risk, off_track
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    return_reason: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)

    campaign: Mapped[Campaign] = relationship(back_populates="reports")
    goal: Mapped[Goal] = relationship()
    unit: Mapped[Unit] = relationship()
    submitted_by: Mapped[User | None] = relationship(foreign_keys=[submitted_by_id])
    values: Mapped[list[ProgressValue]] = relationship(cascade="all, delete-orphan", lazy="selectin")

    __mapper_args__ = {"version_id_col": version}


class ProgressValue(db.Model):
    __tablename__ = "progress_values"
    __table_args__ = (UniqueConstraint("report_id", "indicator_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("progress_reports.id", ondelete="CASCADE"), index=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicators.id"))
    achieved: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    achieved_text: Mapped[str] = mapped_column(Text, default="")

    indicator: Mapped[Indicator] = relationship()
