"""The beat schedule: delivery of the outbox, the reminder sweep and the opening of campaigns.

Deadlines are found by sweeping the database, never by long countdowns on the broker. Each
entry expires after one interval: a backlog built while no worker ran is not replayed.
"""

from __future__ import annotations

from datetime import timedelta

from service.config import Settings

DELIVER_OUTBOX = "goalflow.deliver_outbox"
SWEEP = "goalflow.sweep"
OPEN_DUE_CAMPAIGNS = "goalflow.open_due_campaigns"
CLOSE_CAMPAIGN = "goalflow.close_campaign"
AUDIT_CHECKPOINT = "goalflow.audit_checkpoint"


def _every(seconds: int, task: str) -> dict:
    return {"task": task, "schedule": timedelta(seconds=seconds), "options": {"expires": seconds}}


def beat_schedule(settings: Settings) -> dict:
    return {
        "deliver-outbox": _every(settings.OUTBOX_INTERVAL_SECONDS, DELIVER_OUTBOX),
        "reminder-sweep": _every(settings.SWEEP_INTERVAL_SECONDS, SWEEP),
        "open-due-campaigns": _every(settings.SWEEP_INTERVAL_SECONDS, OPEN_DUE_CAMPAIGNS),
        "audit-checkpoint": _every(settings.AUDIT_CHECKPOINT_INTERVAL_SECONDS, AUDIT_CHECKPOINT),
    }
