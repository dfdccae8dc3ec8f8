"""End to end: PostgreSQL, a private Redis, real `celery worker -B` processes and an SMTP sink.

The app fixture is replaced for this module: one fresh PostgreSQL database (migrated), Redis db 5
of a redis-server started here, and the sink. The worker runs at the real time; the sweep and
the opening of campaigns take `as_of`, so a quarter can pass in seconds.
"""

from __future__ import annotations

import io
import time
from datetime import date, datetime
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import time_machine
from sqlalchemy import select

from service.approvals import service as approvals
from service.extensions import db
from service.notifications import service as outbox
from service.notifications.models import Notification
from service.progress import service as progress
from service.progress.models import Campaign
from tests.conftest import (
    create_pg_database,
    drop_pg_database,
    pg_answers,
    service_missing,
    sqlalchemy_pg_url,
)
from tests.conftest import test_settings as make_settings
from tests.helpers import achieved_for
from tests.worker.processes import RedisServer, Worker, wait_until
from tests.worker.sink import Sink

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]
SOFIA = ZoneInfo("Europe/Sofia")


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory):
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def smtp():
    server = Sink().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def app(tmp_path_factory, redis_server, smtp):
    """This module's app: PostgreSQL, Redis and the sink, quick timings."""
    from flask_migrate import upgrade

    from service.app import create_app

    if not pg_answers():
        service_missing("PostgreSQL")
    name = create_pg_database()
    settings = make_settings(
        sqlalchemy_pg_url(name), tmp_path_factory.mktemp("var"),
        BROKER_URL=redis_server.url, MAIL_HOST="127.0.0.1", MAIL_PORT=smtp.port, MAIL_TIMEOUT_SECONDS=10,
        MAIL_CLAIM_SECONDS=3, MAIL_RETRY_BASE_SECONDS=1, MAIL_RETRY_MAX_SECONDS=2, OUTBOX_INTERVAL_SECONDS=1,
        SWEEP_INTERVAL_SECONDS=3600, OUTBOX_KICK=True,
    )
    application = create_app(settings)
    with application.app_context():
        upgrade()
    yield application
    with application.app_context():
        db.engine.dispose()
    drop_pg_database(name)


@pytest.fixture
def sink(smtp):
    smtp.clear()
    smtp.reply, smtp.delay = None, 0.0
    yield smtp


class Workers:
    """One worker shared by the module's tests; a test that kills it gets a new one."""

    def __init__(self, app, directory):
        self.settings, self.directory, self.current = app.config["GOALFLOW"], directory, None

    def running(self) -> Worker:
        if self.current is None or self.current.process.poll() is not None:
            self.current = Worker(self.settings, self.directory).wait_ready()
        return self.current


@pytest.fixture(scope="module")
def workers(app, tmp_path_factory):
    pool = Workers(app, tmp_path_factory.mktemp("workers"))
    yield pool
    if pool.current is not None:
        pool.current.stop()


@pytest.fixture
def worker(workers) -> Worker:
    return workers.running()


def kinds(messages) -> list[str]:
    return sorted(m["X-Goalflow-Kind"] for m in messages)


def all_sent() -> bool:
    db.session.rollback()  # see the worker's commits
    return db.session.scalar(select(db.func.count()).select_from(Notification).where(Notification.status != "sent")) == 0


def test_an_approval_reaches_the_approvers_through_the_worker(world, sink, worker):
    approvals.request_transition(
        actor=world.expert_a, subject_type="goal", subject_id=world.g_ab.id, transition="complete",
        data=achieved_for(world.g_ab),
    )
    messages = sink.wait_for(2, timeout=20)
    assert sorted(m["To"] for m in messages) == ["head_a@test.bg", "head_b@test.bg"]
    assert messages[0].get_content_type() == "multipart/alternative"
    wait_until(all_sent, 10, what="the rows to be marked sent")
    time.sleep(2)  # beat keeps running: nothing goes out twice
    assert len(sink.messages) == 2


def test_with_redis_down_approvals_succeed_at_once_and_their_mail_follows(world, sink, worker, redis_server, client):
    redis_server.stop()
    try:
        started = time.monotonic()
        request = approvals.request_transition(
            actor=world.expert_b, subject_type="goal", subject_id=world.g_b.id, transition="start",
        )
        approvals.decide(actor=world.head_b, request_id=request.id, verdict="approve")
        assert time.monotonic() - started < 2.0
        assert request.status == "approved"
        started = time.monotonic()
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.json["checks"]["broker"] != "ok"
        assert time.monotonic() - started < 3.0  # the readiness probe does not hang on a dead broker
        time.sleep(1)
        assert sink.messages == []  # nothing can reach the worker
    finally:
        redis_server.start()
    messages = sink.wait_for(4, timeout=60)
    assert sorted((m["To"], m["X-Goalflow-Kind"]) for m in messages) == [
        ("expert_b@test.bg", "goal_state_changed"), ("expert_b@test.bg", "request_decided"),
        ("head_b@test.bg", "approval_needed"), ("head_b@test.bg", "goal_state_changed"),
    ]
    wait_until(all_sent, 20, what="every row to be sent")
    assert client.get("/readyz").status_code == 200


