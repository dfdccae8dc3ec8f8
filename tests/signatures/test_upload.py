"""The governor's signed report: real PAdES signatures made with pyHanko under a test CA."""

from __future__ import annotations

import io

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from sqlalchemy import select

from service.audit.models import Event
from service.extensions import db
from service.kernel.errors import GoalflowError
from service.signatures import service as signatures
from tests.signatures.pki import add_text_to_first_page


def refused(world, data: bytes) -> GoalflowError:
    with pytest.raises(GoalflowError) as caught:
        signatures.accept(world.governor, world.plan.id, data)
    db.session.expire_all()
    assert world.plan.state == "report_submitted"  # nothing applied
    assert signatures.latest_signature(world.plan.id) is None
    return caught.value


def refusals() -> list[str]:
    return [e.after["code"] for e in db.session.scalars(
        select(Event).where(Event.action == "report_signature_refused").order_by(Event.seq))]


def test_a_valid_signature_completes_the_sign_off(signing, pki):
    copy, filename = signatures.issue_copy(signing.governor, signing.plan.id)
    assert filename.endswith("za-podpis.pdf")
    catalog = PdfFileReader(io.BytesIO(copy)).root
    assert catalog["/OutputIntents"][0]["/S"] == "/GTS_PDFA1" and b"pdfaid:part" in catalog["/Metadata"].data
    signed = pki.governor.sign_pdf(copy)

    signature = signatures.accept(signing.governor, signing.plan.id, signed)

    db.session.expire_all()
    assert signing.plan.state == "report_approved"
    assert signing.plan.report_approved_by_id == signing.governor.id
    report = signature.report
    assert report["status"] == "valid" and report["coverage"] == "entire_file"
    assert report["signer"]["identity"] == "PNOBG-7001010000"
    assert report["signer"]["name"] == "Гергана Управителева"
    assert report["revocation"] == "not_checked"
    assert "Test Qualified CA" in report["trust_anchor"]
    assert signature.signed_pdf == signed
    # completed through the approvals service: the governor's approval of the request that
    # submit_report opened names the signature, and the change of state follows from that request
    changed = db.session.scalar(select(Event).where(Event.action == "state_changed", Event.subject_type == "plan")
                                .order_by(Event.seq.desc()))
    assert changed.after["state"] == "report_approved" and changed.request_id is not None
    approval = db.session.scalar(select(Event).where(Event.action == "approved",
                                                     Event.request_id == changed.request_id))
    assert approval.actor_id == signing.governor.id
    assert "КЕП" in approval.reason and "PNOBG-7001010000" in approval.reason


def test_a_file_changed_before_signing_is_refused(signing, pki):
    from service.goals.documents import render

    copy, _ = signatures.issue_copy(signing.governor, signing.plan.id)
    # the same report laid out again with one goal's title changed, as an editor would save it
    signing.g_a.title = "Цел 1, преписана"
    edited = render(signing.plan, fmt="pdf", kind="report").data
    db.session.rollback()
    error = refused(signing, pki.governor.sign_pdf(edited))
    assert error.code == "document_changed" and error.status == 422
    assert "изготвен от системата" in error.message("bg") and "produced for signing" in error.message("en")
    # one byte of the copy changed before signing (its binary comment line)
    changed = bytearray(copy)
    changed[copy.index(b"\n") + 2] ^= 1
    assert refused(signing, pki.governor.sign_pdf(bytes(changed))).code == "document_changed"


def test_a_page_drawn_on_in_the_signature_revision_is_refused(signing, pki):
    copy, _ = signatures.issue_copy(signing.governor, signing.plan.id)
    error = refused(signing, pki.governor.sign_pdf(copy, before_signing=add_text_to_first_page))
    assert error.code == "document_changed" and "Contents" in error.params["detail"]


def test_a_signature_by_another_person_is_refused(signing, pki):
    copy, _ = signatures.issue_copy(signing.governor, signing.plan.id)
    error = refused(signing, pki.other.sign_pdf(copy))
    assert error.code == "signer_mismatch" and error.status == 403
    assert "Иван Другиянов" in error.message("bg") and "друго лице" in error.message("bg")
    assert refusals() == ["signer_mismatch"]


def test_a_certificate_of_an_untrusted_issuer_is_refused(signing, pki):
    copy, _ = signatures.issue_copy(signing.governor, signing.plan.id)
    # the same name and identifier, issued by a CA outside the trust list
    error = refused(signing, pki.impostor.sign_pdf(copy))
    assert error.code == "signer_untrusted"
    assert "доверен" in error.message("bg")


