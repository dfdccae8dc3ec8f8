"""The report as produced for signing, and the signed copies accepted."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.db import UTCDateTime, utcnow
from service.extensions import db
from service.goals.models import Plan
from service.org.models import User


class SigningCopy(db.Model):
    """A PDF/A of the report as goalflow produced it "за подпис": a signed upload must begin with
    exactly these bytes. `content_digest` is the report's content at that moment: a copy of a report
    that changed since is outdated."""

    __tablename__ = "report_signing_copies"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10), default="report")
    lang: Mapped[str] = mapped_column(String(2), default="bg")
    pdf_sha256: Mapped[str] = mapped_column(String(64))
    pdf_size: Mapped[int] = mapped_column(Integer)
    content_digest: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    issued_to_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    plan: Mapped[Plan] = relationship()


class ReportSignature(db.Model):
    """A signed report accepted: the file as uploaded, what its validation found, and the public
    copy sealed by the administration."""

    __tablename__ = "report_signatures"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), index=True)
    copy_id: Mapped[int] = mapped_column(ForeignKey("report_signing_copies.id"))
    signer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    signer_name: Mapped[str] = mapped_column(String(300))  # the certificate's common name
    signer_identity: Mapped[str] = mapped_column(String(64))  # its subject serialNumber, e.g. PNOBG-…
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revocation: Mapped[str] = mapped_column(String(20))  # good | not_checked
    report: Mapped[dict] = mapped_column(JSON)  # the validation report the API answers
    signed_pdf: Mapped[bytes] = mapped_column(LargeBinary)
    signed_sha256: Mapped[str] = mapped_column(String(64))
    sealed_pdf: Mapped[bytes | None] = mapped_column(LargeBinary)
    sealed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    plan: Mapped[Plan] = relationship()
    signer: Mapped[User] = relationship()
    copy: Mapped[SigningCopy] = relationship()
