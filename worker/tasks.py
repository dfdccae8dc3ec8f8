"""Thin tasks with fixed names: they take ids (or nothing), call a service and report counts.

Every task is idempotent: the outbox claims rows, reminders are keyed by their due moment, a
campaign exists once per plan and quarter. Running one twice, or two at once, does no harm.
`as_of` (an ISO datetime with a zone) runs the sweep as of another moment, e.g. a missed one.
"""

from __future__ import annotations

import logging
from datetime import datetime

from celery import shared_task
from sqlalchemy.exc import OperationalError

from service.goals import import_jobs
from service.goals.import_jobs import IMPORT_DOCUMENT
from service.notifications import service as outbox
from service.notifications.reminders import sweep as run_sweep
from service.progress import service as progress
from worker.celery_app import shutting_down
from worker.schedule import AUDIT_CHECKPOINT, CLOSE_CAMPAIGN, DELIVER_OUTBOX, OPEN_DUE_CAMPAIGNS, SWEEP

log = logging.getLogger(__name__)

# A database that is briefly away (restart, lock timeout) is retried with backoff and jitter.
RETRY = {"autoretry_for": (OperationalError,), "retry_backoff": True, "retry_jitter": True, "max_retries": 5}
MAX_BATCHES = 20  # per run; beat's next run takes the rest


def _moment(as_of: str | None) -> datetime | None:
    if not as_of:
        return None
    moment = datetime.fromisoformat(as_of)
    if moment.tzinfo is None:
        raise ValueError("as_of needs a time zone, e.g. 2024-04-02T09:00:00+03:00")
    return moment


@shared_task(name=DELIVER_OUTBOX, bind=True, **RETRY)
def deliver_outbox(self) -> dict:
    totals = {"claimed": 0, "sent": 0, "retrying": 0, "failed": 0, "handed_back": 0}
    for _ in range(MAX_BATCHES):
        if shutting_down.is_set():
            break
        report = outbox.deliver_due(should_stop=shutting_down.is_set)
        for key in totals:
            totals[key] += getattr(report, key)
        if report.claimed == 0 or report.sent == 0:
            break  # nothing more due, or the server refuses everything: do not spin
    if totals["handed_back"]:
        # This worker is stopping: another one takes the rows it gave back now, not at beat's next run.
        try:
            self.app.send_task(DELIVER_OUTBOX, retry=False, ignore_result=True)
        except Exception as exc:  # the broker is away: beat's next run delivers them
            log.info("no worker asked to take over the handed-back messages: %s", exc)
    return totals


@shared_task(name=SWEEP, **RETRY)
def sweep(as_of: str | None = None) -> dict:
    report = run_sweep(now=_moment(as_of))
    return {"queued": report.queued, "closed_campaigns": report.closed_campaigns}


@shared_task(name=OPEN_DUE_CAMPAIGNS, **RETRY)
def open_due_campaigns(as_of: str | None = None) -> list[int]:
    return [campaign.id for campaign in progress.open_due_campaigns(now=_moment(as_of))]


@shared_task(name=CLOSE_CAMPAIGN, **RETRY)
def close_campaign(campaign_id: int, as_of: str | None = None) -> int:
    return progress.close_campaign(campaign_id=campaign_id, now=_moment(as_of)).id


@shared_task(name=AUDIT_CHECKPOINT, **RETRY)
def audit_checkpoint() -> dict:
    """Daily: seal every chain's head, and the public copies of signed reports not sealed yet
    (the seal or the time-stamp authority was away at the sign-off). A seal still away fails the
    task, to be seen in the worker's log and metrics; the next run tries again."""
    from service.audit import checkpoints
    from service.signatures import service as signatures

    made = checkpoints.create_all(reason="daily")
    return {"checkpoints": [c.id for c in made], "sealed_reports": signatures.seal_pending()}


@shared_task(name=IMPORT_DOCUMENT)
def import_document(job_id: int) -> str:
    """A large plan import (service.goals.import_jobs): claimed once, so a redelivered task does nothing."""
    return import_jobs.run(job_id)
