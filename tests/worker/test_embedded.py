"""The embedded mode end to end: SQLite, kombu's SQLite broker, a real `celery worker -B`, and
mail written as .eml files. No Redis, no SMTP server."""

from __future__ import annotations

from datetime import datetime
from email import message_from_bytes, policy
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from service.approvals import service as approvals
from service.extensions import db
from service.notifications import service as outbox
from service.progress.models import Campaign
from tests.conftest import test_settings as make_settings
from tests.helpers import achieved_for
from tests.worker.processes import Worker, wait_until

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    from flask_migrate import upgrade

    from service.app import create_app

    var_dir = tmp_path_factory.mktemp("embedded")
    settings = make_settings(f"sqlite:///{var_dir / 'goalflow.db'}", var_dir, OUTBOX_KICK=True, OUTBOX_INTERVAL_SECONDS=1)
    assert settings.broker_url.startswith("sqla+sqlite:///") and not settings.MAIL_HOST
    application = create_app(settings)
    with application.app_context():
        upgrade()
    worker = Worker(settings, var_dir).wait_ready()
    yield application
    worker.stop()
    with application.app_context():
        db.engine.dispose()


def mailbox(app) -> dict[str, list]:
    """Recipient -> the messages written for them."""
    box: dict[str, list] = {}
    for path in sorted(Path(app.config["GOALFLOW"].mail_dir).glob("*.eml")):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        box.setdefault(message["To"], []).append(message)
    return box


def test_approvals_and_a_campaign_write_eml_files_that_an_admin_can_read(app, world):
    approvals.request_transition(
        actor=world.expert_a, subject_type="goal", subject_id=world.g_ab.id, transition="complete",
        data=achieved_for(world.g_ab),
    )
    box = wait_until(lambda: len(mailbox(app)) == 2 and mailbox(app), 30, what="two .eml files")
    assert set(box) == {"head_a@test.bg", "head_b@test.bg"}
    (message,) = box["head_a@test.bg"]
    assert message["Subject"] == "Очаква се вашето решение: искане за „Отчитане като изпълнена“ – цел 2 „Цел 2“"
    assert "/approvals/" in message.get_body(("plain",)).get_content()  # the link opens the decision

    celery = app.extensions["celery"]
    celery.send_task(
        "goalflow.open_due_campaigns", kwargs={"as_of": datetime(2023, 4, 3, 9, tzinfo=ZoneInfo("Europe/Sofia")).isoformat()}
    )
    box = wait_until(lambda: len(mailbox(app)) == 4 and mailbox(app), 30, what="the campaign's messages")
    assert [m["X-Goalflow-Kind"] for m in box["expert_b@test.bg"]] == ["campaign_opened"]
    db.session.rollback()
    assert db.session.scalar(select(Campaign.quarter)) == 1

    sent = outbox.list_outbox(status="sent", actor=world.sysadmin)
    assert sent.total == 6 and sent.counts["pending"] == 0
    view = outbox.read_message(sent.items[0].id, actor=world.sysadmin)
    on_disk = next(Path(app.config["GOALFLOW"].mail_dir).glob(f"*-{sent.items[0].id:07d}.eml")).read_bytes()
    assert view.eml == on_disk
