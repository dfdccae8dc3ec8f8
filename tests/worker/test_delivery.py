"""Delivering a batch: one SMTP connection for it, refusals and dropped connections in the middle,
outcomes committed every few messages, the claim's expiry respected, and the bytes sent being the
email `build_message` composes. Against the aiosmtpd sink, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes, policy

import pytest
import time_machine
from sqlalchemy import func, select

from service.config import Settings
from service.db import utcnow
from service.extensions import db
from service.notifications import mailer
from service.notifications import service as outbox
from service.notifications.messages import MESSAGES
from service.notifications.messages import render as render_text
from service.notifications.models import Attachment, Notification
from tests.worker.sink import DROP
from tests.worker.test_messages import PARAMS
from tests.worker.test_outbox import queue


def rows(notes) -> list[Notification]:
    db.session.expire_all()
    return [db.session.get(Notification, note.id) for note in notes]


def message_id(note: Notification) -> str:
    return f"<{note.key[:40]}@goalflow.local>"


def test_one_connection_serves_a_batch(world, sink, smtp_settings):
    notes = queue(world, 12)
    report = outbox.deliver_due()
    assert (report.claimed, report.sent, report.retrying, report.failed) == (12, 12, 0, 0)
    assert sink.connections == 1
    assert sorted(m["Message-ID"] for m in sink.messages) == sorted(message_id(n) for n in notes)
    assert {r.status for r in rows(notes)} == {"sent"} and all(r.sent_at for r in rows(notes))
    assert outbox.deliver_due().claimed == 0 and len(sink.messages) == 12


@pytest.mark.parametrize("reply", ["451 4.3.0 try again later", "550 5.1.1 mailbox unavailable"])
def test_a_refusal_in_the_middle_of_a_batch_leaves_the_rest_going_out(world, sink, smtp_settings, reply):
    notes = queue(world, 5)
    refused = message_id(notes[2])
    sink.answer = lambda message: reply if message["Message-ID"] == refused else None
    start = utcnow()
    with time_machine.travel(start, tick=False) as clock:
        report = outbox.deliver_due()
        assert (report.sent, report.retrying, report.failed) == (4, 1, 0)
        assert sink.connections == 1  # the refusal did not cost the connection
        third = rows(notes)[2]
        assert (third.status, third.attempts) == ("pending", 1) and reply[:3] in third.last_error
        assert timedelta(seconds=45) <= third.next_attempt_at - start <= timedelta(seconds=75)
        assert [r.status for i, r in enumerate(rows(notes)) if i != 2] == ["sent"] * 4

        # its retries come one by one, with backoff, until it goes out or fails for good
        for attempt in (2, 3):
            clock.shift(rows(notes)[2].next_attempt_at - utcnow() + timedelta(seconds=1))
            report = outbox.deliver_due()
            assert report.claimed == 1  # the others are not sent again
            assert rows(notes)[2].attempts == attempt
        assert (report.failed, rows(notes)[2].status) == (1, "failed")
    assert sorted(m["Message-ID"] for m in sink.messages) == sorted(message_id(n) for i, n in enumerate(notes) if i != 2)
    assert sink.refused == 3


def test_a_connection_dropped_in_the_middle_of_a_batch_is_opened_again(world, sink, smtp_settings):
    notes = queue(world, 6)
    dropped = message_id(notes[2])
    sink.answer = lambda message: DROP if message["Message-ID"] == dropped else None
    start = utcnow()
    with time_machine.travel(start, tick=False) as clock:
        report = outbox.deliver_due()
        assert (report.sent, report.retrying) == (5, 1)
        assert sink.connections == 2  # the messages after the drop went over a new one
        third = rows(notes)[2]
        assert third.status == "pending" and third.attempts == 1 and third.next_attempt_at > start
        sink.answer = None
        clock.shift(third.next_attempt_at - start + timedelta(seconds=1))
        assert outbox.deliver_due().sent == 1
    ids = [m["Message-ID"] for m in sink.messages]
    assert sorted(ids) == sorted(message_id(n) for n in notes)  # each once: none lost, none twice


def test_a_server_that_goes_away_with_421_is_greeted_again_for_the_next_message(world, sink, smtp_settings):
    notes = queue(world, 4)
    closing = message_id(notes[1])
    sink.answer = lambda message: "421 4.3.2 shutting down" if message["Message-ID"] == closing else None
    report = outbox.deliver_due()
    assert (report.sent, report.retrying) == (3, 1)
    assert sink.connections == 2
    assert [r.status for r in rows(notes)] == ["sent", "pending", "sent", "sent"]


def test_outcomes_are_committed_every_few_messages(world, sink, smtp_settings, monkeypatch):
    """What a worker killed at any moment would send again: the messages taken since the last commit."""
    count = 2 * outbox.COMMIT_EVERY + 5
    notes = queue(world, count)
    engine = db.engine
    committed: list[int] = []  # rows committed as sent, as each message arrives

    def look(message):
        with engine.connect() as connection:
            committed.append(connection.scalar(
                select(func.count()).select_from(Notification).where(Notification.status == "sent")
            ))

    sink.answer = look
    monkeypatch.setattr(outbox, "SLOW_SEND", 60)  # however slow the machine running the test
    assert outbox.deliver_due(limit=count).sent == count
    taken_before = range(count)  # the messages the server had taken when each one arrived
    uncommitted = [taken - done for taken, done in zip(taken_before, committed, strict=True)]
    assert max(uncommitted) == outbox.COMMIT_EVERY - 1 and min(uncommitted) == 0
    assert [r.status for r in rows(notes)] == ["sent"] * count


def test_after_a_slow_message_its_outcome_is_committed_before_the_next(world, sink, smtp_settings):
    notes = queue(world, 3)
    engine = db.engine
    committed: list[int] = []

    def look(message):
        with engine.connect() as connection:
            committed.append(connection.scalar(
                select(func.count()).select_from(Notification).where(Notification.status == "sent")
            ))

    sink.answer = look
    sink.delay = outbox.SLOW_SEND * 2
    assert outbox.deliver_due().sent == 3
    assert committed == [0, 1, 2]  # a worker dying now would send one message again, no more
    assert [r.status for r in rows(notes)] == ["sent"] * 3


def test_no_message_is_started_once_the_claim_is_about_to_expire(world, sink, smtp_settings):
    notes = queue(world, 4)
    second = message_id(notes[1])
    with time_machine.travel(utcnow(), tick=False) as clock:
        # the server takes the second message as the claim's time runs out
        sink.answer = lambda message: clock.shift(timedelta(seconds=smtp_settings.MAIL_CLAIM_SECONDS)) if (
            message["Message-ID"] == second) else None
        report = outbox.deliver_due()
        assert (report.claimed, report.sent) == (4, 2)
        handed_back = rows(notes)[2:]
        assert [(r.status, r.attempts) for r in handed_back] == [("pending", 0)] * 2  # the attempt is not counted
        assert all(r.next_attempt_at <= utcnow() for r in handed_back)  # due again at once
        sink.answer = None
        assert outbox.deliver_due().sent == 2
    assert sorted(m["Message-ID"] for m in sink.messages) == sorted(message_id(n) for n in notes)


def test_the_operator_delivers_a_batch_from_the_command_line(world, sink, smtp_settings, ctx):
    queue(world, 3)
    delivered = ctx.test_cli_runner().invoke(args=["outbox", "deliver"])
    assert "claimed 3, sent 3, retrying 0, failed 0" in delivered.output
    assert sink.connections == 1 and len(sink.messages) == 3


# -- the bytes sent are the email build_message composes ---------------------------------------


def note_for(kind: str, lang: str, **extra) -> Notification:
    subject, text, html = render_text(kind, lang, {**PARAMS[kind], "on_behalf": "Петър"}, "https://goals.example/x?a=1")
    columns = dict(id=7, key="ab" * 32, kind=kind, email="head.1@oa.bg", locale=lang, subject=subject, body_text=text,
                   body_html=html, created_at=utcnow(), attachments=[])
    return Notification(**{**columns, **extra})


def same_email(note: Notification, settings: Settings) -> None:
    sent = message_from_bytes(mailer.render(note, settings), policy=policy.default)
    composed = message_from_bytes(mailer.build_message(note, settings).as_bytes(policy=mailer.WIRE), policy=policy.default)
    for header in ("From", "To", "Subject", "Date", "Message-ID", "Auto-Submitted", "X-Goalflow-Kind",
                   "Content-Language", "MIME-Version"):
        assert sent[header] == composed[header], header
    assert sent.get_content_type() == composed.get_content_type()
    for kind in ("plain", "html"):
        ours, theirs = sent.get_body((kind,)), composed.get_body((kind,))
        assert ours.get_content() == theirs.get_content()
        assert (ours["Content-Type"], ours["Content-Transfer-Encoding"]) == (theirs["Content-Type"],
                                                                            theirs["Content-Transfer-Encoding"])
    assert [(a.get_filename(), a.get_content()) for a in sent.iter_attachments()] == [
        (a.get_filename(), a.get_content()) for a in composed.iter_attachments()]
    assert not sent.defects and all(not part.defects for part in sent.walk())


@pytest.mark.parametrize("kind", sorted(MESSAGES))
@pytest.mark.parametrize("lang", ["bg", "en"])
def test_every_kind_is_sent_as_the_email_build_message_composes(kind, lang):
    same_email(note_for(kind, lang), Settings())


@pytest.mark.parametrize("case", ["long subject", "ascii", "long line", "attachment", "sender's name",
                                  "quoted address", "line ends"])
def test_the_unusual_ones_too(case):
    settings, note = Settings(), note_for("request_decided", "bg")
    if case == "long subject":
        note.subject = "Искането ви е одобрено: Отчитане като изпълнена – цел 5 „Подобряване ефективността на " * 3
    elif case == "ascii":
        note.subject, note.body_text, note.body_html = "Plain subject", "plain text\n", "<p>plain</p>"
    elif case == "long line":
        note.body_html = "<p>" + "дълъг ред " * 200 + "</p>"  # past 998 bytes: encoded, not written as it is
    elif case == "attachment":
        note.attachments = [Attachment(filename="справка.xlsx", content_type="application/vnd.ms-excel", data=b"PK\x03")]
    elif case == "sender's name":
        settings = Settings(MAIL_FROM="Областна администрация „Тест“ <noreply@oa.bg>")
    elif case == "quoted address":
        note.email = '"john doe"@oa.bg'
    elif case == "line ends":
        note.body_text = "first\r\nsecond\rthird\n\n.leading dot\nFrom the start\n"
    same_email(note, settings)
    assert mailer.render(note, settings).count(b"\n") == mailer.render(note, settings).count(b"\r\n")


def test_an_outcome_is_not_written_over_a_claim_another_worker_has_taken(world, sink, smtp_settings):
    notes = queue(world, 3)
    second = message_id(notes[1])
    engine = db.engine
    theirs = utcnow() + timedelta(hours=1)

    def taken_meanwhile(message):
        # the claim on the second row ran out while the server was slow, and another worker took it
        if message["Message-ID"] == second:
            with engine.begin() as connection:
                connection.execute(
                    Notification.__table__.update().where(Notification.__table__.c.id == notes[1].id)
                    .values(status="sending", next_attempt_at=theirs)
                )

    sink.answer = taken_meanwhile
    assert outbox.deliver_due().claimed == 3
    first, taken, third = rows(notes)
    assert (first.status, third.status) == ("sent", "sent")
    assert (taken.status, taken.next_attempt_at) == ("sending", theirs)  # still the other worker's


def test_outcomes_whose_commit_fails_are_kept_for_the_next_try(world, sink, smtp_settings, monkeypatch):
    notes = queue(world, 1)
    claimed = outbox._claim_rows(utcnow(), None)
    claimed_until = db.session.scalar(select(Notification.next_attempt_at).where(Notification.id == notes[0].id))
    outcomes = outbox._Outcomes(claimed_until)
    outcomes.sent.append({"note_id": claimed[0].id, "at": utcnow()})
    real_execute = db.session.execute

    def database_gone(*args, **kwargs):
        raise OSError("connection lost")

    monkeypatch.setattr(db.session, "execute", database_gone)
    with pytest.raises(OSError):
        outcomes.commit()
    monkeypatch.setattr(db.session, "execute", real_execute)
    assert len(outcomes) == 1  # not forgotten with the failed transaction
    outcomes.commit()
    assert len(outcomes) == 0 and rows(notes)[0].status == "sent"
