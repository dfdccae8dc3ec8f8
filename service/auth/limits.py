"""Sign-in attempts are limited per account and per address, on every endpoint that checks a password.

Only failures count (a 401 answer): someone who types the password right is never slowed down.
The counters are shared by the web form and the API's token endpoint, so alternating between
them gives an attacker nothing. Past the limit the answer is 429 until the window moves on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Flask, Response, request
from flask_limiter.util import get_remote_address
from flask_login import current_user

from service.common import settings
from service.config import Settings
from service.extensions import limiter

log = logging.getLogger(__name__)


def init_limiter(app: Flask, config: Settings) -> None:
    # Several web processes must share one count: Redis in production, this process's memory when embedded.
    shared = config.REDIS_URL and not config.embedded
    if not config.embedded and not config.REDIS_URL:
        log.warning("REDIS_URL is not set: each web process counts failed sign-ins on its own")
    app.config["RATELIMIT_STORAGE_URI"] = config.REDIS_URL if shared else "memory://"
    app.config["RATELIMIT_KEY_PREFIX"] = "goalflow"
    # Redis down must not turn every sign-in into a 500: count in memory until it is back.
    app.config["RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"] = True
    limiter.init_app(app)


def _failed(response: Response) -> bool:
    return response.status_code == 401


def account_key() -> str:
    """The account being tried: the form's or the JSON body's email, else the signed-in person."""
    email = request.form.get("email") if request.form else None
    if email is None and request.is_json:
        body = request.get_json(silent=True)
        email = body.get("email") if isinstance(body, dict) else None
    if email is None and current_user.is_authenticated:
        email = current_user.email
    return str(email or "").strip().lower()[:254]


def _limit() -> str:
    return settings().LOGIN_RATE_LIMIT


def login_limits(view: Callable) -> Callable:
    """Decorate a view that checks a password: both counters, shared with every other such view."""
    view = limiter.shared_limit(_limit, scope="login-address", key_func=get_remote_address, deduct_when=_failed)(view)
    return limiter.shared_limit(_limit, scope="login-account", key_func=account_key, deduct_when=_failed)(view)
