"""Long Bulgarian subjects survive the trip through an email's headers with every space."""

from __future__ import annotations

from email import message_from_bytes, policy
from itertools import takewhile

from service.config import Settings
from service.db import utcnow
from service.notifications.mailer import build_message
from service.notifications.models import Notification


def test_a_long_cyrillic_subject_keeps_its_spaces():
    subject = "Искането ви е одобрено: Отчитане като изпълнена – цел 5 „Подобряване ефективността на мониторинга“"
    note = Notification(key="k" * 64, kind="request_decided", email="a@b.bg", locale="bg", subject=subject,
                        body_text="текст", body_html="<p>текст</p>", created_at=utcnow(), attachments=[])
    raw = build_message(note, Settings()).as_bytes()
    assert message_from_bytes(raw, policy=policy.default)["Subject"] == subject


def test_the_subject_as_sent_is_folded_in_short_lines_and_keeps_its_spaces():
    from service.notifications.mailer import render

    subject = "Искането ви е одобрено: Отчитане като изпълнена – цел 5 „Подобряване ефективността на мониторинга“"
    note = Notification(key="k" * 64, kind="request_decided", email="a@b.bg", locale="bg", subject=subject,
                        body_text="текст", body_html="<p>текст</p>", created_at=utcnow(), attachments=[])
    raw = render(note, Settings())
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    start = next(i for i, line in enumerate(head) if line.startswith(b"Subject:"))
    folded = [head[start], *takewhile(lambda line: line.startswith(b" "), head[start + 1:])]
    assert len(folded) > 1 and all(len(line) <= 78 for line in folded)
    assert message_from_bytes(raw, policy=policy.default)["Subject"] == subject