def test_a_broken_signature_is_refused(signing, pki):
    copy, _ = signatures.issue_copy(signing.governor, signing.plan.id)
    signed = bytearray(pki.governor.sign_pdf(copy))
    at = signed.index(b"%%EOF")  # the first revision's end: covered by the signature
    signed[at + 1] = ord("X")
    error = refused(signing, bytes(signed))
    assert error.code == "signature_broken"
    assert refusals() == ["signature_broken"]


def test_an_unsigned_file_and_a_stranger_are_refused(signing):
    copy, _ = signatures.issue_copy(signing.governor, signing.plan.id)
    assert refused(signing, copy).code == "not_signed"
    assert refused(signing, b"not a pdf at all").code == "not_signed"
    with pytest.raises(GoalflowError) as caught:
        signatures.accept(signing.secretary, signing.plan.id, copy)
    assert caught.value.code == "signature_not_expected"


def test_a_report_changed_after_download_is_refused(signing, pki):
    copy, _ = signatures.issue_copy(signing.governor, signing.plan.id)
    signing.g_a.progress_note = "Променено след изтеглянето"
    db.session.commit()
    assert refused(signing, pki.governor.sign_pdf(copy)).code == "document_outdated"


def test_unchecked_revocation_is_refused_when_the_setting_says_so(signing, pki, monkeypatch):
    monkeypatch.setattr(signing.settings, "SIGNATURE_ACCEPT_UNCHECKED_REVOCATION", False)
    copy, _ = signatures.issue_copy(signing.governor, signing.plan.id)
    assert refused(signing, pki.governor.sign_pdf(copy)).code == "revocation_unchecked"


def test_an_unreachable_ocsp_responder_is_not_checked(signing, pki, monkeypatch):
    person = pki.qtsp.person("Гергана Управителева", "PNOBG-7001010000", ocsp_url="http://127.0.0.1:9/ocsp")
    copy, _ = signatures.issue_copy(signing.governor, signing.plan.id)
    signed = person.sign_pdf(copy)
    monkeypatch.setattr(signing.settings, "SIGNATURE_ACCEPT_UNCHECKED_REVOCATION", False)
    assert refused(signing, signed).code == "revocation_unchecked"
    monkeypatch.setattr(signing.settings, "SIGNATURE_ACCEPT_UNCHECKED_REVOCATION", True)
    assert signatures.accept(signing.governor, signing.plan.id, signed).revocation == "not_checked"


def test_without_an_identifier_on_the_profile_nothing_is_accepted(signing, pki):
    signing.governor.signing_identity = ""
    db.session.commit()
    copy, _ = signatures.issue_copy(signing.governor, signing.plan.id)
    assert refused(signing, pki.governor.sign_pdf(copy)).code == "signing_identity_missing"


def test_the_required_signature_refuses_the_plain_click(signing, pki, monkeypatch):
    """With no sign-off waiting (the secretary withdrew it), the governor's own approve_report,
    which would apply at once, is refused without the signature; the upload asks for it itself."""
    from service.approvals import service as approvals

    monkeypatch.setattr(signing.settings, "REPORT_SIGNATURE_REQUIRED", True)
    approvals.withdraw(actor=signing.secretary, request_id=approvals.open_request("plan", signing.plan.id).id)
    with pytest.raises(GoalflowError) as caught:
        approvals.request_transition(actor=signing.governor, subject_type="plan", subject_id=signing.plan.id,
                                     transition="approve_report")
    assert caught.value.code == "transition_not_allowed_now" and "КЕП" in caught.value.message("en")
    db.session.rollback()
    assert approvals.open_request("plan", signing.plan.id) is None, "nothing half-opened"
    copy, _ = signatures.issue_copy(signing.governor, signing.plan.id)
    signatures.accept(signing.governor, signing.plan.id, pki.governor.sign_pdf(copy))
    db.session.expire_all()
    assert signing.plan.state == "report_approved"


