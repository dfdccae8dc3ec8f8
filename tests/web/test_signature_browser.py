"""The governor signs the report in the browser: download the PDF/A, sign it (here with pyHanko, as
a signing program would), upload it; a refusal says why in plain words. Headless Chromium."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.signatures.conftest import pki  # noqa: F401 - the test CA, its people and their keys
from tests.web.conftest import shoot, sign_in

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("GOALFLOW_SIGNATURE_SHOTS", "")  # a folder: screenshots to look at


@pytest.fixture
def waiting(web_app, web_world, pki, monkeypatch, tmp_path):  # noqa: F811 - fixtures imported above
    from service.approvals import service as approvals
    from service.extensions import db
    from service.org.models import User

    settings = web_app.config["GOALFLOW"]
    monkeypatch.setattr(settings, "SIGNATURE_TRUST_ROOTS", str(pki.trust_dir))
    monkeypatch.setattr(settings, "SIGNATURE_ACCEPT_UNCHECKED_REVOCATION", True)
    monkeypatch.setattr(settings, "AUDIT_CHECKPOINT_DIR", str(tmp_path / "checkpoints"))
    with web_app.app_context():
        db.session.get(User, web_world.governor.id).signing_identity = "PNOBG-7001010000"
        db.session.commit()
        secretary = db.session.get(User, web_world.secretary.id)
        approvals.request_transition(actor=secretary, subject_type="plan", subject_id=web_world.plan_id,
                                     transition="submit_report")
    return web_world


def signed_by(person, data: bytes) -> bytes:
    """pyHanko runs its own event loop: not in this thread, where Playwright's runs."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(person.sign_pdf, data).result()


def _shot(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def test_the_governor_uploads_the_signed_report(new_page, waiting, pki):  # noqa: F811
    page = new_page()
    sign_in(page, waiting.governor)
    page.goto(f"/plans/{waiting.plan_id}/preview")
    with page.expect_download() as download:
        page.click("#kep-download")
    copy = Path(download.value.path()).read_bytes()
    assert copy.startswith(b"%PDF-")

    # signed by someone else: refused, in plain words, nothing approved
    page.set_input_files("#kep-file", files=[
        {"name": "otchet.pdf", "mimeType": "application/pdf", "buffer": signed_by(pki.other, copy)}])
    page.click("#kep-submit")
    error = page.locator("#kep-file-error")
    assert error.get_attribute("data-code") == "signer_mismatch"
    assert "подписан от друго лице" in error.inner_text()
    _shot(page, "kep-refused")

    page.set_input_files("#kep-file", files=[
        {"name": "otchet.pdf", "mimeType": "application/pdf", "buffer": signed_by(pki.governor, copy)}])
    page.click("#kep-submit")
    page.wait_for_url(f"**/plans/{waiting.plan_id}")
    status = page.locator("#kep-status").inner_text()
    assert "Подписан с КЕП от Гергана Управителева" in status and "проверен: валиден" in status
    assert page.locator("#plan-state").get_attribute("data-state") == "report_approved"
    _shot(page, "kep-signed")
    shoot(page, "plan-signed")

    public = new_page()
    public.goto(f"/public/{waiting.slug}/2023")
    assert "Подписан с КЕП от Гергана Управителева" in public.locator("#kep-status").inner_text()
    assert "SHA-256" in public.locator("#audit-checkpoint").inner_text()
    with public.expect_download() as signed:
        public.click("#kep-signed-pdf")
    assert Path(signed.value.path()).read_bytes().startswith(copy)
    _shot(public, "kep-public")
    assert not page.problems and not public.problems
