"""The governor's qualified signature on the report: the PDF/A for signing, the signed upload and
its validation report, the signed (and sealed) copy."""

from __future__ import annotations

import marshmallow as ma
from flask import Response, request
from flask_smorest import Blueprint
from flask_smorest.fields import Upload
from marshmallow import fields, validate

from service.api import schemas as s
from service.api.common import ID, actor, authenticate
from service.goals.documents import LANGS
from service.kernel.errors import GoalflowError
from service.signatures import service as signatures

bp = Blueprint(
    "signatures", __name__, url_prefix="/api/v1",
    description="The report signed with a qualified electronic signature (КЕП) and sealed by the administration",
)
UPLOAD_ENDPOINT = "signatures.upload_signed_report"
MULTIPART = "multipart/form-data"
PDF = {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}


@bp.before_request
def authenticate_upload() -> None:
    """Authenticated like the rest of the API; the upload alone takes a multipart body."""
    try:
        authenticate()
    except GoalflowError as exc:
        if not (exc.code == "unsupported_media_type" and request.endpoint == UPLOAD_ENDPOINT
                and request.mimetype == MULTIPART):
            raise


class ForSigningArgs(s.Strict):
    lang = fields.String(load_default="bg", validate=validate.OneOf(LANGS))


class SignedFileSchema(s.Strict):
    file = Upload(required=True, metadata={"description": "The PDF downloaded for signing, signed with КЕП (PAdES)"})


class SignerSchema(ma.Schema):
    name = fields.String()
    identity = fields.String(metadata={"description": "The certificate subject's serialNumber, e.g. PNOBG-…"})
    subject = fields.String()
    issuer = fields.String()
    certificate_sha256 = fields.String()
    valid_from = fields.String()
    valid_until = fields.String()


class ProducedSchema(ma.Schema):
    copy_id = fields.Integer()
    sha256 = fields.String(metadata={"description": "SHA-256 of the PDF/A produced for signing"})
    size = fields.Integer()


class ValidationReportSchema(ma.Schema):
    id = fields.Integer()
    plan_id = fields.Integer()
    status = fields.String(metadata={"description": "valid: every check passed (a refused file is a problem, 422)"})
    signer = fields.Nested(SignerSchema)
    trust_anchor = fields.String()
    signed_at = fields.String()
    timestamp = fields.String(allow_none=True)
    coverage = fields.String()
    only_signature_appended = fields.Boolean()
    revocation = fields.String(metadata={"description": "good, or not_checked when no OCSP or CRL answered"})
    digest_algorithm = fields.String()
    signature_mechanism = fields.String()
    document = fields.Nested(ProducedSchema)
    signed_file_sha256 = fields.String()
    checked_at = fields.String()
    uploaded_at = fields.String()
    sealed = fields.Boolean(metadata={"description": "The public copy carries the administration's seal"})
    sealed_at = fields.String(allow_none=True)


def report_body(signature) -> dict:
    return {
        **signature.report, "id": signature.id, "plan_id": signature.plan_id,
        "uploaded_at": signature.uploaded_at.isoformat(), "sealed": signature.sealed_pdf is not None,
        "sealed_at": signature.sealed_at.isoformat() if signature.sealed_at else None,
    }


def _pdf(data: bytes, filename: str) -> Response:
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.get(f"/plans/<{ID}:plan_id>/report/for-signing")
@bp.arguments(ForSigningArgs, location="query")
@bp.doc(responses={"200": {"description": "The report as PDF/A-3b, to sign with КЕП", "content": PDF}})
def report_for_signing(args: dict, plan_id: int):
    """The report as PDF/A "за подпис" (the person who signs it off: the governor).

    goalflow keeps the file's digest: a signed upload must begin with exactly these bytes."""
    data, filename = signatures.issue_copy(actor(), plan_id, lang=args["lang"])
    return _pdf(data, filename)


@bp.post(f"/plans/<{ID}:plan_id>/report/signature")
@bp.arguments(SignedFileSchema, location="files")
@bp.response(201, ValidationReportSchema)
def upload_signed_report(files: dict, plan_id: int):
    """Upload the report signed with КЕП; when every check holds, the report's sign-off is completed.

    Refusals are problems with their own code: `not_signed`, `signature_broken` (changed after
    signing, or damaged), `document_changed` (not the PDF produced for signing, or more than a
    signature added), `document_outdated` (the report changed since it was downloaded),
    `signer_untrusted` (not under the configured trust list, expired), `certificate_revoked`,
    `revocation_unchecked`, `signer_mismatch` (another person), `signing_identity_missing`,
    `signature_not_expected`."""
    upload = files["file"]
    return report_body(signatures.accept(actor(), plan_id, upload.read()))


@bp.get(f"/plans/<{ID}:plan_id>/report/signature")
@bp.response(200, ValidationReportSchema)
def signed_report_validation(plan_id: int):
    """The validation report of the accepted signature (404 while the report is not signed)."""
    signature = signatures.signature_for(actor(), plan_id)
    if signature is None:
        raise GoalflowError("not_found")
    return report_body(signature)


@bp.get(f"/plans/<{ID}:plan_id>/report/signed.pdf")
@bp.doc(responses={"200": {"description": "The signed report, with the administration's seal once sealed",
                           "content": PDF}})
def signed_report_pdf(plan_id: int):
    """The signed report as published: the governor's signature and the administration's seal."""
    signature = signatures.signature_for(actor(), plan_id)
    if signature is None:
        raise GoalflowError("not_found")
    return _pdf(signatures.public_pdf(signature), f"report-{signature.plan_id}-signed.pdf")
