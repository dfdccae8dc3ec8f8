"""Errors as HTTP answers: problem documents (RFC 9457) for the API, pages for people."""

from __future__ import annotations

import json
import logging

from flask import Flask, jsonify, render_template, request, session
from flask_babel import get_locale
from werkzeug.exceptions import HTTPException

from service.extensions import db
from service.kernel.errors import PROBLEM_BASE, GoalflowError

log = logging.getLogger(__name__)


def reader_lang() -> str:
    """The reader's language, "bg" or "en": the app's locale selection (service/app.py), which for the
    API follows Accept-Language; Bulgarian by default and outside a request."""
    try:
        return str(get_locale() or "bg")[:2]
    except Exception:  # outside a request's locale context
        return "bg"


def wants_problem() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def problem(status: int, code: str, title: str, detail: str, fields: dict | None = None, **extra):
    body = {"type": PROBLEM_BASE + code, "title": title, "status": status, "detail": detail, "code": code}
    if fields:
        body["errors"] = fields
    body.update(extra)
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


# Statuses that mean the same as a domain error answer with the domain error's code and words.
SAME_AS_DOMAIN = {401: "unauthenticated", 403: "forbidden", 404: "not_found", 422: "invalid_input"}
KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")


def _field_messages(exc: HTTPException) -> dict | None:
    """webargs reports {location: {field: [messages]}}; clients want {field: [messages]}."""
    messages = (getattr(exc, "data", None) or {}).get("messages")
    if not isinstance(messages, dict):
        return None
    fields: dict = {}
    for location, found in messages.items():
        if isinstance(found, dict):
            for name, text in found.items():
                fields[name if name not in fields else f"{location}.{name}"] = text
        else:
            fields[location] = found
    return fields or None


def http_problem(exc: HTTPException):
    """Any HTTP error (routing, webargs validation, CSRF, size and rate limits) as a problem document."""
    from flask_wtf.csrf import CSRFError

    status = exc.code or 500
    code = SAME_AS_DOMAIN.get(status) or (exc.name or "error").lower().replace(" ", "_")
    detail = exc.description or exc.name
    if isinstance(exc, CSRFError):
        code = "csrf_failed"
    title = exc.name
    if code in SAME_AS_DOMAIN.values():
        title, detail = GoalflowError(code).message("en"), GoalflowError(code).message(reader_lang())
    response = problem(status, code, title, detail, _field_messages(exc))
    headers = dict(exc.get_headers())
    for name in KEPT_HEADERS:
        if headers.get(name):
            response.headers[name] = headers[name]
    if exc.response is not None:  # e.g. Flask-Limiter's 429 carries its own Retry-After
        for name in KEPT_HEADERS:
            if exc.response.headers.get(name):
                response.headers[name] = exc.response.headers[name]
    return response


def gunicorn_error(sock, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn's own error answer (a request line over its limit: 414, headers too large: 431, a
    malformed request: 400) as a problem document, like every other error; gunicorn.util.write_error's
    signature. The request never reached the app: there is no request id or language to use."""
    from gunicorn.util import write_nonblock

    code = SAME_AS_DOMAIN.get(status_int) or reason.lower().replace(" ", "_")
    body = json.dumps({"type": PROBLEM_BASE + code, "title": reason, "status": status_int, "detail": mesg,
                       "code": code}).encode("ascii")
    head = (f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\nContent-Type: application/problem+json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")
    write_nonblock(sock, head.encode("latin-1") + body)


def register(app: Flask) -> None:
    @app.after_request
    def keep_no_session_of_a_failure(response):
        # What a failed request put into the session (a sign-in half done) never reaches the browser.
        if response.status_code >= 500:
            session.modified = False
        return response

    @app.errorhandler(GoalflowError)
    def on_domain_error(exc: GoalflowError):
        db.session.rollback()
        if wants_problem():
            extra = {"current": exc.current} if exc.current is not None else {}
            response = problem(exc.status, exc.code, exc.message("en"), exc.message(reader_lang()), exc.fields, **extra)
            if exc.status == 401:
                response.headers["WWW-Authenticate"] = 'Bearer realm="goalflow"'  # RFC 6750: how to sign in
            return response
        return render_template("error.html", status=exc.status, message=exc.message(reader_lang()), fields=exc.fields), exc.status

    @app.errorhandler(HTTPException)
    def on_http_error(exc: HTTPException):
        if wants_problem():
            return http_problem(exc)
        kept = {name: value for name, value in exc.get_headers() if name in KEPT_HEADERS}  # Retry-After of a 429
        return render_template("error.html", status=exc.code, message=exc.description), exc.code, kept

    @app.errorhandler(Exception)
    def on_unexpected(exc: Exception):
        db.session.rollback()
        log.exception("unhandled error on %s %s", request.method, request.path)
        if wants_problem():
            return problem(500, "internal_error", "Internal Server Error", "An unexpected error occurred.")
        return render_template("error.html", status=500, message="Internal Server Error"), 500
