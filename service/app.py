"""The application factory: extensions, blueprints, error handlers, CLI and Celery."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask, g, request, session
from flask.cli import FlaskGroup
from flask_babel import get_locale
from flask_login import current_user
from flask_talisman import Talisman
from werkzeug.middleware.proxy_fix import ProxyFix

from service import models  # noqa: F401 - every model registered before anything queries
from service.config import Settings
from service.extensions import babel, csrf, db, login_manager, migrate
from service.goals import amendments, report  # noqa: F401 - their workflow actions registered before a definition loads
from service.signatures import service as signatures  # noqa: F401 - the report's signature guard, likewise

log = logging.getLogger(__name__)
MIGRATIONS = str(Path(__file__).resolve().parent.parent / "migrations")


def select_locale() -> str:
    chosen = request.args.get("lang") or session.get("lang")
    if chosen in ("bg", "en"):
        return chosen
    if request.path.startswith("/api/") and request.accept_languages.best_match(["bg", "en"]):
        return request.accept_languages.best_match(["bg", "en"])  # a program says what it wants per call
    if current_user and getattr(current_user, "is_authenticated", False):
        return current_user.locale or "bg"
    return request.accept_languages.best_match(["bg", "en"], default="bg")


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    settings.check_safe()
    Path(settings.VAR_DIR).mkdir(parents=True, exist_ok=True)

    app = Flask(__name__)
    app.config.update(settings.flask_config())
    if settings.TRUSTED_PROXY_HOPS > 0:
        # The client's address as the nearest TRUSTED_PROXY_HOPS proxies saw it; anything a client
        # wrote into X-Forwarded-For itself lies further left and is ignored. Off, the header is ignored.
        hops = settings.TRUSTED_PROXY_HOPS
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False  # checked below, only for cookie-authenticated writes
    app.config["WTF_CSRF_TIME_LIMIT"] = None
    from service import observability

    observability.install(app, settings)  # first: its request hooks see every request, even refused ones

    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS, render_as_batch=True, compare_type=True)
    login_manager.init_app(app)
    from service.auth.login import forget_previous_request

    app.before_request(forget_previous_request)  # first of all: nobody is signed in until this request says so
    from service import http_inputs

    http_inputs.install(app)  # before the blueprints: their `<int:...>` paths take its bounded converter
    login_manager.login_view = "web.login"
    login_manager.session_protection = "basic"
    csrf.init_app(app)
    from service.auth.limits import init_limits

    init_limits(app)
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.globals["get_locale"] = get_locale
    Talisman(
        app,
        force_https=False,  # TLS ends at the proxy; HSTS below tells browsers to stay on https
        strict_transport_security=not settings.embedded,
        content_security_policy={"default-src": "'self'", "frame-ancestors": "'none'", "img-src": "'self' data:"},
        frame_options="DENY",
        session_cookie_secure=settings.SESSION_COOKIE_SECURE,
        session_cookie_http_only=True,
    )

    from service.auth import login as _login  # noqa: F401 - registers the user loaders

    @app.before_request
    def protect_cookie_writes():
        from service.auth.login import via_token

        if request.method in ("GET", "HEAD", "OPTIONS"):
            return None
        if request.path.startswith("/api/"):
            # The API authenticates a call that has an Authorization header by its token alone, never by
            # the cookie (service/api/common.py); with no signed-in session there is no ambient authority.
            if request.headers.get("Authorization") or not current_user.is_authenticated:
                return None
        elif via_token():
            return None  # bearer-token calls carry no ambient authority: no CSRF risk
        csrf.protect()
        return None

    from service import errors_http, health

    errors_http.register(app)
    app.register_blueprint(health.bp)
    _register_interfaces(app)

    from service.cli import register as register_cli
    from worker.cli import register as register_operations

    register_cli(app)  # the organisation, goals, documents, records
    register_operations(app)  # outbox, sweep, campaigns

    from worker.celery_app import celery_init_app

    celery_init_app(app)

    @app.teardown_appcontext
    def _forget_token(_exc):
        g.pop("token_auth", None)

    return app


def _register_interfaces(app: Flask) -> None:
    """Each interface registers itself here: web pages, the JSON API, the admin pages."""
    from service.api import init_api
    from service.web import bp as web_bp

    app.register_blueprint(web_bp)
    init_api(app)


def main() -> None:
    """The `goalflow` console script: the same commands as `flask --app service`."""
    FlaskGroup(create_app=lambda: create_app())(prog_name="goalflow")
