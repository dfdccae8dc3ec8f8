"""Delivering a batch: one SMTP connection for it, refusals and dropped connections in the middle,
each outcome committed before the next message, the claim renewed while the batch lasts and
handed back when asked to stop, and the bytes sent being the email `build_message` composes. Against the aiosmtpd sink, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta
from email import message_from_bytes, policy

import pytest
import time_machine
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

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


def test_each_outcome_is_committed_before_the_next_message_is_sent(world, sink, smtp_settings):
    """What a worker killed at any moment would send again: only the message the server was taking."""
    count = 25
    notes = queue(world, count)
    engine = db.engine
    committed: list[int] = []  # rows committed as sent, seen by another connection as each message arrives

    def look(message):
        with engine.connect() as connection:
            committed.append(connection.scalar(
                select(func.count()).select_from(Notification).where(Notification.status == "sent")
            ))

    sink.answer = look
    assert outbox.deliver_due(limit=count).sent == count
    assert committed == list(range(count))
    assert sink.connections == 1  # and still one connection for the batch
    assert [r.status for r in rows(notes)] == ["sent"] * count


def test_a_batch_that_outlasts_its_claim_renews_it_and_keeps_its_rows(world, sink, smtp_settings):
    notes = queue(world, 4)
    claim = timedelta(seconds=smtp_settings.MAIL_CLAIM_SECONDS)
    seen: list[datetime] = []  # the claim on the last row, as each message arrives
    engine = db.engine

    with time_machine.travel(utcnow(), tick=False) as clock:
        start = utcnow()

        def slow(message):  # each message takes half the claim's time
            with engine.connect() as connection:
                seen.append(connection.scalar(select(Notification.next_attempt_at).where(Notification.id == notes[-1].id)))
            clock.shift(claim / 2)

        sink.answer = slow
        report = outbox.deliver_due()
        assert (report.claimed, report.sent, report.handed_back) == (4, 4, 0)
        assert sink.connections == 1
        # from the second message on, half the claim is left: renewed to a whole claim before each
        assert seen == [start + claim, start + claim * 3 / 2, start + claim * 2, start + claim * 5 / 2]
        assert [(r.status, r.attempts) for r in rows(notes)] == [("sent", 1)] * 4
    assert sorted(m["Message-ID"] for m in sink.messages) == sorted(message_id(n) for n in notes)


def test_a_renewal_leaves_a_row_another_worker_took_meanwhile(world, sink, smtp_settings):
    notes = queue(world, 3)
    claim = timedelta(seconds=smtp_settings.MAIL_CLAIM_SECONDS)
    engine = db.engine
    theirs = utcnow() + timedelta(hours=1)
    first = message_id(notes[0])

    with time_machine.travel(utcnow(), tick=False) as clock:
        def stalled(message):
            if message["Message-ID"] == first:  # the server took a whole claim over it; another worker took row 3
                clock.shift(claim)
                with engine.begin() as connection:
                    connection.execute(Notification.__table__.update().where(Notification.__table__.c.id == notes[2].id)
                                       .values(status="sending", next_attempt_at=theirs))

        sink.answer = stalled
        report = outbox.deliver_due()
        assert (report.claimed, report.sent) == (3, 2)
    assert [m["Message-ID"] for m in sink.messages] == [message_id(notes[0]), message_id(notes[1])]
    first_row, second, taken = rows(notes)
    assert (first_row.status, second.status) == ("sent", "sent")
    assert (taken.status, taken.next_attempt_at) == ("sending", theirs)  # the other worker's


def test_asked_to_stop_it_finishes_the_message_in_hand_and_hands_back_the_rest(world, sink, smtp_settings):
    notes = queue(world, 5)
    stop_after = 2
    report = outbox.deliver_due(should_stop=lambda: len(sink.messages) >= stop_after)
    assert (report.claimed, report.sent, report.handed_back) == (5, 2, 3)
    handed_back = rows(notes)[2:]
    assert [(r.status, r.attempts) for r in handed_back] == [("pending", 0)] * 3  # the attempt is not counted
    assert all(r.next_attempt_at <= utcnow() for r in handed_back)  # due again at once
    assert outbox.deliver_due().sent == 3
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


def test_an_outcome_whose_write_fails_is_written_at_the_end_and_the_batch_stops(world, sink, smtp_settings,
                                                                                 monkeypatch):
    notes = queue(world, 3)
    real_execute = outbox._Batch._execute
    failures = iter([True])  # the first outcome's write fails once: the database went away for a moment

    def flaky(self, statement, parameters=None):
        if statement is self.mark_sent and next(failures, False):
            raise OperationalError("UPDATE", {}, Exception("connection lost"))
        return real_execute(self, statement, parameters)

    monkeypatch.setattr(outbox._Batch, "_execute", flaky)
    with pytest.raises(OperationalError):
        outbox.deliver_due()
    assert len(sink.messages) == 1  # no more messages once outcomes could not be written
    first, *rest = rows(notes)
    assert first.status == "sent"  # written when the batch ended
    assert [(r.status, r.attempts) for r in rest] == [("pending", 0)] * 2  # handed back
