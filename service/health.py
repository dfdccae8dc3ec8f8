"""Liveness and readiness."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from service.extensions import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


def _broker_ok() -> tuple[bool, str]:
    celery = current_app.extensions.get("celery")
    if celery is None:
        return False, "no broker configured"
    try:
        with celery.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return True, "ok"
    except Exception as exc:  # any failure to connect means "not ready"
        return False, f"{type(exc).__name__}: {exc}"[:200]


@bp.get("/readyz")
def readyz():
    checks = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:
        db.session.rollback()
        checks["database"] = f"{type(exc).__name__}"
    ok, detail = _broker_ok()
    checks["broker"] = detail
    ready = checks["database"] == "ok" and ok
    return jsonify(status="ready" if ready else "not ready", checks=checks), 200 if ready else 503
