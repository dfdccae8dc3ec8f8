"""The outbox, delivered in this process: to .eml files and to a real SMTP server (aiosmtpd),
with refusals, retries, claims and the admin's view. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta
from email import message_from_bytes, policy

import pytest
import time_machine
from sqlalchemy import select

from service.approvals import service as approvals
from service.db import utcnow
from service.extensions import db
from service.kernel.errors import GoalflowError
from service.notifications import service as outbox
from service.notifications.models import Notification
from tests.helpers import achieved_for


def queue(world, n: int = 1, **extra) -> list[Notification]:
    """n messages to expert_a, committed."""
    notes = [
        outbox.enqueue(
            kind="goal_state_changed", recipient=world.expert_a, subject_type="goal", subject_id=world.g_a.id,
            params={"number": 1, "title": "Цел 1", "before": "Планирана", "state": "В процес"},
            path=f"/goals/{world.g_a.id}", due_moment=f"test:{i}", **extra,
        )
        for i in range(n)
    ]
    db.session.commit()
    return notes


def test_the_same_message_is_queued_once(world):
    first = queue(world)[0]
    assert first is not None
    assert queue(world)[0] is None
    assert db.session.scalar(select(db.func.count()).select_from(Notification)) == 1


def test_many_messages_are_queued_in_one_statement_each_once_with_the_columns_defaults(world):
    def message(person, due: str, state: str) -> dict:
        return dict(kind="goal_state_changed", recipient=person, subject_type="goal", subject_id=world.g_a.id,
                    params={"number": 1, "title": "Цел 1", "before": "Планирана", "state": state},
                    path=f"/goals/{world.g_a.id}", due_moment=due)

    before = utcnow()
    batch = [message(world.expert_a, "m:1", "В процес"), message(world.head_a, "m:1", "В процес"),
             message(world.expert_a, "m:2", "Изпълнена"), message(world.expert_a, "m:1", "В процес")]
    assert outbox.enqueue_many(batch) == 3  # the fourth is the first again
    db.session.commit()
    assert outbox.enqueue_many(batch[:2] + [message(world.head_a, "m:2", "Изпълнена")]) == 1
    db.session.commit()
    rows = db.session.scalars(select(Notification).order_by(Notification.id)).all()
    assert [(n.email, n.due_moment, n.status, n.attempts, n.last_error, n.message_id) for n in rows] == [
        ("expert_a@test.bg", None, "pending", 0, "", ""), ("head_a@test.bg", None, "pending", 0, "", ""),
        ("expert_a@test.bg", None, "pending", 0, "", ""), ("head_a@test.bg", None, "pending", 0, "", ""),
    ]
    assert all(before <= n.created_at <= utcnow() and before <= n.next_attempt_at <= utcnow() for n in rows)
    assert [n.subject for n in rows] == ["Цел 1 е вече „В процес“"] * 2 + ["Цел 1 е вече „Изпълнена“"] * 2
    assert len({n.key for n in rows}) == 4


def test_embedded_mode_writes_one_eml_per_message_with_text_html_and_attachments(world, ctx, tmp_path, monkeypatch):
    monkeypatch.setattr(ctx.config["GOALFLOW"], "MAIL_DIR", str(tmp_path / "mail"))
    (note,) = queue(world, attachments=[("справка.xlsx", "application/vnd.ms-excel", b"PK\x03\x04data")])
    report = outbox.deliver_due()
    assert (report.claimed, report.sent) == (1, 1)
    files = list((tmp_path / "mail").glob("*.eml"))
    assert len(files) == 1
    message = message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert message["To"] == "expert_a@test.bg" and message["Subject"] == "Цел 1 е вече „В процес“"
    assert message.get_content_type() == "multipart/mixed"
    body = message.get_body(("plain",)).get_content()
    assert "Цел 1 „Цел 1“ премина от „Планирана“ в „В процес“." in body
    assert f"http://127.0.0.1:5000/goals/{world.g_a.id}" in body
    html = message.get_body(("html",)).get_content()
    assert f'href="http://127.0.0.1:5000/goals/{world.g_a.id}"' in html
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_filename() == "справка.xlsx" and attachment.get_content() == b"PK\x03\x04data"
    db.session.expire_all()
    assert db.session.get(Notification, note.id).status == "sent"
    assert outbox.deliver_due().claimed == 0  # sent once


def test_english_by_the_users_choice(world, sink, smtp_settings):
    world.expert_a.locale = "en"
    db.session.commit()
    queue(world)
    outbox.deliver_due()
    (message,) = sink.messages
    assert message["Subject"] == "Goal 1 is now 'В процес'"
    assert message["Content-Language"] == "en"


def test_smtp_delivery_reaches_the_server_once(world, sink, smtp_settings):
    notes = queue(world, 3)
    report = outbox.deliver_due()
    assert (report.claimed, report.sent) == (3, 3)
    assert len(sink.messages) == 3
    assert {m["Message-ID"] for m in sink.messages} == {f"<{n.key[:40]}@goalflow.local>" for n in notes}
    assert outbox.deliver_due().claimed == 0
    assert len(sink.messages) == 3


@pytest.mark.parametrize("reply", ["451 4.3.0 try again later", "550 5.1.1 mailbox unavailable"])
def test_a_refused_message_is_retried_with_backoff_then_marked_failed(world, sink, smtp_settings, reply):
    (note,) = queue(world)
    sink.reply = reply
    start = utcnow()
    with time_machine.travel(start, tick=False) as clock:
        assert outbox.deliver_due().retrying == 1
        db.session.expire_all()
        row = db.session.get(Notification, note.id)
        assert row.status == "pending" and row.attempts == 1 and reply[:3] in row.last_error
        first_wait = row.next_attempt_at - start
        assert timedelta(seconds=45) <= first_wait <= timedelta(seconds=75)  # 60 s, with jitter
        assert outbox.deliver_due().claimed == 0  # not before its time
        clock.shift(first_wait + timedelta(seconds=1))
        assert outbox.deliver_due().retrying == 1
        db.session.expire_all()
        second_wait = db.session.get(Notification, note.id).next_attempt_at - utcnow()
        assert second_wait > first_wait  # exponential
        clock.shift(second_wait + timedelta(seconds=1))
        assert outbox.deliver_due().failed == 1
    db.session.expire_all()
    row = db.session.get(Notification, note.id)
    assert (row.status, row.attempts) == ("failed", 3)
    assert sink.refused == 3 and sink.messages == []
    assert [n.id for n in outbox.list_outbox(status="failed").items] == [note.id]

    # an operator fixes the cause and retries: it goes out
    sink.reply = None
    assert outbox.retry_failed(ids=[note.id]) == 1
    assert outbox.deliver_due().sent == 1
    assert len(sink.messages) == 1


def test_a_dead_smtp_server_delays_mail_and_loses_none(world, sink, smtp_settings):
    queue(world, 2)
    sink.stop()
    report = outbox.deliver_due()
    assert report.retrying == 2 and report.sent == 0
    sink.start()
    with time_machine.travel(utcnow() + timedelta(minutes=5), tick=False):
        assert outbox.deliver_due().sent == 2
    assert len(sink.messages) == 2


def test_a_claim_left_by_a_dead_worker_is_taken_again_after_it_expires(world, smtp_settings, sink):
    (note,) = queue(world)
    assert outbox.claim() == [note.id]  # a worker claims it, then dies
    assert outbox.deliver_due().claimed == 0
    with time_machine.travel(utcnow() + timedelta(seconds=smtp_settings.MAIL_CLAIM_SECONDS + 1), tick=False):
        assert outbox.deliver_due().sent == 1
    assert len(sink.messages) == 1


def test_claims_by_concurrent_workers_never_overlap(world, ctx):
    queue(world, 40)
    claimed: list[list[int]] = []
    barrier = threading.Barrier(4)

    def worker():
        with ctx.app_context():
            barrier.wait()
            mine = []
            while batch := outbox.claim(limit=3):
                mine.extend(batch)
            claimed.append(mine)
            db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    everything = [i for mine in claimed for i in mine]
    assert len(claimed) == 4 and sorted(everything) == sorted(set(everything)) and len(everything) == 40


def test_the_admin_lists_and_reads_the_outbox(world):
    queue(world, 3)
    page = outbox.list_outbox(status="pending", page=1, per_page=2)
    assert (page.total, page.pages, len(page.items), page.counts["pending"]) == (3, 2, 2, 3)
    view = outbox.read_message(page.items[0].id, actor=world.sysadmin)
    assert b"Subject:" in view.eml and "Цел 1" in view.text
    with pytest.raises(GoalflowError) as exc:
        outbox.list_outbox(actor=world.expert_a)
    assert exc.value.code == "forbidden"
    with pytest.raises(GoalflowError) as exc:
        outbox.list_outbox(status="lost")
    assert exc.value.code == "invalid_input"
    with pytest.raises(GoalflowError) as exc:
        outbox.read_message(999999)
    assert exc.value.code == "not_found"


def test_an_approval_queues_its_messages_in_its_own_transaction(world):
    req = approvals.request_transition(
        actor=world.expert_a, subject_type="goal", subject_id=world.g_ab.id, transition="complete",
        data=achieved_for(world.g_ab),
    )
    needed = {n.email for n in db.session.scalars(select(Notification).where(Notification.kind == "approval_needed"))}
    assert needed == {"head_a@test.bg", "head_b@test.bg"}
    with pytest.raises(GoalflowError):  # a refused decision rolls back and queues nothing
        approvals.decide(actor=world.head_a, request_id=req.id, verdict="reject", comment="")
    assert db.session.scalar(select(db.func.count()).select_from(Notification).where(Notification.kind == "request_decided")) == 0
    approvals.decide(actor=world.head_a, request_id=req.id, verdict="reject", comment="Няма доказателства")
    (decided,) = db.session.scalars(select(Notification).where(Notification.kind == "request_decided"))
    assert decided.email == "expert_a@test.bg" and "Няма доказателства" in decided.body_text


def test_the_nudge_after_commit_never_waits_for_a_dead_broker(world, ctx, monkeypatch, caplog):
    from celery import Celery

    from tests.worker.sink import free_port
    from worker.celery_app import _transport_options

    dead = f"redis://127.0.0.1:{free_port()}/5"
    monkeypatch.setattr(ctx.config["GOALFLOW"], "OUTBOX_KICK", True)
    celery = Celery("dead")
    celery.conf.update(broker_url=dead, broker_connection_timeout=2, broker_transport_options=_transport_options(dead))
    monkeypatch.setitem(ctx.extensions, "celery", celery)
    # the migrations' logging.fileConfig disabled the loggers that existed before they ran
    monkeypatch.setattr(logging.getLogger("service.notifications.service"), "disabled", False)
    caplog.set_level("INFO", logger="service.notifications.service")
    started = time.monotonic()
    req = approvals.request_transition(actor=world.expert_b, subject_type="goal", subject_id=world.g_b.id, transition="start")
    assert time.monotonic() - started < 1.0
    assert req.status == "open"
    deadline = time.monotonic() + 15
    while "outbox nudge not sent" not in caplog.text and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "outbox nudge not sent" in caplog.text  # it was tried, failed, and nobody waited for it
    pending = db.session.scalar(select(db.func.count()).select_from(Notification).where(Notification.status == "pending"))
    assert pending == 1  # head_b's approval_needed waits for the worker
