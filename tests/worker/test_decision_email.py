"""The email that asks a head to decide carries the claim, the deadline, what to do and a link
to the decision itself, from the administration's own sender. Delivered to the SMTP sink and
read there, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime
from email import message_from_bytes, policy
from zoneinfo import ZoneInfo

import time_machine
from sqlalchemy import select

from service.approvals import service as approvals
from service.extensions import db
from service.notifications import mailer
from service.notifications import service as outbox
from service.notifications.models import Notification
from service.org import service as org
from tests.web.test_pages import login

SOFIA = ZoneInfo("Europe/Sofia")


def ask_to_complete(world, values, when):
    indicators = world.g_ab.indicators
    with time_machine.travel(when, tick=False):
        return approvals.request_transition(
            actor=world.expert_a, subject_type="goal", subject_id=world.g_ab.id, transition="complete",
            reason="Дейностите са изпълнени.",
            data={"achieved": {str(i.id): v for i, v in zip(indicators, values, strict=True)}},
        )


def text_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def test_the_heads_message_carries_the_claim_the_deadline_and_a_link_to_the_decision(
        world, sink, smtp_settings, client):
    org.update_administration(actor=world.sysadmin, administration_id=world.admin.id, changes={
        "mail_from_name": "Областна администрация Тест", "mail_from_address": "celi@test.bg"})
    # Wednesday 12 April 2023, before Orthodox Easter: the fifth working day after it is 21 April,
    # the day the sweep escalates (tests/worker/test_sweep.py).
    request = ask_to_complete(world, ["37", "12 бр."], datetime(2023, 4, 12, 9, 0, tzinfo=SOFIA))
    assert outbox.deliver_due().sent >= 2
    (message,) = sink.to("head_a@test.bg")

    assert message["From"].addresses[0].addr_spec == "celi@test.bg"
    assert message["From"].addresses[0].display_name == "Областна администрация Тест"
    subject = message["Subject"]
    assert "Отчитане като изпълнена" in subject and "цел 2" in subject and "Цел 2" in subject
    body = text_of(message)
    lines = body.splitlines()
    assert "- Индикатор 2.0: целева стойност 1, заявено постигнато 37" in lines  # one line per indicator
    assert "Срок за решение: 21.04.2023 – след него искането се докладва на главния секретар." in lines
    for words in (
        "Expert A поиска „Отчитане като изпълнена“ за цел 2 „Цел 2“.",
        "от „В процес на изпълнение“ в „Изпълнена“",
        "- Индикатор 2.0: целева стойност 1, заявено постигнато 37",
        "- Индикатор 2.1: целева стойност 1, заявено постигнато 12 бр.",
        "Причина: Дейностите са изпълнени.",
        "Решили досега: никой",
        "Очакват се още: Директор АПОФУС (Head A); Директор АКРРДС (Head B); след това: Областен управител",
        "Срок за решение: 21.04.2023",
        "Какво да направите:",
    ):
        assert words in body, (words, body)
    link = f"{smtp_settings.BASE_URL.rstrip('/')}/approvals/{request.id}"
    assert body.rstrip().endswith(f"Решете тук: {link}")
    html = message.get_body(preferencelist=("html",)).get_content()
    assert f'href="{link}"' in html and "37" in html

    # The link opens the decision: the claim and the buttons, for the head signed in.
    login(client, world.head_a, world.password)
    page = client.get(f"/approvals/{request.id}")
    assert page.status_code == 200
    assert "37" in page.text and "12 бр." in page.text and "Одобрявам" in page.text
    assert "21.04.2023" in page.text


def test_a_message_without_an_administration_sender_comes_from_mail_from(world, smtp_settings):
    ask_to_complete(world, ["1", "1"], datetime(2023, 4, 12, 9, 0, tzinfo=SOFIA))
    note = db.session.scalar(select(Notification).where(Notification.email == "head_a@test.bg"))
    assert note.sender == ""
    sent = message_from_bytes(mailer.render(note, smtp_settings), policy=policy.default)
    assert sent["From"] == smtp_settings.MAIL_FROM

