"""HTML pages: parse the form, call a service, render or redirect."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from service import subjects
from service.approvals import service as approvals
from service.audit.models import Event
from service.auth.login import is_fresh, mark_login
from service.errors import GoalflowError
from service.extensions import db
from service.goals import service as goals
from service.org import service as org
from service.workflow_registry import workflow_for

bp = Blueprint("web", __name__)


def _lang() -> str:
    return session.get("lang") or (current_user.locale if current_user.is_authenticated else "bg")


@bp.get("/lang/<code>")
def set_language(code: str):
    if code not in ("bg", "en"):
        abort(404)
    session["lang"] = code
    return redirect(request.referrer or url_for("web.home"))


@bp.route("/login", methods=["GET", "POST"])
def login():
    error = None
    email = request.form.get("email", "")
    if request.method == "POST":
        user = org.authenticate(email, request.form.get("password", ""))
        if user is None:
            error = _("Wrong email or password.")
        else:
            login_user(user)
            mark_login()
            target = request.args.get("next", "")
            return redirect(target if target.startswith("/") and not target.startswith("//") else url_for("web.home"))
    return render_template("login.html", error=error, email=email), 401 if error else 200


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    session.clear()
    return redirect(url_for("web.login"))


@bp.get("/")
@login_required
def home():
    goal_list = db.session.scalars(goals.list_goals(current_user)).all()
    pending = approvals.pending_for(current_user)
    return render_template("home.html", goals=goal_list, pending=pending, wf=workflow_for("goal"), lang=_lang())


@bp.get("/goals/<int:goal_id>")
@login_required
def goal_page(goal_id: int):
    goal = goals.get_goal(current_user, goal_id)
    open_request = approvals.open_request("goal", goal.id)
    claims = approvals.claims(current_user, open_request) if open_request else []
    events = db.session.scalars(
        db.select(Event).where(Event.subject_type == "goal", Event.subject_id == goal.id).order_by(Event.seq)
    ).all()
    return render_template(
        "goal.html",
        goal=goal,
        wf=workflow_for("goal"),
        lang=_lang(),
        open_request=open_request,
        claims=claims,
        allowed=approvals.allowed_transitions(current_user, "goal", goal),
        events=events,
    )


def _back_to(subject_type: str, subject_id: int):
    return redirect(subjects.kind(subject_type).path(subjects.load(subject_type, subject_id)))


@bp.post("/goals/<int:goal_id>/transitions")
@login_required
def ask_transition(goal_id: int):
    achieved = {key.removeprefix("achieved-"): value for key, value in request.form.items() if key.startswith("achieved-")}
    try:
        approvals.request_transition(
            actor=current_user,
            subject_type="goal",
            subject_id=goal_id,
            transition=request.form.get("transition", ""),
            reason=request.form.get("reason", ""),
            data={"achieved": achieved} if achieved else {},
            expected_version=request.form.get("version", type=int),
            fresh_login=is_fresh(),
        )
        flash(_("Your request was recorded."), "success")
    except GoalflowError as exc:
        if exc.status == 404:
            raise
        flash(exc.message(_lang()), "error")
    return redirect(url_for("web.goal_page", goal_id=goal_id))


@bp.post("/requests/<int:request_id>/<any(approve, reject, withdraw):action>")
@login_required
def act_on_request(request_id: int, action: str):
    comment = request.form.get("comment", "")
    try:
        if action == "withdraw":
            req = approvals.withdraw(actor=current_user, request_id=request_id, reason=comment)
        else:
            req = approvals.decide(
                actor=current_user, request_id=request_id, verdict=action, comment=comment,
                expected_version=request.form.get("version", type=int),
            )
        flash(_("Done."), "success")
    except GoalflowError as exc:
        if exc.status == 404:
            raise
        flash(exc.message(_lang()), "error")
        req = db.session.get(approvals.TransitionRequest, request_id)
    return _back_to(req.subject_type, req.subject_id)