def test_a_worker_killed_during_delivery_loses_no_message(world, sink, worker, workers):
    sink.delay = 0.7  # the server takes its time over each message
    notes = []
    for i in range(6):
        notes.append(
            outbox.enqueue(
                kind="goal_state_changed", recipient=world.expert_a, subject_type="goal", subject_id=world.g_a.id,
                params={"number": 1, "title": "Цел 1", "before": "a", "state": "b"}, path="/", due_moment=f"kill:{i}",
            )
        )
    db.session.commit()  # the nudge starts delivery
    sink.wait_for(2, timeout=20)
    worker.kill()  # in the middle of the third message
    db.session.rollback()
    in_flight = db.session.scalar(
        select(db.func.count()).select_from(Notification).where(Notification.status == "sending")
    )
    assert in_flight >= 1  # claimed by the dead worker, not sent
    workers.running()  # a new worker takes them over once the dead one's claim expires
    wait_until(all_sent, 60, what="every message to be sent")
    message_ids = [m["Message-ID"] for m in sink.messages]
    assert set(message_ids) == {f"<{n.key[:40]}@goalflow.local>" for n in notes}
    # at most the one message the server was accepting when the worker died arrives twice
    assert len(message_ids) - len(set(message_ids)) <= 1


def test_a_quarter_from_opening_through_reminders_to_the_governors_summary(world, sink, worker, app):
    log_start = len(worker.output())
    celery = app.extensions["celery"]

    def as_of(day: date) -> str:
        return datetime(day.year, day.month, day.day, 9, 0, tzinfo=SOFIA).isoformat()

    def run(task: str, day: date, expect: int) -> list:
        before = len(sink.messages)
        celery.send_task(task, kwargs={"as_of": as_of(day)})
        return sink.wait_for(before + expect, timeout=30)[before:]

    opened = run("goalflow.open_due_campaigns", date(2023, 4, 3), 4)
    assert kinds(opened) == ["campaign_opened"] * 4
    campaign = db.session.scalar(select(Campaign))
    assert campaign.quarter == 1 and campaign.due_on == date(2023, 4, 19)

    def act(day: date, actor, action, report, **data):
        with time_machine.travel(datetime(day.year, day.month, day.day, 10, 0, tzinfo=SOFIA)):
            return action(actor=actor, report_id=report.id, **data)

    reports = {(r.goal_id, r.unit_id): r for r in campaign.reports}
    for goal in (world.g_a, world.g_ab):  # unit a reports in time
        report = reports[(goal.id, world.a.id)]
        act(date(2023, 4, 10), world.expert_a, progress.submit_report, report, achieved=achieved_for(goal)["achieved"])
        act(date(2023, 4, 11), world.head_a, progress.accept_report, report)
    assert kinds(sink.wait_for(6, timeout=20)[4:]) == ["report_submitted"] * 2

    assert kinds(run("goalflow.sweep", date(2023, 4, 16), 2)) == ["campaign_reminder"] * 2  # unit b only
    assert kinds(run("goalflow.sweep", date(2023, 4, 19), 2)) == ["campaign_reminder"] * 2
    late = run("goalflow.sweep", date(2023, 4, 21), 3)
    assert kinds(late) == ["campaign_escalated", "campaign_reminder", "campaign_reminder"]
    before = len(sink.messages)
    again = celery.send_task("goalflow.sweep", kwargs={"as_of": as_of(date(2023, 4, 21))})  # again: nothing new
    # It has run before unit b reports on the 24th (a submitted report waiting for review would be due a reminder then).
    wait_until(lambda: f"{again.id}] succeeded" in worker.output(), 30, what="the repeated sweep to finish")

    for goal in (world.g_ab, world.g_b):  # unit b catches up; the last acceptance closes the campaign
        report = reports[(goal.id, world.b.id)]
        act(date(2023, 4, 24), world.expert_b, progress.submit_report, report,
            achieved=achieved_for(goal, "0")["achieved"], risk="at_risk", narrative="Закъснение")
        act(date(2023, 4, 24), world.head_b, progress.accept_report, report)
    messages = sink.wait_for(before + 4, timeout=30)[before:]
    assert kinds(messages) == ["quarter_summary", "quarter_summary", "report_submitted", "report_submitted"]
    summaries = {m["To"]: m for m in messages if m["X-Goalflow-Kind"] == "quarter_summary"}
    assert set(summaries) == {"governor@test.bg", "secretary@test.bg"}
    summary = summaries["governor@test.bg"]
    assert "приети отчети: 4 от 4" in summary.get_body(("plain",)).get_content()
    assert f'href="http://127.0.0.1:5000/progress/campaigns/{campaign.id}"' in summary.get_body(("html",)).get_content()
    (attachment,) = list(summary.iter_attachments())
    assert attachment.get_filename() == "goals-2023-Q1-bg.xlsx"
    sheet = openpyxl.load_workbook(io.BytesIO(attachment.get_content())).active
    rows = {r[0]: r for r in sheet.iter_rows(min_row=4, values_only=True) if isinstance(r[0], int)}
    assert set(rows) == {1, 2, 3} and rows[3][5] == "в риск"
    time.sleep(1.5)
    assert len(sink.messages) == before + 4  # the repeated sweep sent nothing
    assert "Traceback" not in worker.output()[log_start:]
