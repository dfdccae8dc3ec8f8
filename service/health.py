"""Liveness, readiness and the scheduler's heartbeat.

The beat that holds the scheduler lock writes a heartbeat to Redis (REDIS_URL) on every pass of
its loop (worker/beat.py): the time and which beat. `/healthz/scheduler` answers 503 once it is
older than SCHEDULER_STALE_SECONDS (or missing, or unreadable), and /metrics carries its age as
`goalflow_scheduler_heartbeat_age_seconds`, for an alert on "no beat for N seconds".
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from dataclasses import dataclass
from functools import lru_cache

from flask import Blueprint, current_app, jsonify
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import text

from service.config import Settings
from service.extensions import db
from service.kernel.authz import count_conflicting_accounts

bp = Blueprint("health", __name__)

SCHEDULER_HEARTBEAT_KEY = "goalflow:scheduler:heartbeat"


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
    if checks["database"] == "ok":
        checks["separation_of_duties"] = _duties()
    ready = checks["database"] == "ok" and ok
    return jsonify(status="ready" if ready else "not ready", checks=checks), 200 if ready else 503


def _duties() -> str:
    """A warning, never a failure: accounts holding a deciding role beside the administrator's
    are for an administrator to fix (the people page, `flask conflicting-roles`); the app serves on."""
    try:
        count = count_conflicting_accounts()
    except Exception as exc:  # a probe answers; it does not fail on a query
        db.session.rollback()
        return f"unknown: {type(exc).__name__}"
    if not count:
        return "ok"
    # The probe answers anyone: it says that, not how many or who (the CLI and the people page do).
    return "warning: accounts hold a deciding role and the administrator role (flask conflicting-roles)"


def warn_of_conflicting_roles(application) -> int:
    """At start-up (service/wsgi.py): accounts that hold a deciding role beside the administrator's
    (given before the rule, or written by hand) are named in the log until one of the roles goes."""
    log = logging.getLogger("goalflow.duties")
    try:
        with application.app_context():
            count = count_conflicting_accounts()
    except Exception as exc:  # the database may not answer yet: the app starts all the same
        log.warning("separation of duties not checked at start-up: %s", type(exc).__name__)
        return 0
    if count:
        log.warning(
            "separation of duties: %d account(s) hold a deciding role and the administrator role; "
            "see `flask conflicting-roles` or the people page", count,
        )
    return count


# -- the scheduler's heartbeat ----------------------------------------------------------------


@lru_cache(maxsize=4)
def _redis(url: str):
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    # A Redis that is down fails the probe within two seconds (no retries): it never hangs on it.
    return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2, retry=Retry(NoBackoff(), 0))


def beat_identity() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def write_scheduler_heartbeat(client, holder: str) -> None:
    """Called by the beat holding the lock, on every pass of its loop."""
    client.set(SCHEDULER_HEARTBEAT_KEY, json.dumps({"at": time.time(), "beat": holder}))


@dataclass
class Heartbeat:
    status: str  # ok | stale | missing | unknown (Redis did not answer) | unmonitored (no Redis)
    age: float | None = None  # seconds
    beat: str = ""
    error: str = ""


def scheduler_heartbeat(settings: Settings) -> Heartbeat:
    if not settings.REDIS_URL:  # the embedded mode: beat runs inside the one worker
        return Heartbeat("unmonitored")
    try:
        raw = _redis(settings.REDIS_URL).get(SCHEDULER_HEARTBEAT_KEY)
    except Exception as exc:  # any Redis failure: the heartbeat cannot be read
        return Heartbeat("unknown", error=f"{type(exc).__name__}: {exc}"[:200])
    if raw is None:
        return Heartbeat("missing")
    try:
        record = json.loads(raw)
        age = max(time.time() - float(record["at"]), 0.0)
    except (ValueError, KeyError, TypeError):
        return Heartbeat("missing", error="unreadable heartbeat")
    status = "ok" if age <= settings.SCHEDULER_STALE_SECONDS else "stale"
    return Heartbeat(status, round(age, 1), str(record.get("beat", "")))


@bp.get("/healthz/scheduler")
def scheduler():
    beat = scheduler_heartbeat(current_app.config["GOALFLOW"])
    body = {"status": beat.status, "age_seconds": beat.age, "beat": beat.beat}
    if beat.error:
        body["error"] = beat.error
    return jsonify(body), 200 if beat.status in ("ok", "unmonitored") else 503


class SchedulerCollector:
    """`goalflow_scheduler_heartbeat_age_seconds`, read when Prometheus asks. No sample when
    there is no heartbeat to read: alert on `absent(...)` as well as on its value."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def collect(self):
        beat = scheduler_heartbeat(self.settings)
        if beat.age is not None:
            yield GaugeMetricFamily("goalflow_scheduler_heartbeat_age_seconds",
                                    "Seconds since the scheduler (beat) last renewed its heartbeat", value=beat.age)
