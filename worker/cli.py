"""Operations without the web UI: the outbox (list, show, retry, deliver now), the reminder
sweep, and quarterly campaigns (open, close, list) by hand."""

from __future__ import annotations

from datetime import datetime

import click
from flask import Flask

from service.cli.common import fail as _fail
from service.kernel.errors import GoalflowError


def _actor(email: str | None):
    if not email:
        return None
    from service.org.service import user_by_email

    user = user_by_email(email)
    if user is None:
        raise click.ClickException(f"no user {email}")
    return user


def _as_of(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    from zoneinfo import ZoneInfo

    from service.kernel.common import settings

    return value if value.tzinfo else value.replace(tzinfo=ZoneInfo(settings().TIMEZONE))


AS_OF = click.option(
    "--as-of", type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]), default=None,
    help="act as of this local date/time (default: now)",
)


def register(app: Flask) -> None:
    @app.cli.group("outbox")
    def outbox_group():
        """The email outbox: list, show, retry failed messages, deliver now."""

    @outbox_group.command("list")
    @click.option("--status", type=click.Choice(["pending", "sending", "sent", "failed"]), default=None)
    @click.option("--page", type=int, default=1)
    def outbox_list(status, page):
        from service.notifications import service as outbox

        result = outbox.list_outbox(status=status, page=page)
        click.echo("  ".join(f"{k}: {v}" for k, v in result.counts.items()))
        for note in result.items:
            error = f"  ! {note.last_error[:80]}" if note.last_error else ""
            click.echo(f"{note.id:>6} {note.status:<8} {note.attempts} {note.email:<30} {note.subject[:60]}{error}")
        click.echo(f"page {result.page} of {result.pages} ({result.total} messages)")

    @outbox_group.command("show")
    @click.argument("message_id", type=int)
    def outbox_show(message_id):
        from service.notifications import service as outbox

        try:
            view = outbox.read_message(message_id)
        except GoalflowError as exc:
            _fail(exc)
        click.echo(view.eml.decode("utf-8", errors="replace"))

    @outbox_group.command("retry")
    @click.option("--id", "ids", type=int, multiple=True, help="a failed message (repeatable)")
    @click.option("--all", "retry_all", is_flag=True, help="every failed message")
    def outbox_retry(ids, retry_all):
        """Give failed messages a fresh set of attempts."""
        from service.notifications import service as outbox

        if not ids and not retry_all:
            raise click.UsageError("name messages with --id, or pass --all")
        count = outbox.retry_failed(ids=None if retry_all else list(ids))
        click.echo(f"{count} message(s) queued again")

    @outbox_group.command("deliver")
    def outbox_deliver():
        """Deliver what is due now, in this process."""
        from service.notifications import service as outbox

        report = outbox.deliver_due()
        click.echo(f"claimed {report.claimed}, sent {report.sent}, retrying {report.retrying}, failed {report.failed}")

    @app.cli.command("sweep")
    @AS_OF
    def sweep(as_of):
        """Queue the reminders due now (deadlines, approvals, quarterly reports)."""
        from service.notifications.reminders import sweep as run_sweep

        report = run_sweep(now=_as_of(as_of))
        click.echo(
            f"queued {report.queued} (deadlines {report.deadlines}, approvals {report.approvals}, "
            f"campaigns {report.campaigns}); closed {report.closed_campaigns} campaign(s)"
        )

    @app.cli.group("campaign")
    def campaign_group():
        """Quarterly progress campaigns."""

    @campaign_group.command("open")
    @click.option("--plan", "plan_id", type=int, required=True, help="the plan's id")
    @click.option("--quarter", type=click.IntRange(1, 4), required=True)
    @click.option("--as", "email", default=None, help="the chief secretary opening it (default: the operator)")
    @AS_OF
    def campaign_open(plan_id, quarter, email, as_of):
        from service.progress import service as progress

        try:
            campaign = progress.open_campaign(plan_id=plan_id, quarter=quarter, actor=_actor(email), now=_as_of(as_of))
        except GoalflowError as exc:
            _fail(exc)
        click.echo(f"campaign {campaign.id}: Q{campaign.quarter}, {len(campaign.reports)} report(s), due {campaign.due_on}")

    @campaign_group.command("open-due")
    @AS_OF
    def campaign_open_due(as_of):
        """Open the campaign of the quarter that last ended, for every plan in force."""
        from service.progress import service as progress

        opened = progress.open_due_campaigns(now=_as_of(as_of))
        click.echo(f"opened {len(opened)} campaign(s): {', '.join(str(c.id) for c in opened) or '-'}")

    @campaign_group.command("close")
    @click.argument("campaign_id", type=int)
    @click.option("--as", "email", default=None)
    @AS_OF
    def campaign_close(campaign_id, email, as_of):
        """Close now; the governor and the chief secretary receive the summary."""
        from service.progress import service as progress

        try:
            campaign = progress.close_campaign(campaign_id=campaign_id, actor=_actor(email), now=_as_of(as_of))
        except GoalflowError as exc:
            _fail(exc)
        click.echo(f"campaign {campaign.id}: closed")

    @campaign_group.command("list")
    def campaign_list():
        from service.progress import service as progress

        for campaign in progress.list_campaigns(actor=None):
            states: dict[str, int] = {}
            for report in campaign.reports:
                states[report.state] = states.get(report.state, 0) + 1
            summary = ", ".join(f"{k} {v}" for k, v in sorted(states.items())) or "no reports"
            click.echo(
                f"{campaign.id:>4} plan {campaign.plan_id} ({campaign.plan.year}) Q{campaign.quarter} "
                f"{campaign.status:<6} due {campaign.due_on}: {summary}"
            )
