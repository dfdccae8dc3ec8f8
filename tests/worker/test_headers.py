"""Long Bulgarian subjects survive the trip through an email's headers with every space."""

from __future__ import annotations

from email import message_from_bytes, policy

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
