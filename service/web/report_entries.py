"""A goal's entry in the year's report: the unit's form, its requests and its timeline."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from service.approvals import service as approvals
from service.extensions import db
from service.goals import report as entries
from service.kernel.errors import GoalflowError
from service.kernel.workflow_registry import workflow_for
from service.web.common import achieved_from_form, error_message, field_errors, form_int, lang
from service.web.events import timeline
from service.web.views import bp


def entry_context(goal_id: int, **extra) -> dict:
    from service.web.common import request_view

    goal = entries.get_goal(current_user, goal_id)
    entry = entries.entry_of(goal)
    open_request = approvals.open_request(entries.SUBJECT, entry.id) if entry else None
    context = {
        "goal": goal,
        "entry": entry,
        "wf": workflow_for(entries.SUBJECT),
        "lang": lang(),
        "values": [(indicator, entries.achieved_shown(entry, indicator)) for indicator in goal.indicators],
        "may_edit": entries.may_edit(current_user, goal, entry),
        "composed": entries.composed_narrative(entry) if entry else "",
        "open": request_view(open_request, entries.SUBJECT),
        "claims": approvals.claims(current_user, open_request) if open_request else [],
        "allowed": approvals.allowed_transitions(current_user, entries.SUBJECT, entry) if entry else [],
        "timeline": timeline(entries.SUBJECT, entry.id, lang()) if entry else [],
        "errors": {},
        "form": {},
        "error_for": "",
        "problem": "",
    }
    context.update(extra)
    return context


def refused_page(exc: GoalflowError, goal_id: int, error_for: str):
    if exc.status == 404:
        raise exc
    db.session.rollback()
    extra = {"errors": field_errors(exc), "form": request.form, "error_for": error_for, "problem": error_message(exc)}
    return render_template("report_entry.html", **entry_context(goal_id, **extra)), exc.status


@bp.get("/goals/<int:goal_id>/report-entry")
@login_required
def report_entry_page(goal_id: int):
    return render_template("report_entry.html", **entry_context(goal_id))


@bp.post("/goals/<int:goal_id>/report-entry")
@login_required
def report_entry_save(goal_id: int):
    try:
        entries.save_entry(
            actor=current_user, goal_id=goal_id, achieved=achieved_from_form().get("achieved", {}),
            narrative=request.form.get("narrative", ""), expected_version=form_int("version"),
        )
        if request.form.get("then") == "submit":
            entries.request(actor=current_user, goal_id=goal_id, transition="submit",
                            reason=request.form.get("reason", ""))
    except GoalflowError as exc:
        return refused_page(exc, goal_id, "save")
    flash(_("The report entry was submitted to the heads.") if request.form.get("then") == "submit"
          else _("The report entry was saved."), "success")
    return redirect(url_for("web.report_entry_page", goal_id=goal_id))


@bp.post("/goals/<int:goal_id>/report-entry/<any(submit, compile, return):transition>")
@login_required
def report_entry_transition(goal_id: int, transition: str):
    try:
        entries.request(actor=current_user, goal_id=goal_id, transition=transition,
                        reason=request.form.get("reason", ""))
    except GoalflowError as exc:
        return refused_page(exc, goal_id, transition)
    flash(_("Your request was recorded."), "success")
    return redirect(url_for("web.report_entry_page", goal_id=goal_id))
