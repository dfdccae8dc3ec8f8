"""Logs as JSON lines with a request id, and Prometheus metrics at /metrics.

The request id comes from an incoming ``X-Request-ID`` header (or is made up), is echoed in
the response, is written on every log line, and travels with the Celery tasks the request
publishes (a message header set in ``before_task_publish``, restored in ``task_prerun``).

Counters live in prometheus-client's multiprocess files when PROMETHEUS_MULTIPROC_DIR is set
(gunicorn and Celery fork several processes; each service gets its own empty directory). The
outbox gauges are computed on every scrape with a COUNT query, so they are right whichever
process delivered the mail.
"""

from __future__ import annotations

import hmac
import logging
import os
import re
import sys
import time
import uuid
from contextvars import ContextVar
from datetime import datetime
from pathlib import Path
from typing import Any

# An empty PROMETHEUS_MULTIPROC_DIR means "unset" to Settings, but prometheus-client would take it as
# the current directory and litter it with counter files: drop it before the library reads it.
if os.environ.get("PROMETHEUS_MULTIPROC_DIR") == "":
    del os.environ["PROMETHEUS_MULTIPROC_DIR"]

from celery import signals as celery_signals
from flask import Blueprint, Flask, Response, abort, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client import REGISTRY as DEFAULT_REGISTRY
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from pythonjsonlogger.json import JsonFormatter
from sqlalchemy import event, func, inspect, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from service.config import Settings

log = logging.getLogger(__name__)

REQUEST_ID_HEADER = "X-Request-ID"
TASK_HEADER = "goalflow_request_id"  # the Celery message header that carries the request id
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,128}$")  # anything else is replaced, not logged
_HANDLER_NAME = "goalflow"
# Chatter at INFO, no use in production logs: weasyprint's progress, and the `transitions` library's
# lines on every fire of a state machine (several per transition, each formatted and written).
QUIET_LOGGERS = ("weasyprint", "fontTools", "transitions")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"

request_id_var: ContextVar[str] = ContextVar("request_id", default="")
_task_tokens: dict[str, Any] = {}
_installed: dict[str, Settings] = {}  # the settings of the app this process serves (Celery signals)

