"""A goal's page, asking for its transitions, and deciding on any open request."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from service.approvals import service as approvals
from service.approvals.models import TransitionRequest
from service.auth.login import is_fresh
from service.extensions import db
from service.goals import service as goals
from service.kernel import subjects
from service.kernel.errors import GoalflowError
from service.kernel.workflow_registry import workflow_for
from service.web.common import (
    achieved_from_form,
    error_message,
    field_errors,
    form_int,
    goal_deadline,
    lang,
    open_states,
    request_outcome,
    request_view,
    today,
)
from service.web.diagram import diagram_svg
from service.web.events import timeline
from service.web.home import indicator_percent
from service.web.plans import plan_context
from service.web.views import bp, safe_next


def goal_context(goal_id: int, **extra) -> dict:
    goal = goals.get_goal(current_user, goal_id)
    wf = workflow_for("goal")
    language = lang()
    open_request = approvals.open_request("goal", goal.id)
    day = today()
    context = {
        "goal": goal,
        "wf": wf,
        "lang": language,
        "deadline": goal_deadline(goal),
        "today": day,
        "open_goal_states": open_states(wf),
        "indicators": [(ind, indicator_percent(ind)) for ind in goal.indicators],
        "open": request_view(open_request, "goal"),
        "claims": approvals.claims(current_user, open_request) if open_request else [],
        "allowed": approvals.allowed_transitions(current_user, "goal", goal),
        "timeline": timeline("goal", goal.id, language),
        "diagram": diagram_svg("goal", goal.state, language),
        "errors": {},
        "form": {},
        "error_for": "",
        "problem": "",
    }
    context.update(extra)
    return context


def _refused(exc: GoalflowError, subject_type: str, subject_id: int, error_for: str):
    """Back to the object's page with the problem next to the field and the typed text kept."""
    if exc.status == 404:
        raise exc
    db.session.rollback()
    extra = {"errors": field_errors(exc), "form": request.form, "error_for": error_for, "problem": error_message(exc)}
    if subject_type == "goal":
        return render_template("goal.html", **goal_context(subject_id, **extra)), exc.status
    if subject_type == "report_entry":
        from service.goals.models import ReportEntry
        from service.web.report_entries import entry_context

        goal_id = db.session.get(ReportEntry, subject_id).goal_id
        return render_template("report_entry.html", **entry_context(goal_id, **extra)), exc.status
    if subject_type == "plan_amendment":
        from service.web.amendments import amendment_context

        return render_template("amendments/page.html", **amendment_context(subject_id, **extra)), exc.status
    return render_template("plan.html", **plan_context(subject_id, **extra)), exc.status


@bp.get("/goals/<int:goal_id>")
@login_required
def goal_page(goal_id: int):
    return render_template("goal.html", **goal_context(goal_id))


@bp.post("/goals/<int:goal_id>/transitions")
@login_required
def ask_transition(goal_id: int):
    transition = request.form.get("transition", "")
    try:
        asked = approvals.request_transition(
            actor=current_user,
            subject_type="goal",
            subject_id=goal_id,
            transition=transition,
            reason=request.form.get("reason", ""),
            data=achieved_from_form(),
            expected_version=form_int("version"),
            fresh_login=is_fresh(),
        )
    except GoalflowError as exc:
        return _refused(exc, "goal", goal_id, transition)
    flash(request_outcome(asked), "success")
    return redirect(url_for("web.goal_page", goal_id=goal_id))


@bp.post("/requests/<int:request_id>/<any(approve, reject, withdraw):action>")
@login_required
def act_on_request(request_id: int, action: str):
    req = db.session.get(TransitionRequest, request_id)
    if req is None:
        raise GoalflowError("not_found")
    subject_type, subject_id = req.subject_type, req.subject_id
    approvals.visible_subject(current_user, subject_type, subject_id)
    comment = request.form.get("comment", "")
    try:
        if action == "withdraw":
            approvals.withdraw(actor=current_user, request_id=request_id, reason=comment)
            flash(_("The request was withdrawn."), "success")
        else:
            approvals.decide(
                actor=current_user, request_id=request_id, verdict=action, comment=comment,
                expected_version=form_int("version"), fresh_login=is_fresh(),
            )
            flash(_("Your approval was recorded.") if action == "approve" else _("The request was rejected."), "success")
    except GoalflowError as exc:
        if exc.code == "fresh_login_required":
            # A signature needs the password again; they come back to the object's page to sign.
            db.session.rollback()
            flash(_("Enter your password again to sign."), "info")
            subject = subjects.load(subject_type, subject_id)
            return redirect(url_for("web.reauth", next=subjects.kind(subject_type).path(subject)))
        return _refused(exc, subject_type, subject_id, "decision")
    subject = subjects.load(subject_type, subject_id)
    return redirect(safe_next(subjects.kind(subject_type).path(subject)))
