"""Request ids, JSON log lines, and the Prometheus metrics at /metrics."""

from __future__ import annotations

import io
import json
import logging
import logging.config
import threading

import pytest
from celery import Celery
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from service import observability
from service.approvals import service as approvals
from service.extensions import db
from service.notifications.models import PENDING, SENT, Notification
from tests.helpers import achieved_for


def scrape(client, **headers) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.data
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for sample in family.samples
    }


def counter(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_the_request_id_is_taken_echoed_or_made_up(client):
    given = client.get("/healthz", headers={"X-Request-ID": "req-42.a:b"})
    assert given.headers["X-Request-ID"] == "req-42.a:b"
    made = {client.get("/healthz").headers["X-Request-ID"] for _ in range(2)}
    assert len(made) == 2 and all(len(rid) == 32 for rid in made)
    for hostile in ("a b", "x" * 200, "line\u2028break", "<script>"):
        echoed = client.get("/healthz", headers={"X-Request-ID": hostile}).headers["X-Request-ID"]
        assert echoed != hostile and len(echoed) == 32


def test_a_refused_request_still_gets_an_id_and_is_counted(client):
    before = counter("goalflow_http_requests_total", method="GET", endpoint="unmatched", status="404")
    response = client.get("/no/such/page", headers={"X-Request-ID": "lost-1"})
    assert response.status_code == 404 and response.headers["X-Request-ID"] == "lost-1"
    assert counter("goalflow_http_requests_total", method="GET", endpoint="unmatched", status="404") == before + 1


def test_log_lines_are_json_with_the_request_id(client):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(observability.RequestIdFilter())
    handler.setFormatter(observability.json_formatter())
    logger = logging.getLogger("goalflow.request")
    logger.addHandler(handler)
    old = logger.level, logger.disabled
    # Alembic's fileConfig (the migrations of another test app in this process) disables loggers.
    logger.setLevel(logging.INFO)
    logger.disabled = False
    try:
        client.get("/healthz", headers={"X-Request-ID": "json-line-1"})
    finally:
        logger.removeHandler(handler)
        logger.level, logger.disabled = old
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert len(lines) == 1
    line = lines[0]
    assert line["request_id"] == "json-line-1"
    assert (line["level"], line["logger"], line["path"], line["status"]) == ("INFO", "goalflow.request", "/healthz", 200)
    assert line["duration_ms"] >= 0 and line["time"].endswith("+00:00")


def test_metrics_count_requests_and_time_them(client):
    client.get("/healthz")
    samples = scrape(client)
    labels = (("endpoint", "/healthz"), ("method", "GET"), ("status", "200"))
    assert samples[("goalflow_http_requests_total", labels)] >= 1
    count = samples[("goalflow_http_request_duration_seconds_count", (("endpoint", "/healthz"), ("method", "GET")))]
    assert count >= 1


def test_metrics_need_the_token_when_one_is_set(client, monkeypatch):
    monkeypatch.setattr(client.application.config["GOALFLOW"], "METRICS_TOKEN", "scrape-secret")
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert scrape(client, Authorization="Bearer scrape-secret")


def test_transitions_and_the_outbox_are_counted(world, client):
    applied = counter("goalflow_transitions_applied_total", subject_type="goal", transition="complete")
    req = approvals.request_transition(
        actor=world.expert_a, subject_type="goal", subject_id=world.g_a.id, transition="complete",
        data=achieved_for(world.g_a),
    )
    approvals.decide(actor=world.head_a, request_id=req.id, verdict="approve")
    assert counter("goalflow_transitions_applied_total", subject_type="goal", transition="complete") == applied
    approvals.decide(actor=world.governor, request_id=req.id, verdict="approve")
    assert world.g_a.state == "done"
    assert counter("goalflow_transitions_applied_total", subject_type="goal", transition="complete") == applied + 1

    pending = db.session.scalar(db.select(db.func.count()).where(Notification.status == PENDING))
    assert pending >= 3  # the heads, then the governor, then the requester and the unit were told
    samples = scrape(client)
    assert samples[("goalflow_outbox_backlog", ())] == pending
    assert samples[("goalflow_outbox_messages", (("status", "pending"),))] == pending
    assert samples[("goalflow_outbox_oldest_pending_seconds", ())] >= 0

    sent = counter("goalflow_notifications_total", outcome="sent")
    note = db.session.scalars(db.select(Notification).where(Notification.status == PENDING)).first()
    note.status = SENT
    db.session.flush()
    db.session.rollback()  # a delivery that did not commit did not happen
    assert counter("goalflow_notifications_total", outcome="sent") == sent
    note = db.session.get(Notification, note.id)
    note.status = SENT
    db.session.commit()
    assert counter("goalflow_notifications_total", outcome="sent") == sent + 1
    samples = scrape(client)
    assert samples[("goalflow_outbox_backlog", ())] == pending - 1
    assert samples[("goalflow_outbox_messages", (("status", "sent"),))] == 1


def test_the_request_id_travels_with_the_tasks_a_request_publishes():
    """A real publish through a broker and a real worker: the id goes in a message header."""
    from celery.contrib.testing.worker import start_worker

    celery = Celery("request-id-test", broker="memory://", backend="cache+memory://", set_as_current=False)
    celery.conf.update(task_always_eager=False, worker_hijack_root_logger=False)
    seen: list[str] = []
    done = threading.Event()

    @celery.task(name="test.remember_request_id")
    def remember() -> None:
        seen.append(observability.current_request_id())
        done.set()

    root = logging.getLogger()
    saved = list(root.handlers), root.level  # the worker sets logging up (our setup_logging handler)
    try:
        with start_worker(celery, perform_ping_check=False, pool="solo", loglevel="WARNING"):
            token = observability.request_id_var.set("from-the-request-7")
            try:
                remember.delay()
            finally:
                observability.request_id_var.reset(token)
            assert done.wait(20)
            done.clear()
            remember.delay()  # published outside any request: traced by its own task id
            assert done.wait(20)
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    assert seen[0] == "from-the-request-7"
    assert seen[1] not in ("", "from-the-request-7")
    assert observability.current_request_id() == ""


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_gunicorn_logs_like_the_application(log_format):
    from service.config import Settings

    config = observability.gunicorn_logconfig(Settings(LOG_FORMAT=log_format))
    assert config["handlers"]["error_console"]["filters"] == ["request_id"]
    assert config["loggers"]["gunicorn.access"]["handlers"] == []  # the app logs requests itself
    formatter = logging.config.DictConfigurator(config).configure_formatter(config["formatters"]["main"])
    record = logging.LogRecord("gunicorn.error", logging.INFO, __file__, 1, "Booting worker", None, None)
    observability.RequestIdFilter().filter(record)
    out = formatter.format(record)
    if log_format == "json":
        assert json.loads(out)["message"] == "Booting worker"
    else:
        assert "Booting worker" in out and "INFO" in out


def test_an_empty_multiprocess_dir_setting_leaves_no_files_behind(tmp_path):
    """Empty means unset, as for every setting; prometheus-client alone would write into the cwd."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    code = "from service import observability as o; o.HTTP_REQUESTS.labels('GET', '/', '200').inc(); print('ok')"
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": "", "PYTHONPATH": str(root)}
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.stdout.strip() == "ok", result.stderr
    assert list(tmp_path.iterdir()) == []
