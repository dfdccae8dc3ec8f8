"""The official goals table as files: import a plan or report (multipart), export a plan or its report."""

from __future__ import annotations

import marshmallow as ma
from flask import Response, request
from flask_smorest import Blueprint
from flask_smorest.fields import Upload
from marshmallow import fields, validate

from service.api import schemas as s
from service.api.common import ID, actor, authenticate
from service.errors import GoalflowError
from service.goals import documents
from service.goals.documents import FORMATS, KINDS, LANGS, GoalOutcome, ImportResult

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
    warnings = fields.List(fields.String())
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
    warnings = fields.List(fields.String(), metadata={"description": "About the document as a whole"})
    goals = fields.List(fields.Nested(ImportedGoalSchema))


def _goal_body(outcome: GoalOutcome) -> dict:
    doc = outcome.goal
    return {
        **{name: getattr(doc, name) for name in ImportedGoalSchema().fields if hasattr(doc, name)},
        "number": outcome.number, "goal_id": outcome.goal_id, "action": outcome.action, "state": outcome.state,
        "needs_review": outcome.needs_review, "warnings": outcome.warnings,
        "indicators": [vars(i) for i in doc.indicators],
    }


def result_body(result: ImportResult) -> dict:
    return {
        "dry_run": result.dry_run, "year": result.year, "kind": result.kind,
        "plan_id": result.plan.id if result.plan else None, "plan_created": result.plan_created,
        "created": result.created, "updated": result.updated, "warnings": result.warnings,
        "goals": [_goal_body(o) for o in result.goals],
    }


# -- endpoints --------------------------------------------------------------------------------

BINARY = {"schema": {"type": "string", "format": "binary"}}


@bp.post("/plans/import")
@bp.arguments(ImportArgs, location="query")
@bp.arguments(ImportFileSchema, location="files")
@bp.response(200, ImportResultSchema)
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
    """
    me = actor()
    if me.administration is None or not documents.may_import(me, me.administration.id):
        raise GoalflowError("forbidden")  # before reading the file: nothing is parsed for someone who may not import
    upload = files["file"]
    document = documents.read_upload(upload.read(), upload.filename or "")
    result = documents.import_document(
        document, administration=me.administration, actor=me, dry_run=args["dry_run"],
        archive=args["archive"], paper_signed_on=args.get("paper_signed_on"),
    )
    return result_body(result)


@bp.get(f"/plans/<{ID}:plan_id>/export")
@bp.arguments(ExportArgs, location="query")
@bp.doc(responses={"200": {
    "description": "The document, A4 landscape, with the governor's approval block and the goals I may see",
    "content": {mimetype: BINARY for _, mimetype in FORMATS.values()},
    "headers": {"Content-Disposition": {"schema": {"type": "string"}, "description": "attachment; filename=..."}},
}})
def export_plan(args: dict, plan_id: int):
    """The plan ("Цели на ... за YYYY г.") or its report ("Отчет за изпълнението на целите ...") as a file."""
    export = documents.export_plan(actor(), plan_id, fmt=args["format"], kind=args.get("kind"), lang=args["lang"])
    response = Response(export.data, mimetype=export.mimetype)
    if export.mimetype.startswith("text/"):
        response.charset = "utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    return response
