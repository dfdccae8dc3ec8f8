"""The signed report through the API and the pages: the PDF/A for signing, the upload, the
validation report, the refusals as problems, the blocks on the plan and public pages."""

from __future__ import annotations

import io

import pytest

from service.auth.service import issue_token
from service.extensions import db
from tests.web.test_pages import login, token


@pytest.fixture
def api(client, signing):
    def call(method, path, who="governor", **kwargs):
        bearer = issue_token(user=getattr(signing, who), name="tests")[1]
        return client.open(path, method=method, headers={"Authorization": f"Bearer {bearer}"}, **kwargs)
    return call


def upload(api, plan_id, data, who="governor"):
    return api("POST", f"/api/v1/plans/{plan_id}/report/signature", who=who,
               data={"file": (io.BytesIO(data), "signed.pdf")}, content_type="multipart/form-data")


def test_the_api_signs_off_and_answers_the_validation_report(api, signing, pki):
    plan_id = signing.plan.id
    assert api("GET", f"/api/v1/plans/{plan_id}/report/signature").status_code == 404
    assert api("GET", f"/api/v1/plans/{plan_id}/report/for-signing", who="secretary").status_code == 409
    copy = api("GET", f"/api/v1/plans/{plan_id}/report/for-signing")
    assert copy.status_code == 200 and copy.mimetype == "application/pdf"

    answer = upload(api, plan_id, pki.governor.sign_pdf(copy.data))
    assert answer.status_code == 201, answer.json
    body = answer.json
    assert body["status"] == "valid" and body["signer"]["identity"] == "PNOBG-7001010000"
    assert body["coverage"] == "entire_file" and body["revocation"] == "not_checked"
    assert body["document"]["size"] == len(copy.data)
    assert api("GET", f"/api/v1/plans/{plan_id}/report/signature", who="observer").json["id"] == body["id"]
    signed = api("GET", f"/api/v1/plans/{plan_id}/report/signed.pdf", who="observer")
    assert signed.status_code == 200 and signed.data.startswith(copy.data)
    db.session.expire_all()
    assert signing.plan.state == "report_approved"


def test_a_refusal_is_a_problem_with_its_code(api, signing, pki):
    copy = api("GET", f"/api/v1/plans/{signing.plan.id}/report/for-signing").data
    answer = upload(api, signing.plan.id, pki.other.sign_pdf(copy))
    assert answer.status_code == 403 and answer.mimetype == "application/problem+json"
    assert answer.json["type"].endswith("signer_mismatch") and "Иван Другиянов" in answer.json["detail"]
    missing = api("POST", f"/api/v1/plans/{signing.plan.id}/report/signature", data={},
                  content_type="multipart/form-data")
    assert missing.status_code == 422


def test_the_identifier_is_set_by_an_administrator_and_checked(api, signing):
    path = f"/api/v1/users/{signing.governor.id}"
    bad = api("PATCH", path, who="sysadmin", json={"signing_identity": "7001010000"})
    assert bad.status_code == 422 and "signing_identity" in bad.json.get("errors", bad.json).__str__()
    good = api("PATCH", path, who="sysadmin", json={"signing_identity": "pnobg-7001010001"})
    assert good.status_code == 200 and good.json["signing_identity"] == "PNOBG-7001010001"


def test_the_pages_show_the_form_then_the_signature(client, signing, pki):
    login(client, signing.governor, signing.password)
    preview = client.get(f"/plans/{signing.plan.id}/preview").text
    assert 'id="kep-upload"' in preview and "PNOBG-7001010000" in preview
    copy = client.get(f"/api/v1/plans/{signing.plan.id}/report/for-signing").data

    refused = client.post(f"/plans/{signing.plan.id}/report/signature", data={
        "csrf_token": token(client, f"/plans/{signing.plan.id}/preview"),
        "file": (io.BytesIO(pki.impostor.sign_pdf(copy)), "signed.pdf"),
    }, content_type="multipart/form-data")
    assert refused.status_code == 422 and 'data-code="signer_untrusted"' in refused.text

    done = client.post(f"/plans/{signing.plan.id}/report/signature", data={
        "csrf_token": token(client, f"/plans/{signing.plan.id}/preview"),
        "file": (io.BytesIO(pki.governor.sign_pdf(copy)), "signed.pdf"),
    }, content_type="multipart/form-data")
    assert done.status_code == 302
    page = client.get(f"/plans/{signing.plan.id}").text
    assert "Подписан с КЕП от Гергана Управителева" in page and "проверен: валиден" in page

    public = client.get(f"/public/{signing.admin.slug}/{signing.plan.year}").text
    assert "Подписан с КЕП от Гергана Управителева" in public and 'id="audit-checkpoint"' in public
    assert "PNOBG-7001010000" not in public  # a personal number is not printed on the public page
    pdf = client.get(f"/public/{signing.admin.slug}/{signing.plan.year}/report-signed.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(copy)
    statement = client.get(f"/public/{signing.admin.slug}/{signing.plan.year}/audit-checkpoint.json")
    assert statement.status_code == 200 and statement.json["kind"] == "goalflow-audit-checkpoint"


def test_the_daily_task_makes_a_checkpoint(configured):
    from worker.tasks import audit_checkpoint

    result = audit_checkpoint()
    assert len(result["checkpoints"]) >= 1 and result["sealed_reports"] == 0
