"""The year's plan as the official table, its document preview, and the governor's sign-offs."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import or_

from service.approvals import service as approvals
from service.auth.login import is_fresh
from service.extensions import db
from service.goals import amendments
from service.goals import report as report_entries
from service.goals import service as goals
from service.goals.models import Goal
from service.kernel.errors import GoalflowError
from service.kernel.workflow_registry import workflow_for
from service.org.models import Unit
from service.web.common import (
    error_message,
    field_errors,
    form_int,
    int_arg,
    lang,
    request_outcome,
    request_view,
)
from service.web.diagram import diagram_svg
from service.web.events import timeline
from service.web.views import bp

EXPORT_FORMATS = ("docx", "xlsx", "csv", "pdf")


def plan_filters() -> dict:
    return {
        "state": request.args.get("state", ""),
        "unit": int_arg("unit"),
        "q": request.args.get("q", "").strip()[:200],
    }


def plan_goals(plan_id: int, filters: dict | None = None) -> list[Goal]:
    filters = filters or {}
    state = filters.get("state") if filters.get("state") in workflow_for("goal").states else None
    query = goals.list_goals(current_user, plan_id=plan_id, state=state, unit_id=filters.get("unit"))
    if filters.get("q"):
        like = f"%{filters['q']}%"
        query = query.where(or_(Goal.title.ilike(like), Goal.progress_note.ilike(like), Goal.strategic_documents.ilike(like)))
    return list(db.session.scalars(query))


def plan_context(plan_id: int, **extra) -> dict:
    plan = goals.get_plan(current_user, plan_id)
    language = lang()
    filters = plan_filters()
    open_request = approvals.open_request("plan", plan.id)
    context = {
        "plan": plan,
        "goals": plan_goals(plan.id, filters),
        "filters": filters,
        "units": db.session.scalars(
            db.select(Unit).where(Unit.administration_id == plan.administration_id).order_by(Unit.id)
        ).all(),
        "wf": workflow_for("goal"),
        "plan_wf": workflow_for("plan"),
        "state_options": [(s, workflow_for("goal").state_label(s, language)) for s in workflow_for("goal").states],
        "report_states": workflow_for("plan").group("report"),
        "lang": language,
        "formats": EXPORT_FORMATS,
        "allowed": approvals.allowed_transitions(current_user, "plan", plan),
        "open": request_view(open_request, "plan"),
        "claims": approvals.claims(current_user, open_request) if open_request else [],
        "fresh": is_fresh(),
        "diagram": diagram_svg("plan", plan.state, language),
        "timeline": timeline("plan", plan.id, language),
        "report_entries": report_entries.plan_entries(plan),
        "versions": amendments.versions(plan),
        "amendments": amendments.plan_amendments(plan),
        "may_amend": amendments.may_propose(current_user, plan),
        "amendment_wf": workflow_for(amendments.SUBJECT),
        "entry_wf": workflow_for(report_entries.SUBJECT),
        "errors": {},
        "form": {},
        "error_for": "",
        "problem": "",
    }
    context["unit_options"] = [(u.id, u.code) for u in context["units"]]
    context.update(extra)
    return context


@bp.get("/plans")
@login_required
def plans():
    return render_template(
        "plans.html", plans=db.session.scalars(goals.list_plans(current_user)).all(),
        plan_wf=workflow_for("plan"), lang=lang(),
    )


@bp.get("/plans/<int:plan_id>")
@login_required
def plan_page(plan_id: int):
    return render_template("plan.html", **plan_context(plan_id))


@bp.get("/plans/<int:plan_id>/preview")
@login_required
def plan_preview(plan_id: int):
    """The document as it will be signed: the official table under the approval block."""
    return render_template("plan_preview.html", **plan_context(plan_id))


@bp.post("/plans/<int:plan_id>/transitions")
@login_required
def plan_transition(plan_id: int):
    plan = goals.get_plan(current_user, plan_id)
    name = request.form.get("transition", "")
    try:
        asked = approvals.request_transition(
            actor=current_user, subject_type="plan", subject_id=plan.id, transition=name,
            reason=request.form.get("reason", ""), expected_version=form_int("version"), fresh_login=is_fresh(),
        )
    except GoalflowError as exc:
        if exc.status == 404:
            raise
        db.session.rollback()
        if exc.code == "fresh_login_required":
            # A signature needs the password again; the preview is where they come back to sign.
            flash(_("Enter your password again to sign."), "info")
            return redirect(url_for("web.reauth", next=url_for("web.plan_preview", plan_id=plan.id)))
        extra = {"errors": field_errors(exc), "form": request.form, "error_for": name, "problem": error_message(exc)}
        template = "plan_preview.html" if request.form.get("from") == "preview" else "plan.html"
        return render_template(template, **plan_context(plan_id, **extra)), exc.status
    flash(request_outcome(asked), "success")
    return redirect(url_for("web.plan_page", plan_id=plan.id))
