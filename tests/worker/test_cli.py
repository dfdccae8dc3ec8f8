"""The operator's commands: the outbox, the sweep and campaigns by hand."""

from __future__ import annotations

from sqlalchemy import select, update

from service.extensions import db
from service.notifications import service as outbox
from service.notifications.models import Notification
from service.progress.models import Campaign


def test_list_and_retry_failed_mail(world, ctx):
    outbox.enqueue(
        kind="substitute_named", recipient=world.head_a, subject_type="substitution", subject_id=1,
        params={"absent": "X", "starts_on": "01.04.2023", "ends_on": "02.04.2023"}, path="/", due_moment=None,
    )
    db.session.execute(update(Notification).values(status="failed", attempts=5, last_error="550 no such mailbox"))
    db.session.commit()
    runner = ctx.test_cli_runner()
    listed = runner.invoke(args=["outbox", "list", "--status", "failed"])
    assert listed.exit_code == 0 and "head_a@test.bg" in listed.output and "550 no such mailbox" in listed.output
    assert runner.invoke(args=["outbox", "retry"]).exit_code != 0  # says which
    retried = runner.invoke(args=["outbox", "retry", "--all"])
    assert retried.exit_code == 0 and "1 message(s) queued again" in retried.output
    delivered = runner.invoke(args=["outbox", "deliver"])
    assert "sent 1" in delivered.output
    db.session.expire_all()
    assert db.session.scalar(select(Notification.status)) == "sent"
    shown = runner.invoke(args=["outbox", "show", str(db.session.scalar(select(Notification.id)))])
    assert "Subject:" in shown.output


def test_open_and_close_a_campaign_by_hand(world, ctx):
    runner = ctx.test_cli_runner()
    args = ["campaign", "open", "--plan", str(world.plan.id), "--quarter", "1", "--as-of", "2023-04-03"]
    opened = runner.invoke(args=[*args, "--as", "secretary@test.bg"])
    assert opened.exit_code == 0, opened.output
    assert "4 report(s), due 2023-04-19" in opened.output
    again = runner.invoke(args=args)
    assert again.exit_code != 0 and "duplicate" in again.output
    refused = runner.invoke(args=["campaign", "open", "--plan", str(world.plan.id), "--quarter", "2",
                                  "--as-of", "2023-07-03", "--as", "expert_a@test.bg"])
    assert refused.exit_code != 0 and "forbidden" in refused.output
    campaign_id = db.session.scalar(select(Campaign.id))
    assert "Q1 open" in runner.invoke(args=["campaign", "list"]).output
    closed = runner.invoke(args=["campaign", "close", str(campaign_id), "--as-of", "2023-04-20"])
    assert closed.exit_code == 0 and "closed" in closed.output
    assert "Q1 closed" in runner.invoke(args=["campaign", "list"]).output
    swept = runner.invoke(args=["sweep", "--as-of", "2023-04-21"])
    assert swept.exit_code == 0 and swept.output.startswith("queued ")