HTTP_REQUESTS = Counter(
    "goalflow_http_requests_total", "HTTP requests answered", ["method", "endpoint", "status"]
)
HTTP_LATENCY = Histogram(
    "goalflow_http_request_duration_seconds", "Time to answer an HTTP request", ["method", "endpoint"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
TRANSITIONS = Counter(
    "goalflow_transitions_applied_total", "Workflow transitions applied (state changed)",
    ["subject_type", "transition"],
)
NOTIFICATIONS = Counter(
    "goalflow_notifications_total", "Outbox messages by delivery outcome (sent, failed for good, retried)",
    ["outcome"],
)


def new_request_id() -> str:
    return uuid.uuid4().hex


def current_request_id() -> str:
    return request_id_var.get()


# -- logging ---------------------------------------------------------------------------------


class RequestIdFilter(logging.Filter):
    """Puts the current request id on every record, so formatters can print it."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


def json_formatter() -> logging.Formatter:
    return JsonFormatter(
        ["levelname", "name", "message", "request_id"],
        rename_fields={"levelname": "level", "name": "logger"},
        timestamp="time",
        json_ensure_ascii=False,
    )


def make_formatter(log_format: str) -> logging.Formatter:
    return json_formatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)


def configure_logging(settings: Settings) -> None:
    """One handler on the root logger, JSON or text; calling it again replaces it."""
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(make_formatter(settings.LOG_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        # In JSON mode the root logger is ours alone: a second plain handler would break the lines.
        if old.get_name() == _HANDLER_NAME or settings.LOG_FORMAT == "json":
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.LOG_LEVEL.upper())
    if settings.LOG_FORMAT == "json":
        logging.captureWarnings(True)  # Python's warnings as log lines too, not loose text on stderr
    for chatty in QUIET_LOGGERS:
        logging.getLogger(chatty).setLevel(logging.WARNING)


def gunicorn_logconfig(settings: Settings) -> dict:
    """gunicorn's `logconfig_dict`: its own loggers in the same format as the application's."""
    formatter = (
        {"()": f"{__name__}.json_formatter"}
        if settings.LOG_FORMAT == "json"
        else {"format": TEXT_FORMAT}
    )
    stream = {"class": "logging.StreamHandler", "formatter": "main", "filters": ["request_id"],
              "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": f"{__name__}.RequestIdFilter"}},
        "formatters": {"main": formatter},
        "handlers": {"console": stream, "error_console": stream},
        "root": {"level": settings.LOG_LEVEL.upper(), "handlers": ["console"]},
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": ["error_console"], "propagate": False},
            # The application logs each request itself, with its request id and duration.
            "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": False},
        },
    }


# -- requests --------------------------------------------------------------------------------


def _begin_request() -> None:
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = incoming if _SAFE_ID.match(incoming) else new_request_id()
    g.request_id_token = request_id_var.set(g.request_id)
    g.request_started = time.perf_counter()


def _finish_request(response: Response) -> Response:
    # A before_request handler that aborted early (CSRF) may have run before ours.
    rid = g.get("request_id") or new_request_id()
    response.headers[REQUEST_ID_HEADER] = rid
    elapsed = time.perf_counter() - g.get("request_started", time.perf_counter())
    endpoint = request.url_rule.rule if request.url_rule is not None else "unmatched"
    HTTP_REQUESTS.labels(request.method, endpoint, str(response.status_code)).inc()
    HTTP_LATENCY.labels(request.method, endpoint).observe(elapsed)
    logging.getLogger("goalflow.request").info(
        "%s %s %s", request.method, request.path, response.status_code,
        extra={"method": request.method, "path": request.path, "status": response.status_code,
               "duration_ms": round(elapsed * 1000, 1), "request_id": rid, "address": request.remote_addr},
    )
    return response


def _end_request(_exc: BaseException | None) -> None:
    token = g.pop("request_id_token", None)
    if token is not None:
        request_id_var.reset(token)


# -- metrics ---------------------------------------------------------------------------------


class OutboxCollector:
    """The outbox as the database sees it, counted when Prometheus asks."""

    def collect(self):
        from service.extensions import db
        from service.notifications.models import PENDING, Notification

        try:
            rows = db.session.execute(
                select(Notification.status, func.count(), func.min(Notification.created_at))
                .group_by(Notification.status)
            ).all()
        except SQLAlchemyError as exc:  # a scrape while the database is down must still answer
            db.session.rollback()
            log.warning("outbox metrics unavailable: %s", type(exc).__name__)
            return
        by_status = GaugeMetricFamily("goalflow_outbox_messages", "Outbox messages by status", labels=["status"])
        backlog, oldest = 0, None
        for status, count, first in rows:
            by_status.add_metric([status], count)
            if status == PENDING:
                backlog, oldest = count, first
        yield by_status
        yield GaugeMetricFamily("goalflow_outbox_backlog", "Messages waiting to be delivered", value=backlog)
        age = (datetime.now(oldest.tzinfo) - oldest).total_seconds() if oldest else 0.0
        yield GaugeMetricFamily(
            "goalflow_outbox_oldest_pending_seconds", "Age of the oldest undelivered message", value=max(age, 0.0)
        )


def process_metrics(settings: Settings) -> bytes:
    """The counters of this process, or of all processes sharing the multiprocess directory."""
    if settings.PROMETHEUS_MULTIPROC_DIR:
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=settings.PROMETHEUS_MULTIPROC_DIR)
        return generate_latest(registry)
    return generate_latest(DEFAULT_REGISTRY)


def _outbox_metrics(settings: Settings) -> bytes:
    """The gauges read when Prometheus asks: the outbox, and the scheduler's heartbeat."""
    from service.health import SchedulerCollector

    registry = CollectorRegistry(auto_describe=False)
    registry.register(OutboxCollector())
    registry.register(SchedulerCollector(settings))
    return generate_latest(registry)


bp = Blueprint("observability", __name__)


@bp.get("/metrics")
def metrics() -> Response:
    settings: Settings = current_app.config["GOALFLOW"]
    if settings.METRICS_TOKEN:
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {settings.METRICS_TOKEN}".encode()):
            abort(401)
    body = process_metrics(settings) + _outbox_metrics(settings)
    return Response(body, mimetype=CONTENT_TYPE_LATEST)


# -- transitions and deliveries, counted when their transaction commits ------------------------

_PENDING_KEY = "goalflow_metrics"


@event.listens_for(Session, "after_flush")
def _note_changes(session: Session, _flush_context) -> None:
    from service.audit.models import Event
    from service.notifications.models import FAILED, PENDING, SENT, Notification

    noted = session.info.setdefault(_PENDING_KEY, [])
    note_events(session, [obj for obj in session.new if isinstance(obj, Event)])
    for obj in session.dirty:
        if not isinstance(obj, Notification):
            continue
        # Claims are bulk UPDATEs (not seen here); each outcome is set on the row itself.
        if inspect(obj).attrs.status.history.added:
            outcome = {SENT: "sent", FAILED: "failed", PENDING: "retried"}.get(obj.status)
            if outcome:
                noted.append((NOTIFICATIONS, (outcome,)))


def note_events(session: Session, events) -> None:
    """Transitions among audit events being written, counted when their transaction commits. The
    unit of work's events are seen at flush; those the audit writes itself (one statement with its
    chain's head, on PostgreSQL) are handed over here before they leave the session."""
    noted = session.info.setdefault(_PENDING_KEY, [])
    for event_ in events:
        if event_.action == "state_changed":
            noted.append((TRANSITIONS, (event_.subject_type, str((event_.after or {}).get("transition", "")))))


def count_deliveries(statuses: list[str]) -> None:
    """Delivery outcomes already committed (the outbox writes each in autocommit), counted now."""
    from service.notifications.models import FAILED, PENDING, SENT

    for status in statuses:
        outcome = {SENT: "sent", FAILED: "failed", PENDING: "retried"}.get(status)
        if outcome:
            NOTIFICATIONS.labels(outcome).inc()


@event.listens_for(Session, "after_commit")
def _count_committed(session: Session) -> None:
    for metric, labels in session.info.pop(_PENDING_KEY, []):
        metric.labels(*labels).inc()


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    session.info.pop(_PENDING_KEY, None)


# -- Celery: the request id travels with the task; JSON logs; a worker's own /metrics -----------


@celery_signals.before_task_publish.connect(weak=False, dispatch_uid="goalflow-request-id-out")
def _pass_request_id(headers: dict | None = None, **_: Any) -> None:
    rid = request_id_var.get()
    if rid and headers is not None:
        headers.setdefault(TASK_HEADER, rid)


@celery_signals.task_prerun.connect(weak=False, dispatch_uid="goalflow-request-id-in")
def _restore_request_id(task_id: str | None = None, task=None, **_: Any) -> None:
    incoming = getattr(task.request, TASK_HEADER, None) if task is not None else None
    # A task nobody's request caused (beat) is traced by its own id.
    _task_tokens[task_id or ""] = request_id_var.set(incoming or task_id or new_request_id())


@celery_signals.task_postrun.connect(weak=False, dispatch_uid="goalflow-request-id-done")
def _clear_request_id(task_id: str | None = None, **_: Any) -> None:
    token = _task_tokens.pop(task_id or "", None)
    if token is not None:
        request_id_var.reset(token)


def _settings() -> Settings:
    return _installed.get("settings") or Settings.from_env()


@celery_signals.setup_logging.connect(weak=False, dispatch_uid="goalflow-celery-logging")
def _celery_logging(**_: Any) -> None:
    """Connected, this replaces Celery's own log set-up: the worker logs like the web."""
    configure_logging(_settings())


@celery_signals.worker_ready.connect(weak=False, dispatch_uid="goalflow-worker-metrics")
def _serve_worker_metrics(**_: Any) -> None:
    settings = _settings()
    if settings.WORKER_METRICS_PORT <= 0:
        return
    from prometheus_client import start_http_server

    registry = DEFAULT_REGISTRY
    if settings.PROMETHEUS_MULTIPROC_DIR:
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=settings.PROMETHEUS_MULTIPROC_DIR)
    start_http_server(settings.WORKER_METRICS_PORT, registry=registry)
    log.info("worker metrics on port %s", settings.WORKER_METRICS_PORT)


# -- installation ----------------------------------------------------------------------------


def install(app: Flask, settings: Settings) -> None:
    """Request ids, request logs and metrics for one app; call it before other request hooks."""
    _installed["settings"] = settings
    if settings.PROMETHEUS_MULTIPROC_DIR:
        Path(settings.PROMETHEUS_MULTIPROC_DIR).mkdir(parents=True, exist_ok=True)
    if settings.LOG_FORMAT == "json":
        configure_logging(settings)
    app.before_request(_begin_request)
    app.after_request(_finish_request)
    app.teardown_request(_end_request)
    app.register_blueprint(bp)
