"""Flask-Login wiring: cookie sessions carry the user's session generation; bearer tokens for programs."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, g, session
from flask_login import current_user, logout_user

from service.auth.service import user_for_token
from service.db import utcnow
from service.extensions import db, login_manager
from service.kernel.common import settings
from service.org.models import User

LOGIN_AT = "login_at"


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    user_id, _, generation = session_id.partition(":")
    if not user_id.isdigit() or not generation.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or user.session_generation != int(generation):
        return None  # logged out everywhere or password changed: this cookie is dead
    return user


@login_manager.request_loader
def load_user_from_token(req) -> User | None:
    header = req.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    user = user_for_token(header[7:].strip())
    if user is not None:
        g.token_auth = True
    return user


def via_token() -> bool:
    return bool(g.get("token_auth"))


def mark_login() -> None:
    session[LOGIN_AT] = utcnow().isoformat()


def is_fresh() -> bool:
    """Signing off needs a login within the last FRESH_LOGIN_MINUTES (tokens never count as fresh)."""
    from datetime import datetime

    if via_token() or LOGIN_AT not in session:
        return False
    at = datetime.fromisoformat(session[LOGIN_AT])
    return utcnow() - at <= timedelta(minutes=settings().FRESH_LOGIN_MINUTES)


def sign_out() -> None:
    """End this browser session for good.

    The session lives in a signed cookie on the client, so forgetting it here is not enough: a copy
    replayed later would still be valid. Moving the person's session generation on makes every
    cookie issued before dead (their other browsers sign in again too).
    """
    from service.org.service import end_sessions

    if current_user.is_authenticated and not via_token():
        end_sessions(user=current_user._get_current_object())
    logout_user()


def forget_previous_request() -> None:
    """Who calls, and in which language, is decided anew for every request.

    Flask-Login keeps the user on `g`, Flask-WTF the CSRF token it derived from the session and
    Flask-Babel the locale; `g` lives as long as the app context, and where one context serves
    several requests (tests, a CLI driving the app) nothing of a previous caller may carry over.
    """
    for name in ("_login_user", "token_auth", "_flask_babel", current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")):
        g.pop(name, None)
