"""The administration's seal through PKCS#11 (a SoftHSM2 token), time-stamped by a local TSA,
checked by pyHanko."""

from __future__ import annotations

import asyncio
import io
import os
import shutil
import subprocess

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from service.audit import checkpoints
from service.kernel.errors import GoalflowError
from service.signatures import seal as seal_module
from service.signatures import service as signatures
from tests.signatures import softhsm
from tests.signatures.pki import as_asn1


def test_the_public_copy_carries_the_governors_signature_and_the_seal(sealing, pki):
    copy, _ = signatures.issue_copy(sealing.governor, sealing.plan.id)
    signature = signatures.accept(sealing.governor, sealing.plan.id, pki.governor.sign_pdf(copy))

    assert signature.sealed_pdf is not None and signature.sealed_at is not None
    published = signatures.public_pdf(signature)
    assert published.startswith(signature.signed_pdf)  # the seal is a revision after the signature
    governor_sig, seal = PdfFileReader(io.BytesIO(published)).embedded_signatures
    roots = [as_asn1(pki.qtsp.certificate), as_asn1(pki.seal_ca.certificate)]

    kept = validate_pdf_signature(governor_sig, ValidationContext(trust_roots=roots))
    assert kept.intact and kept.valid and kept.trusted  # still valid under the seal

    sealed = validate_pdf_signature(seal, ValidationContext(trust_roots=roots))
    assert sealed.intact and sealed.valid and sealed.trusted
    assert "печат" in sealed.signing_cert.subject.native["common_name"]
    assert sealed.timestamp_validity is not None and sealed.timestamp_validity.trusted  # RFC 3161 from the TSA


def test_a_checkpoint_is_sealed_time_stamped_and_filed(sealing, pki, tmp_path):
    checkpoint = checkpoints.create(sealing.admin.id, reason="manual")
    assert checkpoint.seal is not None and checkpoint.sealed_at is not None
    folder = tmp_path / "checkpoints"
    statement = (folder / f"{checkpoint.file_name}.json").read_bytes()
    seal = (folder / f"{checkpoint.file_name}.p7s").read_bytes()
    assert statement == checkpoint.statement.encode() and seal == checkpoint.seal

    check = seal_check(statement, seal, pki)
    assert check.intact and check.trusted and check.timestamp is not None
    assert not seal_check(statement.replace(b'"seq":', b'"seq":1', 1), seal, pki).intact

    if shutil.which("openssl"):  # as an auditor checks it offline (docs/signatures.md)
        verified = subprocess.run(
            ["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", str(folder / f"{checkpoint.file_name}.p7s"),
             "-content", str(folder / f"{checkpoint.file_name}.json"), "-CAfile", str(pki.seal_roots),
             "-purpose", "any", "-out", os.devnull],
            capture_output=True, text=True,
        )
        assert verified.returncode == 0, verified.stderr


def seal_check(statement, seal, pki):
    return seal_module.check_statement_seal(statement, seal, [as_asn1(pki.seal_ca.certificate)])


def test_sealing_and_checking_work_where_an_event_loop_already_runs(sealing, pki):
    """A caller whose thread runs an event loop (a browser driver in tests, an async server) gets
    the same seal and the same verdict, not a refused check read as a broken seal."""
    async def inside_a_loop():
        made = seal_module.seal_statement(b'{"seq": 1}', sealing.settings)
        return made, seal_check(b'{"seq": 1}', made.der, pki), seal_check(b'{"seq": 2}', made.der, pki)

    made, same, changed = asyncio.run(inside_a_loop())
    assert same.intact and same.trusted and same.timestamp == made.timestamp
    assert not changed.intact


def test_a_seal_that_is_away_says_so_and_the_sign_off_stands(sealing, pki, monkeypatch):
    monkeypatch.setattr(sealing.settings, "SEAL_PIN", "000000")  # the token refuses
    with pytest.raises(GoalflowError) as caught:
        seal_module.seal_statement(b"{}", sealing.settings)
    assert caught.value.code == "seal_unavailable" and caught.value.status == 503

    copy, _ = signatures.issue_copy(sealing.governor, sealing.plan.id)
    signature = signatures.accept(sealing.governor, sealing.plan.id, pki.governor.sign_pdf(copy))
    assert signature.sealed_pdf is None and signature.plan.state == "report_approved"
    monkeypatch.setattr(sealing.settings, "SEAL_PIN", softhsm.PIN)  # back: the daily run seals it
    assert signatures.seal_pending() == 1
    assert signatures.latest_signature(sealing.plan.id).sealed_pdf.startswith(signature.signed_pdf)
