"""Quarterly progress: the expert's form, the head's accept or return, the campaign board."""

from __future__ import annotations

import importlib
from types import ModuleType

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from service.extensions import db
from service.goals import service as goals
from service.goals.models import Plan
from service.kernel import authz
from service.kernel.common import local_today
from service.kernel.errors import GoalflowError
from service.kernel.workflow_registry import workflow_for
from service.org.models import User
from service.web.common import achieved_from_form, error_message, field_errors, form_int, lang
from service.web.events import timeline
from service.web.views import bp

RISKS = ("on_track", "at_risk", "off_track")


def progress_service() -> ModuleType | None:
    """The quarterly progress service (absent in a tree built without it: the pages then hide)."""
    try:
        return importlib.import_module("service.progress.service")
    except ModuleNotFoundError:
        return None


def missing_for(user: User, plan: Plan) -> list:
    """Reports of open campaigns of this plan that this person's units still owe."""
    progress = progress_service()
    if progress is None:
        return []
    return [r for r in progress.missing_reports(actor=user) if r.campaign.plan_id == plan.id]


def _service() -> ModuleType:
    progress = progress_service()
    if progress is None:
        raise GoalflowError("not_found")
    return progress


def _index(status: int = 200, **extra):
    progress = _service()
    plans = db.session.scalars(goals.list_plans(current_user)).all()
    context = dict(
        errors={}, form={}, problem="",
    )
    context.update(extra)
    return render_template(
        "progress/index.html",
        reports=progress.list_reports(actor=current_user, only_open_campaigns=True),
        campaigns=progress.list_campaigns(actor=current_user),
        plans=plans,
        can_open=authz.may(current_user, "run_campaigns"),
        board=authz.may(current_user, "read_campaign_boards"),
        wf=workflow_for("progress_report"),
        lang=lang(),
        **context,
    ), status


@bp.get("/progress")
@login_required
def progress_home():
    return _index()


def report_context(report_id: int, **extra) -> dict:
    progress = _service()
    report = progress.get_report(actor=current_user, report_id=report_id)
    values = {v.indicator_id: v for v in report.values}
    context = {
        "report": report,
        "goal": report.goal,
        "values": values,
        "actions": progress.allowed_actions(current_user, report),
        "wf": workflow_for("progress_report"),
        "goal_wf": workflow_for("goal"),
        "risks": RISKS,
        "timeline": timeline("progress_report", report.id, lang()),
        "lang": lang(),
        "errors": {},
        "form": {},
        "error_for": "",
        "problem": "",
    }
    context.update(extra)
    return context


@bp.get("/progress/<int:report_id>")
@login_required
def progress_report(report_id: int):
    return render_template("progress/report.html", **report_context(report_id))


@bp.post("/progress/<int:report_id>/<any(submit, accept, return):action>")
@login_required
def progress_act(report_id: int, action: str):
    progress = _service()
    version = form_int("version")
    try:
        if action == "submit":
            progress.submit_report(
                actor=current_user, report_id=report_id, achieved=achieved_from_form().get("achieved", {}),
                narrative=request.form.get("narrative", ""), risk=request.form.get("risk", ""),
                expected_version=version,
            )
        elif action == "accept":
            progress.accept_report(
                actor=current_user, report_id=report_id, comment=request.form.get("reason", ""),
                expected_version=version,
            )
        else:
            progress.return_report(
                actor=current_user, report_id=report_id, reason=request.form.get("reason", ""),
                expected_version=version,
            )
    except GoalflowError as exc:
        if exc.status == 404:
            raise
        db.session.rollback()
        extra = {"errors": field_errors(exc), "form": request.form, "error_for": action, "problem": error_message(exc)}
        return render_template("progress/report.html", **report_context(report_id, **extra)), exc.status
    words = {"submit": _("The report was submitted."), "accept": _("The report was accepted."),
             "return": _("The report was returned.")}
    flash(words[action], "success")
    return redirect(url_for("web.progress_report", report_id=report_id))


@bp.get("/progress/campaigns/<int:campaign_id>")
@login_required
def progress_board(campaign_id: int):
    progress = _service()
    board = progress.campaign_board(actor=current_user, campaign_id=campaign_id)
    today = local_today()
    return render_template(
        "progress/board.html", board=board, wf=workflow_for("progress_report"), lang=lang(),
        may_download=authz.viewer(current_user, today).all_units,
        may_read_summary=progress.may_read_summary(current_user, board.campaign, today),
    )


@bp.get("/progress/campaigns/<int:campaign_id>/summary")
@login_required
def progress_summary(campaign_id: int):
    """The quarter for the governor and the chief secretary: progress per goal and per unit, and
    what is still missing."""
    overview = _service().quarter_overview(actor=current_user, campaign_id=campaign_id)
    return render_template(
        "progress/summary.html", overview=overview, wf=workflow_for("progress_report"),
        goal_wf=workflow_for("goal"), lang=lang(),
    )


@bp.get("/progress/campaigns/<int:campaign_id>/summary.xlsx")
@login_required
def progress_summary_xlsx(campaign_id: int):
    file = _service().summary_download(actor=current_user, campaign_id=campaign_id, lang=lang())
    response = Response(file.data, mimetype=file.content_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{file.filename}"'
    return response


@bp.post("/progress/campaigns")
@login_required
def progress_open_campaign():
    progress = _service()
    try:
        campaign = progress.open_campaign(
            plan_id=form_int("plan_id") or 0, quarter=form_int("quarter") or 0, actor=current_user
        )
    except GoalflowError as exc:
        if exc.status == 404:
            raise
        db.session.rollback()
        return _index(exc.status, errors=field_errors(exc), form=request.form, problem=error_message(exc))
    flash(_("The campaign was opened."), "success")
    return redirect(url_for("web.progress_board", campaign_id=campaign.id))
