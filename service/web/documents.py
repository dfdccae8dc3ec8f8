"""Importing a plan or a report from a file: upload, a dry-run preview, then confirm.

The uploaded file waits for the confirmation in the upload store (service.goals.uploads), under
an opaque id that only this browser session knows; confirming imports exactly what was previewed.
The session holds that id and nothing else names a file: a forged or tampered session value is no
upload at all.
"""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from service.goals import documents, import_jobs, uploads
from service.goals.documents import PROGRESS_ONLY, UPDATE, ImportResult
from service.goals.models import ImportJob
from service.kernel.errors import GoalflowError
from service.kernel.workflow_registry import workflow_for
from service.web.common import error_message, field_errors, lang, parse_date
from service.web.views import bp

SESSION_KEY = "plan_import"


def _may_import() -> None:
    if not documents.may_import(current_user, current_user.administration_id):
        raise GoalflowError("forbidden")


def _pending() -> dict | None:
    """The upload this session previewed: an id of the store's own shape, or nothing."""
    pending = session.get(SESSION_KEY)
    if not isinstance(pending, dict) or not uploads.valid_id(pending.get("token")):
        return None
    job = pending.get("job")
    signed = pending.get("paper_signed_on")
    archive = pending.get("archive") is True and isinstance(signed, str)
    return {"token": pending["token"], "filename": str(pending.get("filename", ""))[:255],
            "job": job if isinstance(job, int) else None,
            # the archive choice the preview was made with: confirmed as it was previewed
            "archive": archive, "paper_signed_on": signed if archive else None}


def _forget_upload() -> None:
    pending = _pending()
    session.pop(SESSION_KEY, None)
    if pending:
        uploads.discard(pending["token"])
    uploads.sweep()


def _form(status: int = 200, problem: str = ""):
    return render_template("documents/import.html", problem=problem, errors={"file": problem} if problem else {}), status


def _preview(result: ImportResult, filename: str, token: str):
    return render_template(
        "documents/preview.html", result=result, filename=filename, token=token, lang=lang(), goal_wf=workflow_for("goal"),
        actions={"create": _("new goal"), UPDATE: _("updated"), PROGRESS_ONLY: _("progress note only")},
    )


def _archive_choice() -> dict:
    """Whether the file is a past year's report signed on paper, and the day it was signed."""
    if request.form.get("archive") != "yes":
        return {"archive": False, "paper_signed_on": None}
    signed = parse_date(request.form.get("paper_signed_on", ""))
    return {"archive": True, "paper_signed_on": signed.isoformat() if signed else None}


def _attempt(data: bytes, filename: str, *, dry_run: bool, archive: dict):
    """The import (or its dry run) as the signed-in person; a refusal comes back as the form saying why."""
    try:
        signed = archive.get("paper_signed_on")
        return documents.import_upload(
            data, filename, administration=current_user.administration, actor=current_user, dry_run=dry_run,
            archive=archive.get("archive", False), paper_signed_on=date.fromisoformat(signed) if signed else None,
        )
    except GoalflowError as exc:
        if exc.status in (403, 404):
            raise
        fields = field_errors(exc)
        problem = " ".join([error_message(exc), *fields.values()])
        return _form(exc.status, problem)


@bp.get("/plans/import")
@login_required
def plan_import():
    _may_import()
    return _form()


@bp.post("/plans/import")
@login_required
def plan_import_preview():
    """The dry run: what the file holds and what importing it would do; nothing is written yet."""
    _may_import()
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _form(422, _("Choose a file to import."))
    data, filename = upload.read(), upload.filename
    archive = _archive_choice()
    if import_jobs.in_background(data) and not archive["archive"]:  # a large file: the worker reads it
        job = _start_job(data, filename, dry_run=True)
        if not isinstance(job, ImportJob):
            return job
        _forget_upload()
        session[SESSION_KEY] = {"token": uploads.save(data), "filename": filename, "job": job.id}
        return redirect(url_for("web.plan_import_job", job_id=job.id))
    result = _attempt(data, filename, dry_run=True, archive=archive)
    if not isinstance(result, ImportResult):
        return result
    _forget_upload()
    token = uploads.save(data)
    session[SESSION_KEY] = {"token": token, "filename": filename, **archive}
    return _preview(result, filename, token)


def _start_job(data: bytes, filename: str, *, dry_run: bool):
    try:
        return import_jobs.start(actor=current_user, data=data, filename=filename, dry_run=dry_run)
    except GoalflowError as exc:
        if exc.status in (403, 404):
            raise
        return _form(exc.status, error_message(exc))


@bp.get("/plans/import/jobs/<int:job_id>")
@login_required
def plan_import_job(job_id: int):
    """A background import: its progress (the page refreshes itself), then the preview, the
    imported plan, or the form saying why the file was refused."""
    _may_import()
    job = import_jobs.get(actor=current_user, job_id=job_id)
    if job.status == import_jobs.FAILED:
        problem = import_jobs.problem_of(job)
        return _form(problem.status, f"{job.filename}: {error_message(problem)}")
    if job.status != import_jobs.DONE:
        return render_template("documents/job.html", job=job)
    if not job.dry_run:
        flash(_("Imported: %(new)s new goals, %(updated)s updated.", new=job.result["created"],
                updated=job.result["updated"]), "success")
        return redirect(url_for("web.plan_page", plan_id=job.result["plan_id"]))
    pending = _pending()
    if pending is None or pending["job"] != job.id:  # the file this session would confirm is another one
        flash(_("That preview is no longer current: choose the file again."), "error")
        return redirect(url_for("web.plan_import"))
    return _preview(_result_view(job.result), job.filename, pending["token"])


def _result_view(body: dict) -> SimpleNamespace:
    """A background dry run's answer (as the API gives it) in the shape the preview reads."""
    def outcome(goal: dict) -> SimpleNamespace:
        return SimpleNamespace(**{**goal, "goal": SimpleNamespace(title=goal["title"], units=goal["units"])})

    return SimpleNamespace(**{**body, "goals": [outcome(g) for g in body["goals"]]})


@bp.post("/plans/import/confirm")
@login_required
def plan_import_confirm():
    _may_import()
    pending = _pending()
    data = uploads.read(pending["token"]) if pending and request.form.get("token") == pending["token"] else None
    if data is None:
        flash(_("That preview is no longer current: choose the file again."), "error")
        return redirect(url_for("web.plan_import"))
    if import_jobs.in_background(data) and not pending.get("archive"):  # an archive is one past year: inline
        job = _start_job(data, pending["filename"], dry_run=False)
        if not isinstance(job, ImportJob):
            return job
        _forget_upload()
        return redirect(url_for("web.plan_import_job", job_id=job.id))
    result = _attempt(data, pending["filename"], dry_run=False, archive=pending)
    if not isinstance(result, ImportResult):
        return result
    _forget_upload()
    flash(_("Imported: %(new)s new goals, %(updated)s updated.", new=result.created, updated=result.updated), "success")
    return redirect(url_for("web.plan_page", plan_id=result.plan.id))


@bp.post("/plans/import/cancel")
@login_required
def plan_import_cancel():
    _forget_upload()
    return redirect(url_for("web.plan_import"))
