"""The official goals table as files: import a plan or report (multipart), export a plan or its report."""

from __future__ import annotations

import marshmallow as ma
from flask import Response, jsonify, request, url_for
from flask_smorest import Blueprint
from flask_smorest.fields import Upload
from marshmallow import fields, validate

from service.api import schemas as s
from service.api.common import ID, actor, authenticate
from service.documents.columns import EXTRA_COLUMNS
from service.errors_http import reader_lang
from service.goals import documents, import_jobs
from service.goals.documents import FORMATS, KINDS, LANGS, ImportResult
from service.goals.models import ImportJob
from service.kernel.errors import GoalflowError

bp = Blueprint(
    "documents", __name__, url_prefix="/api/v1",
    description="The official goals table as a file: import (DOCX, XLSX, CSV, extracted text) and export "
    "(DOCX, XLSX, CSV, PDF)",
)
IMPORT_ENDPOINT = "documents.import_plan"
MULTIPART = "multipart/form-data"


@bp.before_request
def authenticate_upload() -> None:
    """Every call is authenticated like the rest of the API; the import alone takes a multipart
    body instead of JSON (the check that refuses anything else runs after authentication)."""
    try:
        authenticate()
    except GoalflowError as exc:
        if not (exc.code == "unsupported_media_type" and request.endpoint == IMPORT_ENDPOINT
                and request.mimetype == MULTIPART):
            raise


# -- schemas ----------------------------------------------------------------------------------


class ImportArgs(s.Strict):
    dry_run = fields.Boolean(
        load_default=False, metadata={"description": "Parse and answer the goals with their warnings; write nothing"},
    )
    archive = fields.Boolean(
        load_default=False,
        metadata={"description": "A past year's report signed on paper, kept archived as its record (with "
                  "`paper_signed_on`); only into a year without a plan"},
    )
    paper_signed_on = fields.Date(metadata={"description": "The day the paper report was signed (with `archive`)"})


class ImportFileSchema(s.Strict):
    file = Upload(required=True, metadata={"description": "DOCX, XLSX, CSV or tab-separated extracted text"})


class ExportArgs(s.Strict):
    format = fields.String(required=True, validate=validate.OneOf(list(FORMATS)))
    kind = fields.String(
        validate=validate.OneOf(KINDS),
        metadata={"description": "The plan or the year's report; default: the report once reporting has opened"},
    )
    lang = fields.String(load_default="bg", validate=validate.OneOf(LANGS))
    extra = fields.List(
        fields.String(validate=validate.OneOf(sorted(EXTRA_COLUMNS))), load_default=list,
        metadata={"description": "Columns beyond the official form's 14, e.g. `achieved` (the achieved values)"},
    )


class ImportedIndicatorSchema(s.IndicatorSchema):
    """An indicator as the file has it: not saved yet, so neither id nor position."""

    class Meta:
        exclude = ("id", "position")


class ImportedGoalSchema(ma.Schema):
    number = fields.Integer(metadata={"description": "The goal's number in the plan (a repeated number is renumbered)"})
    goal_id = fields.Integer(allow_none=True, metadata={"description": "None on a dry run for a new goal"})
    action = fields.String(
        metadata={"description": "create, update, or progress_only (a plan being reported on: only the progress note)"},
    )
    state = fields.String(metadata={"description": "The goal's state after the import"})
    needs_review = fields.Boolean()
    warnings = fields.List(s.InReaderLanguage(), metadata={"description": "In the language Accept-Language asks for"})
    title = fields.String()
    strategic_documents = fields.String()
    strategic_goal = fields.String()
    strategic_indicator = fields.String()
    indicators = fields.List(fields.Nested(ImportedIndicatorSchema))
    financing_amount = fields.String(allow_none=True, metadata={"format": "decimal"})
    financing_not_applicable = fields.Boolean()
    financing_source = fields.String()
    activities = fields.List(fields.String())
    units = fields.List(fields.String(), metadata={"description": "Unit codes as the document names them"})
    status_wording = fields.String()
    progress_note = fields.String()
    source_cells = fields.List(fields.String(), metadata={"description": "The row's cells as found in the file"})


class ImportResultSchema(ma.Schema):
    dry_run = fields.Boolean()
    year = fields.Integer()
    kind = fields.String()
    plan_id = fields.Integer(allow_none=True, metadata={"description": "None on a dry run for a year without a plan"})
    plan_created = fields.Boolean()
    created = fields.Integer()
    updated = fields.Integer()
    warnings = fields.List(s.InReaderLanguage(), metadata={
        "description": "About the document as a whole, in the language Accept-Language asks for"})
    goals = fields.List(fields.Nested(ImportedGoalSchema))


class JobProblemSchema(ma.Schema):
    code = fields.String()
    title = fields.String()
    detail = fields.String(metadata={"description": "In the language Accept-Language asks for"})


