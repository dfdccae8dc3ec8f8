"""Errors as HTTP answers: problem documents (RFC 9457) for the API, pages for people."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask_babel import get_locale
from werkzeug.exceptions import HTTPException

from service.errors import PROBLEM_BASE, GoalflowError
from service.extensions import db

log = logging.getLogger(__name__)


def _lang() -> str:
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


def register(app: Flask) -> None:
    @app.errorhandler(GoalflowError)
    def on_domain_error(exc: GoalflowError):
        db.session.rollback()
        if wants_problem():
            return problem(exc.status, exc.code, exc.message("en"), exc.message(_lang()), exc.fields)
        return render_template("error.html", status=exc.status, message=exc.message(_lang()), fields=exc.fields), exc.status

    @app.errorhandler(HTTPException)
    def on_http_error(exc: HTTPException):
        if wants_problem():
            code = (exc.name or "error").lower().replace(" ", "_")
            fields = getattr(exc, "data", {}).get("messages") if hasattr(exc, "data") else None
            return problem(exc.code or 500, code, exc.name, exc.description or exc.name, fields)
        return render_template("error.html", status=exc.code, message=exc.description), exc.code

    @app.errorhandler(Exception)
    def on_unexpected(exc: Exception):
        db.session.rollback()
        log.exception("unhandled error on %s %s", request.method, request.path)
        if wants_problem():
            return problem(500, "internal_error", "Internal Server Error", "An unexpected error occurred.")
        return render_template("error.html", status=500, message="Internal Server Error"), 500
