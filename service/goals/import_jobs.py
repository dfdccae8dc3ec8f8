"""Large imports run in the worker, not inside the request; the page and the API poll their progress.

`start` keeps the file in a job row and hands the job's id to the worker (task IMPORT_DOCUMENT);
`run`, in the worker, reads and imports it within the import's bounds (documents.import_upload),
noting its phase and how many goals it has handled, and ends with the import's answer or the
refusal's code. Only the person who started a job sees it.

Progress is written in its own short transactions, between the steps of the import; the import
itself stays one transaction (all of it or nothing), so while it writes the job says "importing"
with the number of goals to import.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Final

from flask import current_app
from sqlalchemy import delete, update

from service.db import utcnow
from service.extensions import db
from service.goals import documents
from service.goals.models import ImportJob
from service.kernel.common import settings
from service.kernel.errors import GoalflowError, not_found
from service.org.models import Administration, User

log = logging.getLogger(__name__)

IMPORT_DOCUMENT: Final = "goalflow.import_document"
QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
READING, IMPORTING = "reading", "importing"
KEEP: Final = timedelta(days=1)


def in_background(data: bytes) -> bool:
    """Is this upload large enough to be imported by the worker?"""
    return len(data) > settings().IMPORT_BACKGROUND_BYTES


def start(*, actor: User, data: bytes, filename: str, dry_run: bool) -> ImportJob:
    """A job for the worker. Whoever may not import is refused before anything is kept; a file whose
    parts are declared too large is refused here already (its central directory is all that is read)."""
    if actor.administration is None or not documents.may_import(actor, actor.administration_id):
        raise GoalflowError("forbidden")
    documents.check_package_early(data, filename)
    _forget_old(actor)
    job = ImportJob(
        administration_id=actor.administration_id, actor_id=actor.id, filename=filename[:255], dry_run=dry_run,
        data=data, status=QUEUED,
    )
    db.session.add(job)
    db.session.commit()
    try:
        current_app.extensions["celery"].send_task(IMPORT_DOCUMENT, args=[job.id])
    except Exception as exc:  # the broker is away: say so, and keep nothing
        log.warning("import job %s could not be queued: %s", job.id, exc)
        _finish(job.id, FAILED, error_code="import_queue_unavailable")
        raise GoalflowError("import_queue_unavailable") from exc
    return job


def _forget_old(actor: User) -> None:
    """A person's jobs are kept a day (long enough to come back to a preview), then forgotten."""
    db.session.execute(delete(ImportJob).where(
        ImportJob.actor_id == actor.id, ImportJob.created_at < utcnow() - KEEP,
    ))


def get(*, actor: User, job_id: int) -> ImportJob:
    job = db.session.get(ImportJob, job_id)
    if job is None or job.actor_id != actor.id:
        raise not_found()
    return job


def run(job_id: int, *, now: datetime | None = None) -> str:
    """The worker's part: import the job's file; returns the job's final status. A job already
    taken (a redelivered task) is left alone."""
    claimed = db.session.execute(
        update(ImportJob).where(ImportJob.id == job_id, ImportJob.status == QUEUED)
        .values(status=RUNNING, phase=READING, started_at=now or utcnow())
    ).rowcount
    db.session.commit()
    if not claimed:
        return db.session.get(ImportJob, job_id).status if db.session.get(ImportJob, job_id) else "missing"
    job = db.session.get(ImportJob, job_id)
    actor, data = db.session.get(User, job.actor_id), job.data or b""
    administration = db.session.get(Administration, job.administration_id)
    try:
        result = documents.import_upload(
            data, job.filename, administration=administration, actor=actor, dry_run=job.dry_run,
            before_writing=_note_importing(job_id),
        )
    except GoalflowError as exc:
        db.session.rollback()
        _finish(job_id, FAILED, error_code=exc.code, error_params=_plain(exc.params))
        return FAILED
    body = json.loads(json.dumps(documents.result_summary(result), default=str))  # numbers as the API writes them
    _finish(job_id, DONE, result=body, done=len(body["goals"]), total=len(body["goals"]))
    return DONE


def _note_importing(job_id: int) -> Callable[[int], None]:
    """Called with the number of goals once the file is read, before the import's transaction opens."""
    def note(total: int) -> None:
        db.session.execute(update(ImportJob).where(ImportJob.id == job_id).values(phase=IMPORTING, total=total))
        db.session.commit()

    return note


def _finish(job_id: int, status: str, **values: Any) -> None:
    db.session.execute(
        update(ImportJob).where(ImportJob.id == job_id)
        .values(status=status, phase="", data=None, finished_at=utcnow(), **values)
    )
    db.session.commit()


def _plain(params: dict) -> dict:
    """The refusal's parameters as JSON keeps them; words in both languages stay {"bg": ..., "en": ...}."""
    return {key: _plain_value(value) for key, value in params.items()}


def _plain_value(value: Any) -> Any:
    if isinstance(value, int | float | str | bool):
        return value
    if isinstance(value, dict) and set(value) == {"bg", "en"}:
        return {lang: str(text) for lang, text in value.items()}
    return str(value)


def problem_of(job: ImportJob) -> GoalflowError | None:
    """A failed job's refusal, as the error it was."""
    if job.status != FAILED:
        return None
    return GoalflowError(job.error_code or "invalid_input", **(job.error_params or {}))
