"""What an uploaded signed report must be, checked with pyHanko.

In this order, each refusal with its own code (service/kernel/errors.py):
1. a PDF with one signature, cryptographically intact and covering the whole file (`not_signed`,
   `signature_broken`);
2. its signed revision byte for byte a copy goalflow produced for signing, with only the signature's
   revision appended, which adds a signature field and nothing a reader sees (`document_changed`);
3. the signer's certificate chains to the configured trust list and is valid now, shortly after it
   signed, and not revoked where OCSP or CRL answer (`signer_untrusted`, `certificate_revoked`,
   `revocation_unchecked` when nobody answered and that is not accepted).
Who signed (the certificate's subject serialNumber) is the caller's question: it knows who must sign.
"""

from __future__ import annotations

import hashlib
import io
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from asn1crypto import x509
from pyhanko.keys import load_certs_from_pemder_data
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.ades.report import AdESFailure, AdESIndeterminate
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from service.db import utcnow

log = logging.getLogger(__name__)

REVOKED = {AdESFailure.REVOKED, AdESIndeterminate.REVOKED_NO_POE, AdESIndeterminate.REVOKED_CA_NO_POE}
# The catalog may gain the form and the signature's permissions and version; a page, its annotations.
SIGNING_MAY_CHANGE = {"/Catalog": {"/AcroForm", "/Perms", "/DSS", "/Extensions", "/Version"}, "/Page": {"/Annots"}}


class SignatureRefused(Exception):
    def __init__(self, code: str, detail: str = ""):
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class ProducedCopy:
    """A PDF produced for signing, as far as the check needs it."""

    id: int
    sha256: str
    size: int


@dataclass(frozen=True)
class CheckedSignature:
    copy_id: int
    signer_name: str
    signer_identity: str  # the subject's serialNumber
    certificate: x509.Certificate
    signed_at: datetime
    timestamped: bool
    revocation: str  # good | not_checked
    report: dict


def load_pem_certificates(setting: str) -> list[x509.Certificate]:
    """The certificates of a trust-list setting: a folder of PEM/DER files, or files separated by commas."""
    paths: list[Path] = []
    for part in (p.strip() for p in setting.split(",")):
        if not part:
            continue
        path = Path(part)
        if path.is_dir():
            paths += sorted(p for p in path.iterdir() if p.suffix.lower() in (".pem", ".crt", ".cer", ".der"))
        else:
            paths.append(path)
    certificates = []
    for path in paths:
        certificates += list(load_certs_from_pemder_data(path.read_bytes()))
    return certificates


