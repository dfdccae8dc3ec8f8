"""Mail delivery under faults, with real processes: two `celery worker -B` processes on a Redis of
this module's own, PostgreSQL, and an SMTP sink that counts Message-IDs and can tell which worker
is sending (by the client end of its connection). Short timings come from the settings.

- A worker killed with SIGKILL in the middle of a campaign: its claim returns within
  MAIL_CLAIM_SECONDS and the other worker delivers the rest; at most one message arrives twice.
- A worker told to stop (SIGTERM, a warm shutdown) in the middle of a slow batch: it finishes the
  message in hand, hands the rest back and exits; the other worker delivers them, each once.
"""

from __future__ import annotations

import os
import signal
import time
from collections import Counter

import pytest
from sqlalchemy import select

from service.config import Settings
from service.extensions import db
from service.notifications import service as outbox
from service.notifications.models import Notification
from tests.conftest import (
    create_pg_database,
    drop_pg_database,
    pg_answers,
    service_missing,
    sqlalchemy_pg_url,
)
from tests.conftest import test_settings as make_settings
from tests.worker.processes import RedisServer, Worker, client_pid, wait_until
from tests.worker.sink import Sink

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

CLAIM, INTERVAL = 4, 1  # seconds: MAIL_CLAIM_SECONDS, OUTBOX_INTERVAL_SECONDS
SLACK = 4  # seconds, for a loaded machine


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
    from flask_migrate import upgrade

    from service.app import create_app

    if not pg_answers():
        service_missing("PostgreSQL")
    name = create_pg_database()
    settings = make_settings(
        sqlalchemy_pg_url(name), tmp_path_factory.mktemp("var"),
        BROKER_URL=redis_server.url, MAIL_HOST="127.0.0.1", MAIL_PORT=smtp.port, MAIL_TIMEOUT_SECONDS=10,
        MAIL_CLAIM_SECONDS=CLAIM, OUTBOX_INTERVAL_SECONDS=INTERVAL, SWEEP_INTERVAL_SECONDS=3600, OUTBOX_KICK=True,
    )
    application = create_app(settings)
    with application.app_context():
        upgrade()
    yield application
    with application.app_context():
        db.engine.dispose()
    drop_pg_database(name)


@pytest.fixture(scope="module")
def pool(app, tmp_path_factory):
    """Two workers; a test that ends one has it replaced before the next test."""
    directory, settings, running = tmp_path_factory.mktemp("workers"), app.config["GOALFLOW"], []

    def two() -> list[Worker]:
        running[:] = [w for w in running if w.process.poll() is None]
        while len(running) < 2:
            running.append(Worker(settings, directory))
        for worker in running:
            worker.wait_ready()
        return list(running)

    yield two
    for worker in running:
        worker.stop()


@pytest.fixture
def sink(smtp):
    smtp.clear()
    smtp.reply, smtp.delay, smtp.answer = None, 0.0, None
    yield smtp
    smtp.answer = None


def campaign(world, count: int, tag: str) -> list[Notification]:
    notes = [
        outbox.enqueue(
            kind="goal_state_changed", recipient=world.expert_a, subject_type="goal", subject_id=world.g_a.id,
            params={"number": 1, "title": "Цел 1", "before": "a", "state": "b"}, path="/", due_moment=f"{tag}:{i}",
        )
        for i in range(count)
    ]
    db.session.commit()  # the nudge starts delivery
    return notes


def sending_worker(workers: list[Worker], sink: Sink) -> Worker:
    pid = client_pid(sink.last_peer[1], {w.process.pid for w in workers})
    assert pid is not None, "the sending worker was not found"
    return next(w for w in workers if w.process.pid == os.getpgid(pid))


def all_sent() -> bool:
    db.session.rollback()  # see the workers' commits
    return db.session.scalar(select(db.func.count()).select_from(Notification).where(Notification.status != "sent")) == 0


def test_a_worker_killed_mid_campaign_resends_at_most_one_message_and_its_claim_returns_soon(world, sink, pool):
    workers = pool()
    killed: dict = {}

    def kill_the_sender_of_the_eighth(message):
        if len(sink.messages) == 7 and not killed:  # the server is taking the eighth: its sender dies
            worker = sending_worker(workers, sink)
            os.killpg(worker.process.pid, signal.SIGKILL)
            killed.update(worker=worker, at=time.monotonic())
        return None  # the message is taken, as a server would that never heard of the kill

    sink.answer = kill_the_sender_of_the_eighth
    notes = campaign(world, 60, "kill")
    wait_until(lambda: killed, 30, 0.05, "a worker to be killed")
    killed["worker"].process.wait(10)
    wait_until(all_sent, CLAIM + INTERVAL + SLACK + 10, 0.1, "every message to be sent")
    recovered = time.monotonic() - killed["at"]
    ids = Counter(m["Message-ID"] for m in sink.messages)
    duplicates = sum(n - 1 for n in ids.values())
    print(f"\nworker SIGKILL: everything delivered {recovered:.1f} s after the kill (claim {CLAIM} s, beat {INTERVAL} s),"
          f" {duplicates} message(s) sent twice")
    assert set(ids) == {f"<{n.key[:40]}@goalflow.local>" for n in notes}  # none lost
    assert duplicates <= 1
    assert recovered <= CLAIM + INTERVAL + SLACK
    assert Settings().MAIL_CLAIM_SECONDS + Settings().OUTBOX_INTERVAL_SECONDS <= 60  # the bound with the defaults


def test_a_worker_told_to_stop_hands_back_its_batch_and_the_other_delivers_it(world, sink, pool):
    workers = pool()
    sink.delay = 0.4  # a slow server: the batch would take 12 s
    notes = campaign(world, 30, "stop")
    wait_until(lambda: len(sink.messages) >= 3, 30, 0.05, "delivery to begin")
    stopping = sending_worker(workers, sink)
    os.kill(stopping.process.pid, signal.SIGTERM)  # the main process only, as `docker stop` does
    told = time.monotonic()
    stopping.process.wait(30)
    exited = time.monotonic() - told
    wait_until(all_sent, 40, 0.1, "every message to be sent")
    delivered = time.monotonic() - told
    print(f"\nwarm shutdown: the worker exited {exited:.1f} s after SIGTERM; everything delivered after {delivered:.1f} s")
    ids = Counter(m["Message-ID"] for m in sink.messages)
    assert set(ids) == {f"<{n.key[:40]}@goalflow.local>" for n in notes} and max(ids.values()) == 1
    assert exited < 7  # it did not send the rest of its batch first (10 s more); Celery's own shutdown takes ~3 s
    assert stopping.process.returncode == 0
    rows = db.session.scalars(select(Notification).where(Notification.id.in_([n.id for n in notes]))).all()
    assert {r.attempts for r in rows} == {1}  # handed back without counting an attempt
