"""The administration's seal: its key on a PKCS#11 token, every seal time-stamped by an RFC 3161
time-stamp authority (the TSA_URL setting).

Two forms: a PDF seal (PAdES, an incremental revision after the governor's signature, which stays
valid) for the public copy of the signed report, and a detached CMS seal over a statement (an audit
checkpoint), which `openssl cms -verify` or pyHanko checks offline.
"""

from __future__ import annotations

import asyncio
import io
import logging
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from asn1crypto import cms
from pyhanko.sign import fields, signers
from pyhanko.sign.pkcs11 import PKCS11Signer, TokenCriteria, open_pkcs11_session
from pyhanko.sign.timestamps.requests_client import RequestsHTTPTimeStamper
from pyhanko.sign.validation import async_validate_detached_cms
from pyhanko_certvalidator import ValidationContext

from service.config import Settings
from service.kernel.errors import GoalflowError

log = logging.getLogger(__name__)

SEAL_FIELD = "goalflow-seal"
# One seal at a time per process: a PKCS#11 session is not shared between threads.
_LOCK = threading.Lock()


def _unavailable(detail: str) -> GoalflowError:
    return GoalflowError("seal_unavailable", detail=detail)


@contextmanager
def sealer(settings: Settings) -> Iterator[tuple[signers.Signer, RequestsHTTPTimeStamper]]:
    """The token's signer and the TSA client; `seal_unavailable` when either is not configured or
    the token does not open."""
    if not settings.seal_configured:
        raise _unavailable("SEAL_PKCS11_MODULE and SEAL_KEY_LABEL are not set")
    if not settings.TSA_URL:
        raise _unavailable("TSA_URL is not set")
    with _LOCK:
        try:
            session = open_pkcs11_session(
                settings.SEAL_PKCS11_MODULE,
                token_criteria=TokenCriteria(label=settings.SEAL_TOKEN_LABEL) if settings.SEAL_TOKEN_LABEL else None,
                user_pin=settings.SEAL_PIN or None,
            )
        except Exception as exc:  # the module's own errors: a missing token, a wrong PIN
            raise _unavailable(f"the token does not open ({type(exc).__name__}: {exc})") from exc
        try:
            signer = PKCS11Signer(session, key_label=settings.SEAL_KEY_LABEL, cert_label=settings.SEAL_KEY_LABEL)
            timestamper = RequestsHTTPTimeStamper(settings.TSA_URL, timeout=settings.TSA_TIMEOUT_SECONDS)
            yield signer, timestamper
        finally:
            session.close()


def seal_pdf(data: bytes, settings: Settings) -> bytes:
    """The PDF with the administration's seal appended as a time-stamped PAdES signature."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    with sealer(settings) as (signer, timestamper):
        writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
        meta = signers.PdfSignatureMetadata(
            field_name=SEAL_FIELD, subfilter=fields.SigSeedSubFilter.PADES, reason="Печат на администрацията",
            md_algorithm="sha256",
        )
        try:
            return signers.sign_pdf(writer, meta, signer=signer, timestamper=timestamper).getvalue()
        except Exception as exc:  # the TSA away, the token refusing: nothing is sealed
            raise _unavailable(f"{type(exc).__name__}: {exc}") from exc


@dataclass(frozen=True)
class StatementSeal:
    der: bytes  # CMS SignedData, detached
    timestamp: datetime


def _run(coroutine):
    """pyHanko's signing and validation are coroutines; run one to its end from plain code, also
    where the calling thread already runs an event loop (asyncio.run refuses there, and a refused
    check would read as a seal that does not hold)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def seal_statement(statement: bytes, settings: Settings) -> StatementSeal:
    """A detached CMS seal over `statement`, with a signature time-stamp from the TSA."""
    with sealer(settings) as (signer, timestamper):
        try:
            content_info = _run(
                signer.async_sign_general_data(statement, "sha256", detached=True, timestamper=timestamper)
            )
        except Exception as exc:
            raise _unavailable(f"{type(exc).__name__}: {exc}") from exc
    der = content_info.dump()
    return StatementSeal(der, seal_time(der))


def seal_time(der: bytes) -> datetime:
    """The time the TSA put on the seal's signature time-stamp."""
    signed_data = cms.ContentInfo.load(der)["content"]
    for attribute in signed_data["signer_infos"][0]["unsigned_attrs"]:
        if attribute["type"].native == "signature_time_stamp_token":
            token = attribute["values"][0]
            return token["content"]["encap_content_info"]["content"].parsed["gen_time"].native
    raise ValueError("the seal has no time-stamp")


@dataclass(frozen=True)
class SealCheck:
    intact: bool
    trusted: bool | None  # None: no trust list for the seal is configured
    signer: str
    timestamp: datetime | None


def check_statement_seal(statement: bytes, der: bytes, trust_roots: list) -> SealCheck:
    """Does the seal cover exactly `statement`, and (with a trust list) come from a trusted seal?"""
    try:
        signed_data = cms.ContentInfo.load(der)["content"]
        context = ValidationContext(trust_roots=trust_roots, allow_fetching=False) if trust_roots else None
        status = _run(async_validate_detached_cms(statement, signed_data, signer_validation_context=context))
    except Exception as exc:  # a damaged file is a seal that does not hold
        log.info("seal does not verify: %s", exc)
        return SealCheck(False, False, "", None)
    timestamp = status.timestamp_validity.timestamp if status.timestamp_validity else None
    return SealCheck(
        intact=bool(status.intact and status.valid),
        trusted=bool(status.trusted) if trust_roots else None,
        signer=status.signing_cert.subject.human_friendly,
        timestamp=timestamp,
    )
