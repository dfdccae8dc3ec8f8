"""Importing a plan or a report from a file: upload, a dry-run preview, then confirm.

The uploaded file waits for the confirmation under VAR_DIR/imports, named by a random token
that only this browser session knows; confirming imports exactly what was previewed.
"""

from __future__ import annotations

import secrets
import time
from datetime import date
from pathlib import Path

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from service.common import settings
from service.errors import GoalflowError
from service.goals import documents
from service.goals.documents import PROGRESS_ONLY, UPDATE, ImportResult
from service.web.common import error_message, field_errors, lang, parse_date
from service.web.views import bp
from service.workflow_registry import workflow_for

SESSION_KEY = "plan_import"
KEEP_SECONDS = 24 * 3600  # an upload nobody confirmed is removed after a day


def _may_import() -> None:
    if not documents.may_import(current_user, current_user.administration_id):
        raise GoalflowError("forbidden")


def _uploads() -> Path:
    folder = Path(settings().VAR_DIR) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _forget_upload() -> None:
    pending = session.pop(SESSION_KEY, None)
    if pending:
        (_uploads() / pending["token"]).unlink(missing_ok=True)
    cutoff = time.time() - KEEP_SECONDS
    for old in _uploads().iterdir():
        if old.stat().st_mtime < cutoff:
            old.unlink(missing_ok=True)


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
        document = documents.read_upload(data, filename)
        signed = archive.get("paper_signed_on")
        return documents.import_document(
            document, administration=current_user.administration, actor=current_user, dry_run=dry_run,
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
    result = _attempt(data, filename, dry_run=True, archive=archive)
    if not isinstance(result, ImportResult):
        return result
    _forget_upload()
    token = secrets.token_urlsafe(24)
    (_uploads() / token).write_bytes(data)
    session[SESSION_KEY] = {"token": token, "filename": filename, **archive}
    return _preview(result, filename, token)


@bp.post("/plans/import/confirm")
@login_required
def plan_import_confirm():
    _may_import()
    pending = session.get(SESSION_KEY)
    path = _uploads() / pending["token"] if pending else None
    if not pending or request.form.get("token") != pending["token"] or not path.is_file():
        flash(_("That preview is no longer current: choose the file again."), "error")
        return redirect(url_for("web.plan_import"))
    result = _attempt(path.read_bytes(), pending["filename"], dry_run=False, archive=pending)
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
