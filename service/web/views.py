"""HTML pages: parse the form, call a service, render or redirect.

The blueprint lives here, with the pages of signing in and out; each group of pages registers
its routes on it from its own module, and the package (service/web/__init__.py) imports them all.
"""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user

from service.auth.limits import login_limits
from service.auth.login import mark_login, sign_out
from service.errors import GoalflowError
from service.org import service as org

bp = Blueprint("web", __name__)


def safe_next(default: str) -> str:
    """Only local paths: a crafted ?next= must not send anyone to another site."""
    target = request.values.get("next", "")
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


@bp.get("/lang/<code>")
def set_language(code: str):
    if code not in ("bg", "en"):
        raise GoalflowError("not_found")
    session["lang"] = code
    back = request.referrer or ""
    host = request.host_url
    return redirect(back if back.startswith(host) else url_for("web.home"))


@bp.route("/login", methods=["GET", "POST"])
@login_limits
def login():
    error = None
    email = request.form.get("email", "")
    if request.method == "POST":
        user = org.authenticate(email, request.form.get("password", ""))
        if user is None:
            error = _("Wrong email or password.")
        else:
            lang = session.get("lang")
            session.clear()  # a new session for a new login: nothing carried over but the language
            if lang:
                session["lang"] = lang
            login_user(user)
            mark_login()
            return redirect(safe_next(url_for("web.home")))
    return render_template("login.html", error=error, email=email, next=safe_next("")), 401 if error else 200


@bp.route("/reauth", methods=["GET", "POST"])
@login_required
@login_limits
def reauth():
    """Re-enter the password before a signature (the governor's sign-offs need a fresh login)."""
    error = None
    if request.method == "POST":
        user = org.authenticate(current_user.email, request.form.get("password", ""))
        if user is None or user.id != current_user.id:
            error = _("The password does not match.")
        else:
            mark_login()
            return redirect(safe_next(url_for("web.home")))
    return render_template("reauth.html", error=error, next=safe_next("")), 401 if error else 200


@bp.post("/logout")
@login_required
def logout():
    lang = session.get("lang")
    sign_out()  # for good: this session's cookie, replayed later, is refused
    session.clear()
    if lang:
        session["lang"] = lang
    return redirect(url_for("web.login"))

