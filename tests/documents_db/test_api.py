"""POST /api/v1/plans/import and GET /api/v1/plans/{id}/export, on both backends."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

from flask import g
from sqlalchemy import func, select

from service.documents import parse_document
from service.extensions import db
from service.goals.models import Goal, Plan
from tests.documents_db.conftest import bearer


def upload(client, token: str, data: bytes, name: str = "plan.txt", query: str = ""):
    return client.post(
        f"/api/v1/plans/import{query}", data={"file": (io.BytesIO(data), name)}, headers=bearer(token),
        content_type="multipart/form-data",
    )


def plans_of(admin) -> int:
    return db.session.scalar(select(func.count()).select_from(Plan).where(Plan.administration_id == admin.id))


def test_import_preview_then_import_then_again(client, haskovo_admin, haskovo_bytes):
    h = haskovo_admin
    preview = upload(client, h.token, haskovo_bytes, "haskovo.txt", "?dry_run=true")
    assert preview.status_code == 200, preview.json
    body = preview.json
    assert (body["dry_run"], body["plan_id"], body["year"], body["kind"], body["created"]) == (True, None, 2023, "report", 8)
    assert [g["number"] for g in body["goals"]] == list(range(1, 9))
    assert body["goals"][0]["needs_review"] and body["goals"][0]["warnings"] and body["goals"][0]["source_cells"]
    # An import never signs: a report for a year without a plan becomes a draft of planned goals.
    assert body["goals"][7]["financing_amount"] == "120000" and body["goals"][5]["state"] == "planned"
    archive = "?archive=true&paper_signed_on=2024-02-20"
    archived = upload(client, h.token, haskovo_bytes, "haskovo.txt", archive + "&dry_run=true").json
    assert archived["goals"][5]["state"] == "not_done", "an archive keeps the states its paper report names"
    no_day = upload(client, h.token, haskovo_bytes, "haskovo.txt", "?archive=true")
    assert no_day.status_code == 422 and no_day.json["errors"] == {"paper_signed_on": "required"}
    assert plans_of(h.admin) == 0, "a dry run writes nothing"

    done = upload(client, h.token, haskovo_bytes, "haskovo.txt", archive)
    assert done.status_code == 200 and done.json["plan_created"] and done.json["created"] == 8
    plan_id = done.json["plan_id"]
    assert db.session.get(Plan, plan_id).state == "archived"

    exported = client.get(f"/api/v1/plans/{plan_id}/export?format=xlsx", headers=bearer(h.token))
    assert exported.status_code == 200
    assert exported.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert exported.headers["Content-Disposition"] == 'attachment; filename="haskovo-2023-report-bg.xlsx"'
    again = upload(client, h.token, exported.data, "haskovo.xlsx")
    assert again.status_code == 409 and again.json["code"] == "plan_not_importable", "the year has its record"
    assert db.session.scalar(select(func.count()).select_from(Goal).where(Goal.plan_id == plan_id)) == 8


def test_a_bad_upload_is_a_problem_with_a_stable_code_and_writes_nothing(client, haskovo_admin, haskovo_bytes):
    bad_files = [
        (b"", "empty.csv", 422, "empty"),
        (b"just some words\nand more words\n", "notes.txt", 422, "not_a_table"),
        ("Ред №;Ежегодна цел\n1;Цел\n".encode("cp1251"), "plan.csv", 422, "encoding"),
        (b"\x00\x01\x02\xff binary", "image.png", 415, "unsupported"),
    ]
    for data, name, status, code in bad_files:
        response = upload(client, haskovo_admin.token, data, name)
        assert (response.status_code, response.mimetype) == (status, "application/problem+json"), response.json
        assert response.json["code"] == code and response.json["type"].endswith(f":{code}")
        assert name in response.json["detail"]
    refused = upload(client, haskovo_admin.expert_token, haskovo_bytes)
    assert (refused.status_code, refused.json["code"]) == (403, "forbidden")

    h = haskovo_admin  # an upload is multipart, with a file
    missing = client.post("/api/v1/plans/import", data={"other": "x"}, headers=bearer(h.token),
                          content_type="multipart/form-data")
    assert missing.status_code == 422 and "file" in missing.json["errors"]
    as_json = client.post("/api/v1/plans/import", json={"file": "x"}, headers=bearer(h.token))
    assert as_json.status_code == 422
    as_form = client.post("/api/v1/plans/import", data={"file": "x"}, headers=bearer(h.token))
    assert as_form.status_code == 415
    assert client.post("/api/v1/plans/import", data={"file": (io.BytesIO(b"x"), "x.csv")}).status_code == 401
    assert plans_of(haskovo_admin.admin) == 0


def test_a_browser_session_imports_with_its_csrf_token(client, haskovo_admin, haskovo_bytes):
    h = haskovo_admin
    page = client.get("/login").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.post("/login", data={"email": h.secretary.email, "password": h.password, "csrf_token": csrf})
    files = {"file": (io.BytesIO(haskovo_bytes), "haskovo.txt")}
    without = client.post("/api/v1/plans/import?dry_run=true", data=files, content_type="multipart/form-data")
    assert without.status_code == 400 and without.json["code"] == "csrf_failed"
    files = {"file": (io.BytesIO(haskovo_bytes), "haskovo.txt")}
    g.pop("csrf_token", None)  # the tests share one app context: forget the token cached before signing in
    token = client.get("/api/v1/me").json["csrf_token"]
    with_token = client.post("/api/v1/plans/import?dry_run=true", data=files, content_type="multipart/form-data",
                             headers={"X-CSRFToken": token})
    assert with_token.status_code == 200, with_token.json
    assert len(with_token.json["goals"]) == 8


def export(client, token, plan_id, query):
    response = client.get(f"/api/v1/plans/{plan_id}/export?{query}", headers=bearer(token))
    assert response.status_code == 200, response.json
    return response


def test_export_says_plan_or_report_in_either_language_with_the_governors_approval(client, world):
    from service.auth.service import issue_token

    world.plan.approved_by_id, world.plan.approved_at = world.governor.id, datetime(2023, 1, 20, 23, 30, tzinfo=UTC)
    world.plan.report_approved_by_id = world.deputy.id
    world.plan.report_approved_at = datetime(2024, 2, 1, 9, 0, tzinfo=UTC)
    db.session.commit()
    token = issue_token(user=world.observer, name="tests")[1]

    report = parse_document(export(client, token, world.plan.id, "format=docx").data)  # reporting: the report
    assert (report.kind, report.year, report.governor_name) == ("report", 2023, world.deputy.name)
    assert report.approved_on.isoformat() == "2024-02-01"
    assert report.administration == world.admin.name
    plan = parse_document(export(client, token, world.plan.id, "format=xlsx&kind=plan").data)
    assert (plan.kind, plan.governor_name, plan.approved_on.isoformat()) == ("plan", world.governor.name, "2023-01-21")
    assert [g.number for g in plan.goals] == [1, 2, 3] and len(plan.goals[1].indicators) == 1  # two, one per line

    csv = export(client, token, world.plan.id, "format=csv&kind=report&lang=en")
    assert csv.mimetype == "text/csv" and csv.headers["Content-Type"] == "text/csv; charset=utf-8"
    text = csv.data.decode("utf-8-sig")
    assert "Implementation status" in text and "In progress" in text and "Планирана" not in text
    english = parse_document(export(client, token, world.plan.id, "format=docx&lang=en").data)
    assert english.kind == "report" and english.goals[2].state == "planned"


def test_export_shows_only_what_i_may_see_as_the_document_declares(client, world, haskovo_admin):
    from service.auth.service import issue_token

    token = issue_token(user=world.expert_b, name="tests")[1]
    document = parse_document(export(client, token, world.plan.id, "format=xlsx").data)
    assert [g.number for g in document.goals] == [2, 3]
    other = client.get(f"/api/v1/plans/{world.plan.id}/export?format=docx", headers=bearer(haskovo_admin.token))
    assert other.status_code == 404, "another administration's plan is not there for me"
    bad = client.get(f"/api/v1/plans/{world.plan.id}/export?format=odt", headers=bearer(token))
    assert bad.status_code == 422 and "format" in bad.json["errors"]
    assert client.get(f"/api/v1/plans/{world.plan.id}/export?format=docx").status_code == 401

    spec = client.get("/api/openapi.json").json
    upload_op = spec["paths"]["/api/v1/plans/import"]["post"]
    schema_ref = upload_op["requestBody"]["content"]["multipart/form-data"]["schema"]["$ref"]
    file_schema = spec["components"]["schemas"][schema_ref.rsplit("/", 1)[1]]
    assert file_schema["properties"]["file"] == {**file_schema["properties"]["file"], "type": "string", "format": "binary"}
    assert file_schema["required"] == ["file"]
    exported = spec["paths"]["/api/v1/plans/{plan_id}/export"]["get"]["responses"]["200"]["content"]
    assert set(exported) == {
        "application/pdf", "text/csv", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }


CYRILLIC = re.compile("[\u0400-\u04ff]")
# Words quoted from the document (a heading, a status) stay as the document has them, in any language.
QUOTED = re.compile("„[^“]*“|“[^”]*”")


def only_bulgarian(text: str) -> bool:
    return bool(CYRILLIC.search(text)) and not re.search("[A-Za-z]{3,}", QUOTED.sub("", text))


def only_english(text: str) -> bool:
    return bool(re.search("[A-Za-z]", text)) and not CYRILLIC.search(QUOTED.sub("", text))


def every_warning(body: dict) -> list[str]:
    return [*body["warnings"], *(w for goal in body["goals"] for w in goal["warnings"])]


def test_warnings_come_in_the_language_asked_for(client, haskovo_admin, haskovo_bytes):
    h = haskovo_admin
    bulgarian = upload(client, h.token, haskovo_bytes, "haskovo.txt", "?dry_run=true").json
    warnings = every_warning(bulgarian)
    assert len(warnings) >= 5 and all(only_bulgarian(w) for w in warnings), warnings
    assert "Липсва клетка: индикаторът от стратегически документ е приет за липсващ" in bulgarian["goals"][0]["warnings"][0]
    english = client.post("/api/v1/plans/import?dry_run=true", data={"file": (io.BytesIO(haskovo_bytes), "haskovo.txt")},
                          headers={**bearer(h.token), "Accept-Language": "en"}, content_type="multipart/form-data").json
    assert len(every_warning(english)) == len(warnings) and all(only_english(w) for w in every_warning(english))
    assert english["goals"][0]["warnings"][0].startswith("A cell is missing")
    second = client.post("/api/v1/plans/import?dry_run=true", data={"file": (io.BytesIO(haskovo_bytes), "haskovo.txt")},
                         headers={**bearer(h.token), "Accept-Language": "de, en;q=0.5"},
                         content_type="multipart/form-data").json
    assert every_warning(second) == every_warning(english), "English is the second language"

    done = upload(client, h.token, haskovo_bytes, "haskovo.txt")  # kept in both; read in one
    goal_id = done.json["goals"][0]["goal_id"]
    kept = db.session.get(Goal, goal_id).import_warnings
    assert kept and all(set(w) == {"bg", "en"} for w in kept)
    read_bg = client.get(f"/api/v1/goals/{goal_id}", headers=bearer(h.token)).json["import_warnings"]
    read_en = client.get(f"/api/v1/goals/{goal_id}", headers={**bearer(h.token), "Accept-Language": "en"}).json
    assert read_bg == [w["bg"] for w in kept] and read_en["import_warnings"] == [w["en"] for w in kept]


def test_a_bad_file_is_refused_in_the_language_asked_for(client, haskovo_admin):
    data = b"just some words\nand more words\n"
    bulgarian = upload(client, haskovo_admin.token, data, "notes.txt").json
    assert bulgarian["code"] == "not_a_table"
    assert bulgarian["detail"].startswith("notes.txt: Не е открита таблица с цели")
    assert only_bulgarian(bulgarian["detail"].removeprefix("notes.txt: "))
    english = client.post("/api/v1/plans/import", data={"file": (io.BytesIO(data), "notes.txt")},
                          headers={**bearer(haskovo_admin.token), "Accept-Language": "en"},
                          content_type="multipart/form-data").json
    assert english["detail"].startswith("notes.txt: No goals table found")
    assert only_english(english["detail"].removeprefix("notes.txt: "))
    assert only_english(english["title"]) and only_english(bulgarian["title"]), "a problem's title is English"


def test_an_import_job_answers_in_the_language_asked_for(client, haskovo_admin):
    from service.goals.models import ImportJob

    h = haskovo_admin
    warning = {"bg": "Целта няма наименование.", "en": "The goal has no title."}
    done = ImportJob(administration_id=h.admin.id, actor_id=h.secretary.id, filename="big.xlsx", status="done",
                     dry_run=True, result={"dry_run": True, "year": 2023, "kind": "plan", "plan_id": None,
                                           "plan_created": True, "created": 1, "updated": 0, "warnings": [warning],
                                           "goals": [{"number": 1, "title": "", "warnings": [warning]}]})
    failed = ImportJob(administration_id=h.admin.id, actor_id=h.secretary.id, filename="big.xlsx", status="failed",
                       error_code="not_a_table", error_params={"detail": {"bg": "big.xlsx: Няма таблица.",
                                                                          "en": "big.xlsx: No table."}})
    db.session.add_all([done, failed])
    db.session.commit()
    for lang, header in (("bg", {}), ("en", {"Accept-Language": "en"})):
        answer = client.get(f"/api/v1/import-jobs/{done.id}", headers={**bearer(h.token), **header}).json
        assert answer["result"]["warnings"] == [warning[lang]] == answer["result"]["goals"][0]["warnings"]
        problem = client.get(f"/api/v1/import-jobs/{failed.id}", headers={**bearer(h.token), **header}).json["problem"]
        assert problem["detail"] == f"big.xlsx: {'Няма таблица.' if lang == 'bg' else 'No table.'}"
        assert problem["title"] == "big.xlsx: No table."