def test_malformed_files_are_refused_not_crashed(signing, pki):
    copy, _ = signatures.issue_copy(signing.governor, signing.plan.id)
    signed = pki.governor.sign_pdf(copy)
    at = signed.index(b"/ByteRange")
    for data in (
        b"",
        b"%PDF-1.7\n" + b"\x00" * 100,
        signed[: len(signed) // 2],  # cut short
        signed[:at] + b"/ByteRange [0 1 2 3]" + signed[at + 20:],  # a lying byte range
        signed.replace(b"/Type /Sig", b"/Type /XYZ", 1),
        copy + b"\n%%EOF garbage" * 3,
    ):
        with pytest.raises(GoalflowError) as caught:
            signatures.accept(signing.governor, signing.plan.id, data)
        assert 400 <= caught.value.status < 500, caught.value
        db.session.rollback()


def test_a_sign_off_waiting_in_the_governors_inbox_is_approved_by_the_upload(signing, pki):
    """The report's submission put its sign-off in the governor's inbox; the upload decides it."""
    from service.approvals import service as approvals

    request = approvals.open_request("plan", signing.plan.id)
    assert request.transition == "approve_report" and request.requested_by_id == signing.secretary.id
    assert approvals.claims(signing.governor, request)
    copy, _ = signatures.issue_copy(signing.governor, signing.plan.id)
    assert refused(signing, pki.other.sign_pdf(copy)).code == "signer_mismatch"
    db.session.expire_all()
    assert request.status == "open"

    signatures.accept(signing.governor, signing.plan.id, pki.governor.sign_pdf(copy))

    db.session.expire_all()
    assert request.status == "approved" and signing.plan.state == "report_approved"
    decision = request.decisions[0]
    assert decision.decided_by_id == signing.governor.id and "КЕП" in decision.comment


def test_a_time_stamped_signature_is_dated_by_a_trusted_tsa_only(signing, pki, tsa_url, monkeypatch):
    copy, _ = signatures.issue_copy(signing.governor, signing.plan.id)
    signed = pki.governor.sign_pdf(copy, tsa_url=tsa_url)
    # the TSA's CA on the trust list too: its time-stamp dates the signature (PAdES-T)
    monkeypatch.setattr(signing.settings, "SIGNATURE_TRUST_ROOTS", f"{pki.trust_dir},{pki.seal_roots}")
    signature = signatures.accept(signing.governor, signing.plan.id, signed)
    assert signature.report["timestamp"] is not None
    assert signature.signed_at.isoformat() == signature.report["timestamp"]


def test_revocation_is_checked_against_the_providers_crl(signing, pki, monkeypatch):
    from tests.signatures.tsa import serve_file

    revoked = []
    server, crl_url = serve_file(lambda: pki.qtsp.crl(revoked))
    try:
        person = pki.qtsp.person("Гергана Управителева", "PNOBG-7001010000", crl_url=crl_url)
        monkeypatch.setattr(signing.settings, "SIGNATURE_ACCEPT_UNCHECKED_REVOCATION", False)
        copy, _ = signatures.issue_copy(signing.governor, signing.plan.id)
        signed = person.sign_pdf(copy)

        revoked.append(person.certificate)
        assert refused(signing, signed).code == "certificate_revoked"

        revoked.clear()
        signature = signatures.accept(signing.governor, signing.plan.id, signed)
        assert signature.revocation == "good" and signature.report["revocation"] == "good"
    finally:
        server.shutdown()


def test_the_required_signature_lets_the_submission_open_the_sign_off(configured, pki, monkeypatch):
    """The guard refuses approving without the signature, never asking for it: submit_report still
    puts the sign-off in the governor's inbox, where the plain click is refused and the upload decides."""
    from service.approvals import service as approvals

    monkeypatch.setattr(configured.settings, "REPORT_SIGNATURE_REQUIRED", True)
    approvals.request_transition(actor=configured.secretary, subject_type="plan", subject_id=configured.plan.id,
                                 transition="submit_report")
    db.session.expire_all()
    assert configured.plan.state == "report_submitted"
    request = approvals.open_request("plan", configured.plan.id)
    assert request.transition == "approve_report" and approvals.claims(configured.governor, request)

    with pytest.raises(GoalflowError) as caught:
        approvals.decide(actor=configured.governor, request_id=request.id, verdict="approve")
    assert caught.value.code == "transition_not_allowed_now" and "КЕП" in caught.value.message("en")
    db.session.rollback()
    db.session.expire_all()
    assert request.status == "open" and not request.decisions and configured.plan.state == "report_submitted"

    copy, _ = signatures.issue_copy(configured.governor, configured.plan.id)
    signatures.accept(configured.governor, configured.plan.id, pki.governor.sign_pdf(copy))
    db.session.expire_all()
    assert request.status == "approved" and configured.plan.state == "report_approved"
    assert "КЕП" in request.decisions[0].comment
