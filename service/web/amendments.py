"""Amending an adopted plan: the form for one goal's targets, deadline and financing, or for a
new goal; the amendment's page with its request; the plan's versions."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from service.approvals import service as approvals
from service.extensions import db
from service.goals import amendments
from service.goals import service as goals
from service.goals.models import Goal
from service.http_inputs import parse_id
from service.kernel.errors import GoalflowError
from service.kernel.workflow_registry import workflow_for
from service.org.models import Unit
from service.web.common import error_message, field_errors, form_int, int_arg, lang
from service.web.events import timeline
from service.web.views import bp


@bp.app_template_global()
def targets_version(goal: Goal):
    """The plan version that set the goal's targets, for the goal's page (None: not adopted yet)."""
    return amendments.targets_version(goal)


def _form_context(plan_id: int, **extra) -> dict:
    plan = goals.get_plan(current_user, plan_id)
    goal_id = extra.pop("goal_id", None) or int_arg("goal")
    goal = next((g for g in plan.goals if g.id == goal_id), None)
    context = {
        "plan": plan, "goal": goal, "new": goal is None,
        "units": db.session.scalars(db.select(Unit).where(Unit.administration_id == plan.administration_id)
                                    .order_by(Unit.id)).all(),
        "may_propose": amendments.may_propose(current_user, plan),
        "errors": {}, "form": {}, "problem": "",
    }
    context.update(extra)
    return context


def _changes_from_form(goal: Goal | None) -> list[dict]:
    form = request.form
    if goal is not None:
        change: dict = {"goal_id": goal.id}
        targets = {str(i.id): form.get(f"target-{i.id}", "") for i in goal.indicators
                   if form.get(f"target-{i.id}", "").strip() and form.get(f"target-{i.id}", "").strip() != i.target_text}
        if targets:
            change["targets"] = targets
        if form.get("deadline", "") != (goal.deadline.isoformat() if goal.deadline else ""):
            change["deadline"] = form.get("deadline", "")
        if form.get("financing_amount", "").strip():
            change["financing_amount"] = form.get("financing_amount", "")
        if form.get("financing_source", "").strip() and form.get("financing_source", "").strip() != goal.financing_source:
            change["financing_source"] = form.get("financing_source", "")
        return [change]
    unit_ids = [n for n in map(parse_id, form.getlist("unit_ids")) if n is not None]
    return [{"new_goal": {
        "title": form.get("title", ""), "unit_ids": unit_ids,
        "indicators": [{"name": form.get("indicator", ""), "baseline": form.get("baseline", ""),
                        "target": form.get("target", "")}],
        "financing_amount": form.get("financing_amount", ""),
        "financing_not_applicable": not form.get("financing_amount", "").strip(),
        "financing_source": form.get("financing_source", ""),
        "activities": [a.strip() for a in form.get("activities", "").splitlines() if a.strip()],
        "deadline": form.get("deadline", ""),
    }}]


@bp.get("/plans/<int:plan_id>/amend")
@login_required
def amend_form(plan_id: int):
    context = _form_context(plan_id)
    if not context["may_propose"]:
        raise GoalflowError("forbidden")
    return render_template("amendments/form.html", **context)


@bp.post("/plans/<int:plan_id>/amend")
@login_required
def amend_propose(plan_id: int):
    plan = goals.get_plan(current_user, plan_id)
    goal_id = form_int("goal_id")
    goal = next((g for g in plan.goals if g.id == goal_id), None) if goal_id is not None else None
    try:
        amendment = amendments.propose(actor=current_user, plan_id=plan_id, changes=_changes_from_form(goal),
                                       reason=request.form.get("reason", ""))
    except GoalflowError as exc:
        if exc.status == 404:
            raise
        db.session.rollback()
        context = _form_context(plan_id, goal_id=goal.id if goal else None, errors=field_errors(exc),
                                form=request.form, problem=error_message(exc))
        return render_template("amendments/form.html", **context), exc.status
    flash(_("The amendment was proposed: the heads concerned and the governor decide."), "success")
    return redirect(url_for("web.amendment_page", plan_id=plan_id, amendment_id=amendment.id))


def amendment_context(amendment_id: int, **extra) -> dict:
    from service.web.common import request_view

    amendment = amendments.get_amendment(current_user, amendment_id)
    open_request = approvals.open_request(amendments.SUBJECT, amendment.id)
    context = {
        "amendment": amendment, "plan": amendment.plan, "goals_by_id": {g.id: g for g in amendment.plan.goals},
        "wf": workflow_for(amendments.SUBJECT), "lang": lang(),
        "open": request_view(open_request, amendments.SUBJECT),
        "claims": approvals.claims(current_user, open_request) if open_request else [],
        "timeline": timeline(amendments.SUBJECT, amendment.id, lang()),
        "errors": {}, "form": {}, "error_for": "", "problem": "",
    }
    context.update(extra)
    return context


@bp.get("/plans/<int:plan_id>/amendments/<int:amendment_id>")
@login_required
def amendment_page(plan_id: int, amendment_id: int):
    context = amendment_context(amendment_id)
    if context["plan"].id != plan_id:
        raise GoalflowError("not_found")
    return render_template("amendments/page.html", **context)