class ImportJobSchema(ma.Schema):
    id = fields.Integer()
    status = fields.String(metadata={"description": "queued, running, done or failed"})
    phase = fields.String(metadata={"description": "While running: reading (the file) or importing (its goals)"})
    done = fields.Integer(metadata={"description": "Goals handled"})
    total = fields.Integer(metadata={"description": "Goals in the file, once it is read"})
    dry_run = fields.Boolean()
    filename = fields.String()
    created_at = fields.DateTime()
    finished_at = fields.DateTime(allow_none=True)
    result = fields.Nested(ImportResultSchema, allow_none=True, metadata={"description": "Once done"})
    problem = fields.Nested(JobProblemSchema, allow_none=True, metadata={
        "description": "Once failed: the code and words the import would have answered (e.g. too_many_rows)"})


def job_body(job: ImportJob) -> dict:
    """The job as the API answers it: a refusal's title in English (as every problem's), its detail
    and the result's warnings in the caller's language."""
    error, lang = import_jobs.problem_of(job), reader_lang()
    return {
        **{name: getattr(job, name) for name in ("id", "status", "phase", "done", "total", "dry_run", "filename",
                                                 "created_at", "finished_at", "result")},
        "problem": {"code": error.code, "title": error.message("en"), "detail": error.message(lang)} if error else None,
    }


def result_body(result: ImportResult) -> dict:
    return documents.result_summary(result)


# -- endpoints --------------------------------------------------------------------------------

BINARY = {"schema": {"type": "string", "format": "binary"}}


@bp.post("/plans/import")
@bp.arguments(ImportArgs, location="query")
@bp.arguments(ImportFileSchema, location="files")
@bp.response(200, ImportResultSchema)
@bp.alt_response(202, schema=ImportJobSchema, description="A large file: imported by the worker; poll the job")
def import_plan(args: dict, files: dict):
    """Import a plan or a year's report into the plan of its year (the chief secretary or an administrator).

    Goals are matched by plan and goal number: importing the same file again updates them. A row that
    does not fit is imported with its warnings, flagged for review, its cells kept. A draft plan takes
    every column; a year without a plan gets a draft, from a plan or a report alike: an import never
    signs, the draft is adopted through the approval path. `?archive=true&paper_signed_on=YYYY-MM-DD`
    brings in a past year's report signed on paper, archived as its record, with who imported it and
    the day of the paper signature. A plan being reported on takes only the progress notes from a report (the rest is
    signed: differences become warnings); any other plan refuses the import (409). A file that cannot
    be read answers a problem whose code says why (`empty`, `not_a_table`, `encoding`, `too_large`,
    `zip_bomb`, `unsupported`) and nothing is written. `?dry_run=true` answers the same, writing nothing.

    Each import is bounded: the decompressed size of each part of a DOCX/XLSX (`part_too_large`), the
    rows of its table (`too_many_rows`) and its time (`too_slow`), all 413. A file larger than
    IMPORT_BACKGROUND_BYTES is imported by the worker: the answer is 202 with the job, and its
    Location, `/api/v1/import-jobs/{id}`, answers its progress, then the result or the problem.
    """
    me = actor()
    if me.administration is None or not documents.may_import(me, me.administration.id):
        raise GoalflowError("forbidden")  # before reading the file: nothing is parsed for someone who may not import
    upload = files["file"]
    data, filename = upload.read(), upload.filename or ""
    if import_jobs.in_background(data) and not args["archive"]:  # an archive is one past year: kept inline
        job = import_jobs.start(actor=me, data=data, filename=filename, dry_run=args["dry_run"])
        response = jsonify(ImportJobSchema().dump(job_body(job)))  # a Response: not the 200 schema's dump
        response.status_code = 202
        response.headers["Location"] = url_for("documents.get_import_job", job_id=job.id)
        return response
    result = documents.import_upload(
        data, filename, administration=me.administration, actor=me, dry_run=args["dry_run"],
        archive=args["archive"], paper_signed_on=args.get("paper_signed_on"),
    )
    return result_body(result)


@bp.get(f"/import-jobs/<{ID}:job_id>")
@bp.response(200, ImportJobSchema)
def get_import_job(job_id: int):
    """A background import I started: its progress, then its result or why it was refused."""
    return job_body(import_jobs.get(actor=actor(), job_id=job_id))


@bp.get(f"/plans/<{ID}:plan_id>/export")
@bp.arguments(ExportArgs, location="query")
@bp.doc(responses={"200": {
    "description": "The document, A4 landscape, with the governor's approval block and the goals I may see",
    "content": {mimetype: BINARY for _, mimetype in FORMATS.values()},
    "headers": {"Content-Disposition": {"schema": {"type": "string"}, "description": "attachment; filename=..."}},
}})
def export_plan(args: dict, plan_id: int):
    """The plan ("Цели на ... за YYYY г.") or its report ("Отчет за изпълнението на целите ...") as a file."""
    export = documents.export_plan(
        actor(), plan_id, fmt=args["format"], kind=args.get("kind"), lang=args["lang"], extra_columns=args["extra"]
    )
    response = Response(export.data, mimetype=export.mimetype)
    if export.mimetype.startswith("text/"):
        response.charset = "utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    return response