def check_signed_report(
    data: bytes,
    copies: Sequence[ProducedCopy],
    *,
    trust_roots: Iterable[x509.Certificate],
    accept_unchecked_revocation: bool,
    now: datetime | None = None,
) -> CheckedSignature:
    now = now or utcnow()
    reader = _reader(data)
    signatures = reader.embedded_signatures
    if not signatures:
        raise SignatureRefused("not_signed", "no signature")
    if len(signatures) > 1:
        raise SignatureRefused("document_changed", "it carries more than one signature")
    embedded = signatures[0]
    roots = list(trust_roots)

    # 1. Intact and covering the whole file. Checked before the trust list, which may be empty.
    status = _validate(embedded, ValidationContext(trust_roots=roots, allow_fetching=True, revocation_mode="hard-fail",
                                                   moment=now))
    if not status.intact or not status.valid:
        raise SignatureRefused("signature_broken", "the signed bytes do not match the signature")
    if status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
        raise SignatureRefused("signature_broken", "content was added after the signature")

    # 2. The document goalflow produced, and a signature revision only.
    copy = next(
        (c for c in copies if len(data) > c.size and hashlib.sha256(data[: c.size]).hexdigest() == c.sha256), None
    )
    if copy is None:
        raise SignatureRefused("document_changed", "it does not begin with the PDF produced for signing")
    if reader.xrefs.total_revisions != 2 or embedded.signed_revision != 1:
        raise SignatureRefused("document_changed", "more than the signature was added to it")
    try:
        problem = changed_beyond_signature(reader)
    except (PdfError, ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        problem = f"its revisions cannot be compared ({type(exc).__name__})"
    if problem:
        raise SignatureRefused("document_changed", problem)

    # 3. Trusted, valid, not revoked.
    revocation = "good" if _names_revocation_sources(status.signing_cert) else "not_checked"
    if not status.trusted:
        indication = status.trust_problem_indic
        if indication in REVOKED:
            raise SignatureRefused("certificate_revoked")
        # Nobody answered for the revocation (hard-fail refuses then): the same check without
        # revocation decides, and the setting whether "not checked" will do.
        unchecked = _validate(embedded, ValidationContext(
            trust_roots=roots, allow_fetching=False, revocation_mode="soft-fail", moment=now,
        ))
        if unchecked.trusted:
            status, revocation = unchecked, "not_checked"
        if not status.trusted:
            raise SignatureRefused("signer_untrusted", _indication_words(status.trust_problem_indic))
    if revocation == "not_checked" and not accept_unchecked_revocation:
        raise SignatureRefused("revocation_unchecked")

    certificate = status.signing_cert
    subject = certificate.subject.native
    stamp = status.timestamp_validity  # a time-stamp counts only from a TSA under the trust list
    timestamp = stamp.timestamp if stamp is not None and stamp.intact and stamp.valid and stamp.trusted else None
    signed_at = timestamp or status.signer_reported_dt or now
    anchor = status.validation_path.trust_anchor if status.validation_path else None
    report = {
        "status": "valid",
        "signer": {
            "name": subject.get("common_name", ""),
            "identity": subject.get("serial_number", ""),
            "subject": certificate.subject.human_friendly,
            "issuer": certificate.issuer.human_friendly,
            "certificate_sha256": certificate.sha256.hex(),
            "valid_from": certificate.not_valid_before.isoformat(),
            "valid_until": certificate.not_valid_after.isoformat(),
        },
        "trust_anchor": anchor.authority.name.human_friendly if anchor is not None else "",
        "signed_at": signed_at.isoformat(),
        "timestamp": timestamp.isoformat() if timestamp else None,
        "coverage": "entire_file",
        "only_signature_appended": True,
        "revocation": revocation,
        "digest_algorithm": status.md_algorithm,
        "signature_mechanism": status.pkcs7_signature_mechanism,
        "document": {"copy_id": copy.id, "sha256": copy.sha256, "size": copy.size},
        "signed_file_sha256": hashlib.sha256(data).hexdigest(),
        "checked_at": now.isoformat(),
    }
    return CheckedSignature(
        copy_id=copy.id, signer_name=report["signer"]["name"], signer_identity=report["signer"]["identity"],
        certificate=certificate, signed_at=signed_at, timestamped=timestamp is not None,
        revocation=revocation, report=report,
    )


def _reader(data: bytes) -> PdfFileReader:
    if not data.startswith(b"%PDF-"):
        raise SignatureRefused("not_signed", "not a PDF")
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        reader.embedded_signatures  # noqa: B018 - parses the signature fields: a broken file fails here
    except (PdfError, ValueError, KeyError, TypeError) as exc:
        raise SignatureRefused("not_signed", f"the PDF cannot be read ({exc})") from exc
    return reader


def _validate(embedded, context: ValidationContext):
    try:
        return validate_pdf_signature(embedded, context)
    except (SignatureValidationError, PdfError, ValueError, KeyError, TypeError) as exc:
        # A signature whose CMS cannot even be parsed, or whose byte range is inconsistent.
        log.info("signature refused as broken: %s", exc)
        raise SignatureRefused("signature_broken", str(exc)) from exc


def _names_revocation_sources(certificate: x509.Certificate) -> bool:
    return bool(certificate.ocsp_urls or certificate.crl_distribution_points)


def _indication_words(indication) -> str:
    words = {
        AdESIndeterminate.NO_CERTIFICATE_CHAIN_FOUND: "no chain to a trusted certificate authority",
        AdESIndeterminate.OUT_OF_BOUNDS_NO_POE: "the certificate is expired or not yet valid",
        AdESIndeterminate.OUT_OF_BOUNDS_NOT_REVOKED: "the certificate is expired or not yet valid",
        AdESIndeterminate.EXPIRED: "the certificate is expired",
        AdESIndeterminate.NOT_YET_VALID: "the certificate is not yet valid",
        AdESIndeterminate.CHAIN_CONSTRAINTS_FAILURE: "the certificate may not be used for signing",
        AdESIndeterminate.SIG_CONSTRAINTS_FAILURE: "the certificate may not be used for signing",
    }
    return words.get(indication, str(getattr(indication, "name", indication) or "not trusted").lower().replace("_", " "))


# -- the signing revision -----------------------------------------------------------------------


def changed_beyond_signature(reader: PdfFileReader, base: int = 0) -> str | None:
    """What the revision after `base` changed besides adding a signature field, or None.

    A signing program writes the signature dictionary, its field and widget, an appearance, and
    touches the catalog (the form), the signed page (its annotations) and the metadata. A page's
    content, resources or box, a new page or a new annotation other than the signature's widget are
    what a reader would see: they make it another document."""
    xrefs = reader.xrefs
    revision = base + 1
    old, new = reader.get_historical_resolver(base), reader.get_historical_resolver(revision)
    info = old.trailer_view.raw_get("/Info") if "/Info" in old.trailer_view else None
    info_ref = info.reference if isinstance(info, generic.IndirectObject) else None
    existing: set = set()
    for earlier in range(revision):
        existing |= xrefs.explicit_refs_in_revision(earlier)
    if xrefs.refs_freed_in_revision(revision):
        return "objects of the document were deleted"
    for ref in xrefs.explicit_refs_in_revision(revision):
        if ref not in existing:
            continue  # a new object matters only if a changed one refers to it
        before, after = old.get_object(ref), new.get_object(ref)
        if ref == info_ref or (isinstance(before, generic.StreamObject) and before.get("/Type") == "/Metadata"):
            continue  # the document's metadata (producer, dates): not what a reader sees
        if isinstance(before, generic.ArrayObject) and isinstance(after, generic.ArrayObject):
            problem = _only_signature_widgets_added(list(before), list(after))  # an /Annots array that grew
            if problem:
                return problem
            continue
        if isinstance(before, generic.StreamObject) or not isinstance(before, generic.DictionaryObject) \
                or not isinstance(after, generic.DictionaryObject):
            return f"object {ref.idnum} was rewritten"
        kind = before.get("/Type")
        may_change = SIGNING_MAY_CHANGE.get(kind, set())
        for key in set(before) | set(after):
            if key not in may_change and before.get(key) != after.get(key):
                return f"object {ref.idnum} ({str(kind).lstrip('/') or 'dictionary'}) changed its {key.lstrip('/')}"
        if kind == "/Page":
            problem = _only_signature_widgets_added(_annots(before), _annots(after))
            if problem:
                return problem
    return None


def _annots(page: generic.DictionaryObject) -> list:
    annots = page.get("/Annots")
    return list(annots.get_object()) if annots is not None else []


def _only_signature_widgets_added(before: list, after: list) -> str | None:
    if after[: len(before)] != before:
        return "annotations of the document were changed"
    for item in after[len(before):]:
        annot = item.get_object()
        field = annot
        while "/FT" not in field and "/Parent" in field:
            field = field["/Parent"].get_object()
        if annot.get("/Subtype") != "/Widget" or field.get("/FT") != "/Sig":
            return "an annotation other than the signature was added"
    return None
