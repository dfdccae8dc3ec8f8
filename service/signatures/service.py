"""The governor's qualified signature on the year's report, as officials sign today.

1. The governor downloads the report as PDF/A "за подпис" (`issue_copy`): goalflow keeps the copy's
   digest and size, and a digest of the report's content at that moment.
2. He signs it with his own signing software and card and uploads the signed file (`accept`): the
   checks of validation.py, then the certificate must name him (his profile's `signing_identity`
   against the subject's serialNumber) and the report must not have changed since the copy.
3. Only then is the sign-off completed, through the approvals service like any decision: the open
   request of the report's sign-off is approved, or the governor's own `approve_report` is asked for
   (it applies at once). The signature row is written in that same transaction: both or neither.
4. After the commit the public copy is sealed by the administration and an audit checkpoint made;
   either may wait for the daily run if the seal or the time-stamp authority is away.
Every refused upload is recorded in the audit trail with its code.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from datetime import datetime

from sqlalchemy import select

from service.approvals import service as approvals
from service.audit import service as audit
from service.db import utcnow
from service.documents import export_pdf
from service.extensions import db
from service.goals import service as goals
from service.goals.documents import plan_document
from service.goals.models import Plan
from service.kernel import authz
from service.kernel.common import settings
from service.kernel.errors import GoalflowError
from service.kernel.uow import transaction
from service.kernel.workflow_registry import provides, workflow_for
from service.org.models import User
from service.signatures import seal as sealing
from service.signatures.models import ReportSignature, SigningCopy
from service.signatures.validation import (
    ProducedCopy,
    SignatureRefused,
    check_signed_report,
    load_pem_certificates,
)
from workflows import Context

log = logging.getLogger(__name__)

SIGNED_STATE = "report_approved"  # the report's sign-off leads here
PDF_VARIANT = "pdf/a-3b"


# -- what is signed ------------------------------------------------------------------------------


def content_digest(plan: Plan) -> str:
    """The report's content (every goal, every column), not its approval block: a copy made before
    the report changed is outdated."""
    document = dataclasses.asdict(plan_document(plan, "report", "bg", plan.goals))
    document.pop("governor_name", None)
    document.pop("approved_on", None)
    canonical = json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def sign_off_route(actor: User, plan: Plan):
    """How `actor` completes the report's sign-off now: ("decide", request) for an open request
    waiting for them, ("request", transition) for a sign-off they ask for themselves, or None."""
    request = approvals.open_request("plan", plan.id)
    if request is not None:
        if request.to_state == SIGNED_STATE and approvals.claims(actor, request):
            return "decide", request
        return None
    wf = workflow_for("plan")
    for t in wf.available(plan.state):
        # Declared and theirs to ask; the signature guard is what the upload itself satisfies.
        if t.dest == SIGNED_STATE and authz.can_request(actor, t, set(), plan.administration_id):
            return "request", t.name
    return None


def issue_copy(actor: User, plan_id: int, *, lang: str = "bg", now: datetime | None = None) -> tuple[bytes, str]:
    """The report as PDF/A for `actor` to sign, and its file name; its digest is kept."""
    plan = goals.get_plan(actor, plan_id)
    if sign_off_route(actor, plan) is None:
        raise GoalflowError("signature_not_expected")
    document = dataclasses.replace(plan_document(plan, "report", lang, plan.goals), governor_name=actor.name)
    data = export_pdf(document, lang=lang, pdf_variant=PDF_VARIANT)
    with transaction():
        db.session.add(SigningCopy(
            plan_id=plan.id, kind="report", lang=lang, pdf_sha256=hashlib.sha256(data).hexdigest(),
            pdf_size=len(data), content_digest=content_digest(plan), issued_at=now or utcnow(), issued_to_id=actor.id,
        ))
    slug = plan.administration.slug
    return data, f"{slug}-{plan.year}-report-{lang}-za-podpis.pdf"


# -- the signed upload ---------------------------------------------------------------------------


def accept(actor: User, plan_id: int, data: bytes, *, now: datetime | None = None) -> ReportSignature:
    """Check the signed report and, when it holds, complete the sign-off (see the module's doc)."""
    now = now or utcnow()
    plan = goals.get_plan(actor, plan_id)
    route = sign_off_route(actor, plan)
    if route is None:
        raise GoalflowError("signature_not_expected")
    if not actor.signing_identity.strip():
        raise GoalflowError("signing_identity_missing")
    config = settings()
    copies = db.session.scalars(
        select(SigningCopy).where(SigningCopy.plan_id == plan.id, SigningCopy.kind == "report")
        .order_by(SigningCopy.id.desc())
    ).all()
    try:
        checked = check_signed_report(
            data, [ProducedCopy(c.id, c.pdf_sha256, c.pdf_size) for c in copies],
            trust_roots=load_pem_certificates(config.SIGNATURE_TRUST_ROOTS),
            accept_unchecked_revocation=config.SIGNATURE_ACCEPT_UNCHECKED_REVOCATION,
            now=now,
        )
    except SignatureRefused as exc:
        raise _refused(actor, plan, exc.code, now, detail=exc.detail) from exc
    if checked.signer_identity.strip().casefold() != actor.signing_identity.strip().casefold():
        raise _refused(
            actor, plan, "signer_mismatch", now,
            signer=f"{checked.signer_name} ({checked.signer_identity or '–'})",
            expected=f"{actor.name} ({actor.signing_identity})",
        )
    copy = next(c for c in copies if c.id == checked.copy_id)
    if copy.content_digest != content_digest(plan):
        raise _refused(actor, plan, "document_outdated", now)

    signature = ReportSignature(
        plan_id=plan.id, copy_id=copy.id, signer_id=actor.id, signer_name=checked.signer_name,
        signer_identity=checked.signer_identity, signed_at=checked.signed_at, uploaded_at=now,
        revocation=checked.revocation, report=checked.report, signed_pdf=data,
        signed_sha256=checked.report["signed_file_sha256"],
    )
    db.session.add(signature)  # committed by the sign-off's own transaction, or rolled back with it
    reason = f"Подписан с КЕП от {checked.signer_name} ({checked.signer_identity})"
    try:
        if route[0] == "decide":
            approvals.decide(actor=actor, request_id=route[1].id, verdict="approve", comment=reason, now=now)
        else:
            # The qualified signature is a stronger proof of presence than the password asked again.
            approvals.request_transition(
                actor=actor, subject_type="plan", subject_id=plan.id, transition=route[1], reason=reason,
                fresh_login=True, now=now,
            )
    except GoalflowError:
        db.session.rollback()
        raise
    after_sign_off(signature.id)
    return db.session.get(ReportSignature, signature.id)


def _refused(actor: User, plan: Plan, code: str, now: datetime, **params) -> GoalflowError:
    """The refusal, recorded in the audit trail (nothing else is written)."""
    db.session.rollback()
    error = GoalflowError(code, **params)
    with transaction():
        audit.record(
            chain_id=plan.administration_id, action="report_signature_refused", subject_type="plan",
            subject_id=plan.id, actor_id=actor.id, after={"code": code, **{k: str(v) for k, v in params.items()}},
            reason=error.message("en"), at=now,
        )
    return error


def after_sign_off(signature_id: int) -> None:
    """Seal the public copy and make an audit checkpoint; what fails waits for the daily run."""
    from service.audit import checkpoints

    signature = db.session.get(ReportSignature, signature_id)
    seal_public_copy(signature)
    checkpoints.after_sign_off(signature.plan.administration_id)


def seal_public_copy(signature: ReportSignature) -> bool:
    """The signed report with the administration's seal appended; False when the seal is away."""
    config = settings()
    if signature.sealed_pdf is not None or not config.seal_configured:
        return signature.sealed_pdf is not None
    try:
        sealed = sealing.seal_pdf(signature.signed_pdf, config)
    except GoalflowError as exc:
        log.warning("public copy of signature %s not sealed: %s", signature.id, exc)
        return False
    signature.sealed_pdf, signature.sealed_at = sealed, utcnow()
    db.session.commit()
    return True


def seal_pending() -> int:
    """The daily run: every signed report not sealed yet."""
    pending = db.session.scalars(select(ReportSignature).where(ReportSignature.sealed_pdf.is_(None))).all()
    return sum(1 for signature in pending if seal_public_copy(signature))


# -- what is shown -------------------------------------------------------------------------------


def latest_signature(plan_id: int) -> ReportSignature | None:
    return db.session.scalar(
        select(ReportSignature).where(ReportSignature.plan_id == plan_id).order_by(ReportSignature.id.desc())
    )


def signature_for(actor: User, plan_id: int) -> ReportSignature | None:
    plan = goals.get_plan(actor, plan_id)
    return latest_signature(plan.id)


def public_pdf(signature: ReportSignature) -> bytes:
    """What is published: the sealed copy when there is one, else the governor's signed file."""
    return signature.sealed_pdf or signature.signed_pdf


# -- the workflow's guard ------------------------------------------------------------------------


@provides("guard", "report_signed")
def report_signed(ctx: Context) -> str | None:
    """With REPORT_SIGNATURE_REQUIRED, the report is approved only with a qualified signature on
    its current content (the upload writes it in the sign-off's own transaction). Asking for the
    sign-off is not refused: submit_report opens it in the governor's inbox, and only its approval
    needs the signature."""
    if not settings().REPORT_SIGNATURE_REQUIRED or ctx.extra.get("opening"):
        return None
    signature = latest_signature(ctx.subject.id)
    if signature is not None and signature.copy.content_digest == content_digest(ctx.subject):
        return None
    return "the report is approved by uploading the PDF signed with a qualified electronic signature (КЕП)"
