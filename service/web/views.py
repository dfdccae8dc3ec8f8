"""HTML pages: parse the form, call a service, render or redirect.

The blueprint lives here, with the pages of signing in and out; each group of pages registers
its routes on it from its own module, and the package (service/web/__init__.py) imports them all.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import unquote, urlsplit

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user

from service.auth.limits import login_limits
from service.auth.login import mark_login, sign_out
from service.kernel.errors import GoalflowError
from service.org import service as org

bp = Blueprint("web", __name__)


MAX_REDIRECT_LENGTH = 2000


def same_site_path(target: str) -> str | None:
    """`target` when it can only lead to a page of this site, else None.

    Browsers are forgiving: they drop tabs and line breaks inside a URL, read a backslash as a slash
    and `//host` or `scheme:` as another site. Only a plain absolute path with none of that is taken,
    and it must stay one after another round of percent-decoding (in case something decodes it
    again). Control characters never reach a Location header.
    """
    if not target or len(target) > MAX_REDIRECT_LENGTH:
        return None
    for form in (target, unquote(target)):
        if "\\" in form or any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in form):
            return None
        if not form.startswith("/") or form.startswith("//"):
            return None
        parts = urlsplit(form)
        if parts.scheme or parts.netloc:
            return None
    return target


def safe_next(default: str) -> str:
    """The client's ?next= (or form field) when it is a path of this site, else `default`."""
    return same_site_path(request.values.get("next", "")) or default


@bp.get("/lang/<code>")
def set_language(code: str):
    if code not in ("bg", "en"):
        raise GoalflowError("not_found")
    session["lang"] = code
    back, host = request.referrer or "", request.host_url
    path = same_site_path("/" + back[len(host):]) if back.startswith(host) else None
    return redirect(path or url_for("web.home"))


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

