"""My account: password, API tokens, my substitute."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user
from sqlalchemy import select

from service.auth import service as tokens
from service.auth.login import mark_login
from service.extensions import db
from service.http_inputs import parse_id
from service.kernel.errors import GoalflowError
from service.org import service as org
from service.org.models import Substitution, User
from service.web.common import error_message, field_errors, form_int, parse_date, today
from service.web.views import bp


def my_substitutions(user: User) -> list[Substitution]:
    """Where I am the absent person or the substitute (an administrator's own page too)."""
    return list(
        db.session.scalars(
            org.list_substitutions(user).where((Substitution.absent_id == user.id) | (Substitution.substitute_id == user.id))
        )
    )


def colleagues(user: User) -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .where(User.administration_id == user.administration_id, User.id != user.id, User.active.is_(True))
            .order_by(User.name)
        )
    )


def _page(status: int = 200, **extra):
    context = {
        "tokens": tokens.list_tokens(current_user),
        "substitutions": my_substitutions(current_user),
        "colleagues": colleagues(current_user),
        "today": today(),
        "errors": {},
        "form": {},
        "error_for": "",
        "new_secret": None,
    }
    context.update(extra)
    return render_template("account.html", **context), status


def _failed(exc: GoalflowError, which: str):
    if exc.status == 404:
        raise exc
    errors = field_errors(exc) or {"_": error_message(exc)}
    return _page(exc.status, errors=errors, form=request.form, error_for=which, problem=error_message(exc))


@bp.get("/account")
@login_required
def account():
    return _page()


@bp.post("/account/password")
@login_required
def change_password():
    me = current_user._get_current_object()  # the user itself: Flask-Login keeps what it is given
    new = request.form.get("new_password", "")
    if new != request.form.get("confirm_password", ""):
        return _failed(GoalflowError("invalid_input", fields={"confirm_password": "passwords differ"}), "password")
    try:
        org.change_password(user=me, current=request.form.get("current_password", ""), new=new)
    except GoalflowError as exc:
        return _failed(exc, "password")
    # Other sessions end with the old generation and every token is revoked; this session is renewed.
    login_user(me)
    mark_login()
    flash(_("Your password was changed. Other sessions were signed out and your API tokens revoked."), "success")
    return redirect(url_for("web.account"))


@bp.post("/account/tokens")
@login_required
def issue_token():
    raw_days = request.form.get("days", "").strip()
    try:
        if raw_days and parse_id(raw_days) is None:
            raise GoalflowError("invalid_input", fields={"days": "between 1 and 366"})
        token, secret = tokens.issue_token(
            user=current_user, name=request.form.get("name", ""), days=parse_id(raw_days) if raw_days else None
        )
    except GoalflowError as exc:
        return _failed(exc, "token")
    # Shown once, in this answer only: never put into a redirect or the session.
    return _page(201, new_secret=secret, new_token=token)


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    tokens.revoke_token(user=current_user, token_id=token_id)
    flash(_("The token was revoked."), "success")
    return redirect(url_for("web.account"))


def name_substitute_from_form(absent: User, actor: User) -> Substitution:
    """Shared by my account and the administration pages: the same fields, the same checks."""
    problems = {}
    substitute = org.get_user(form_int("substitute_id") or 0)
    if substitute is None or substitute.administration_id != absent.administration_id:
        problems["substitute_id"] = "no such person"
    starts_on, ends_on = parse_date(request.form.get("starts_on", "")), parse_date(request.form.get("ends_on", ""))
    if starts_on is None:
        problems["starts_on"] = "not a date"
    if ends_on is None:
        problems["ends_on"] = "not a date"
    if problems:
        raise GoalflowError("invalid_input", fields=problems)
    return org.name_substitute(absent=absent, substitute=substitute, starts_on=starts_on, ends_on=ends_on, actor=actor)


@bp.post("/account/substitutes")
@login_required
def name_substitute():
    try:
        name_substitute_from_form(current_user, current_user)
    except GoalflowError as exc:
        return _failed(exc, "substitute")
    flash(_("Your substitute was named."), "success")
    return redirect(url_for("web.account"))


@bp.post("/account/substitutes/<int:substitution_id>/cancel")
@login_required
def cancel_substitute(substitution_id: int):
    sub = org.get_substitution(current_user, substitution_id)
    if sub.absent_id != current_user.id:
        raise GoalflowError("not_found")
    org.cancel_substitute(substitution=sub, actor=current_user)
    flash(_("The substitution was cancelled."), "success")
    return redirect(url_for("web.account"))
