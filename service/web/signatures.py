"""The governor's signed report on the pages: the form on the sign-off page, the block on the plan
and public pages, and the public copies (the sealed report, the latest audit checkpoint)."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from service.audit import checkpoints
from service.extensions import db
from service.goals import service as goals
from service.kernel.errors import GoalflowError
from service.kernel.workflow_registry import workflow_for
from service.org import service as org
from service.org.models import Administration, Role
from service.signatures import service as signatures
from service.web.common import error_message, role_required
from service.web.plans import plan_context
from service.web.views import bp


@bp.app_template_global()
def report_signature(plan_id: int):
    """The accepted signature of the plan's report, or None."""
    return signatures.latest_signature(plan_id)


@bp.app_template_global()
def report_sign_off_route(plan):
    """Whether the signed-in person completes the report's sign-off (and how), for the form."""
    if not current_user.is_authenticated:
        return None
    return signatures.sign_off_route(current_user, plan)


@bp.app_template_global()
def latest_audit_checkpoint(administration_id: int):
    return checkpoints.latest(administration_id)


@bp.post("/plans/<int:plan_id>/report/signature")
@login_required
def upload_signed_report(plan_id: int):
    upload = request.files.get("file")
    try:
        if upload is None or not upload.filename:
            raise GoalflowError("invalid_input", fields={"file": _("Choose the signed PDF file.")})
        signature = signatures.accept(current_user, plan_id, upload.read())
    except GoalflowError as exc:
        if exc.status == 404:
            raise
        db.session.rollback()
        message = error_message(exc)
        context = plan_context(plan_id, problem=message, signature_error=message, signature_code=exc.code)
        return render_template("plan_preview.html", **context), exc.status
    flash(_("The report is signed by %(name)s and approved; the signature is valid.", name=signature.signer_name),
          "success")
    return redirect(url_for("web.plan_page", plan_id=plan_id))


def _public_plan(slug: str, year: int, group: str = "report_public"):
    administration = db.session.scalar(select(Administration).where(Administration.slug == slug))
    plan = goals.plan_for_year(administration, year) if administration else None
    if plan is None or plan.state not in workflow_for("plan").group(group):
        abort(404)
    return administration, plan


@bp.get("/public/<slug>/<int:year>/report-signed.pdf")
def public_signed_report(slug: str, year: int):
    """The signed report as published: the governor's КЕП and the administration's seal."""
    _, plan = _public_plan(slug, year)
    signature = signatures.latest_signature(plan.id)
    if signature is None:
        abort(404)
    response = Response(signatures.public_pdf(signature), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{slug}-{year}-report-signed.pdf"'
    return response


@bp.get("/public/<slug>/<int:year>/audit-checkpoint.<any(json, p7s):part>")
def public_audit_checkpoint(slug: str, year: int, part: str):
    """The latest sealed checkpoint of the administration's audit chain: the statement and its seal."""
    administration, _ = _public_plan(slug, year, "public")
    checkpoint = checkpoints.latest(administration.id)
    if checkpoint is None or (part == "p7s" and checkpoint.seal is None):
        abort(404)
    data, mimetype = (
        (checkpoint.statement.encode("utf-8"), "application/json") if part == "json"
        else (checkpoint.seal, "application/pkcs7-signature")
    )
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{checkpoint.file_name}.{part}"'
    return response


@bp.post("/admin/people/<int:user_id>/signing-identity")
@role_required(Role.ADMIN)
def admin_signing_identity(user_id: int):
    """The identifier a person's КЕП must carry (its subject serialNumber, e.g. PNOBG-…)."""
    try:
        user = org.update_user(actor=current_user, user_id=user_id,
                               changes={"signing_identity": request.form.get("signing_identity", "")})
    except GoalflowError as exc:
        if exc.status in (403, 404):
            raise
        flash(_("The КЕП identifier was not saved: %(why)s", why="; ".join(exc.fields.values()) or error_message(exc)),
              "error")
        return redirect(url_for("web.admin_home"))
    flash(_("%(name)s signs with the certificate of %(identity)s.", name=user.name, identity=user.signing_identity or "–"),
          "success")
    return redirect(url_for("web.admin_home"))
