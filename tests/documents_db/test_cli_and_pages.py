"""The import and export commands, and the import pages (preview, then confirm)."""

from __future__ import annotations

import io
import re

from flask import g
from sqlalchemy import func, select

from service.documents import parse_document
from service.extensions import db
from service.goals.models import Goal, Plan
from tests.documents_db.conftest import HASKOVO


def plan_count(admin) -> int:
    return db.session.scalar(select(func.count()).select_from(Plan).where(Plan.administration_id == admin.id))


def test_import_and_export_commands(ctx, haskovo_admin, tmp_path):
    runner = ctx.test_cli_runner()
    dry = runner.invoke(args=["import-plan", str(HASKOVO), "--administration", "haskovo", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "would import the report of 2023 into a new plan: 8 new goals, 0 updated" in dry.output
    assert all(re.search(rf"^  {n}\. create ", dry.output, re.M) for n in range(1, 9)), "every goal is listed"
    assert "Липсва клетка" in dry.output and "A cell is missing" not in dry.output, "Bulgarian unless asked"
    english = runner.invoke(args=["import-plan", str(HASKOVO), "--administration", "haskovo", "--dry-run",
                                  "--lang", "en"])
    assert english.exit_code == 0, english.output
    assert "A cell is missing" in english.output and "Липсва клетка" not in english.output
    warnings = [line for line in english.output.splitlines() if line.lstrip().startswith("! ")]
    assert warnings and not any(re.search("[а-яА-Я]", line.split("“")[0]) for line in warnings), "English only"
    assert runner.invoke(args=["import-plan", str(HASKOVO), "--administration", "haskovo", "--dry-run",
                               "--lang", "de"]).exit_code == 2
    assert plan_count(haskovo_admin.admin) == 0

    no_day = runner.invoke(args=["import-plan", str(HASKOVO), "--administration", "haskovo", "--archive"])
    assert no_day.exit_code == 1 and "paper_signed_on" in no_day.output
    done = runner.invoke(args=["import-plan", str(HASKOVO), "--administration", "haskovo", "--archive",
                               "--paper-signed-on", "20.02.2024"])
    assert done.exit_code == 0 and "imported the report of 2023" in done.output and "8 new goals" in done.output
    plan = db.session.scalar(select(Plan).where(Plan.administration_id == haskovo_admin.admin.id))
    assert (plan.state, str(plan.paper_signed_on), plan.archive_imported_by_id) == ("archived", "2024-02-20", None)

    out = tmp_path / "report.docx"
    written = runner.invoke(args=["export-plan", "--administration", "haskovo", "--year", "2023", "--format", "docx",
                                  "--out", str(out)])
    assert written.exit_code == 0, written.output
    document = parse_document(out.read_bytes())
    assert (document.kind, len(document.goals)) == ("report", 8)
    again = runner.invoke(args=["import-plan", str(out), "--administration", "haskovo", "--as", "secretary@haskovo.bg"])
    assert again.exit_code == 1 and "plan_not_importable" in again.output, "the archived year has its record"
    assert db.session.scalar(select(func.count()).select_from(Goal)) == 8
    extended = tmp_path / "report.csv"
    assert runner.invoke(args=["export-plan", "--administration", "haskovo", "--year", "2023", "--format", "csv",
                               "--extra", "achieved", "--out", str(extended)]).exit_code == 0
    assert "Постигнато състояние" in extended.read_text(encoding="utf-8-sig").splitlines()[0]


def test_commands_refuse_clearly(ctx, haskovo_admin, tmp_path):
    runner = ctx.test_cli_runner()
    bad = tmp_path / "notes.txt"
    bad.write_text("nothing to see here\n", encoding="utf-8")
    refused = runner.invoke(args=["import-plan", str(bad), "--administration", "haskovo"])
    assert refused.exit_code == 1 and "not_a_table" in refused.output
    assert "notes.txt: Не е открита таблица с цели" in refused.output and "No goals table" not in refused.output
    english = runner.invoke(args=["import-plan", str(bad), "--administration", "haskovo", "--lang", "en"])
    assert english.exit_code == 1 and "notes.txt: No goals table found" in english.output
    assert "Не е открита" not in english.output
    forbidden = runner.invoke(args=["import-plan", str(HASKOVO), "--administration", "haskovo", "--as", "expert@haskovo.bg"])
    assert forbidden.exit_code == 1 and "forbidden" in forbidden.output
    absent = runner.invoke(args=["export-plan", "--administration", "haskovo", "--year", "2031", "--format", "pdf",
                                 "--out", str(tmp_path / "x.pdf")])
    assert absent.exit_code == 1 and "no plan for 2031" in absent.output
    assert plan_count(haskovo_admin.admin) == 0


def sign_in(client, user, password):
    g.pop("csrf_token", None)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    assert client.post("/login", data={"email": user.email, "password": password, "csrf_token": csrf}).status_code == 302
    g.pop("csrf_token", None)  # the tests share one app context: forget the token cached before signing in


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_import_pages_preview_then_confirm(client, haskovo_admin, haskovo_bytes):
    h = haskovo_admin
    sign_in(client, h.secretary, h.password)
    form = client.get("/plans/import")
    assert form.status_code == 200 and 'enctype="multipart/form-data"' in form.text
    assert 'name="archive"' in form.text and 'name="paper_signed_on"' in form.text
    no_day = client.post("/plans/import", content_type="multipart/form-data", data={
        "csrf_token": csrf_of(form.text), "file": (io.BytesIO(haskovo_bytes), "haskovo.txt"), "archive": "yes"})
    assert no_day.status_code == 422 and "Полето е задължително" in no_day.text
    preview = client.post("/plans/import", content_type="multipart/form-data", data={
        "csrf_token": csrf_of(form.text), "file": (io.BytesIO(haskovo_bytes), "haskovo.txt"), "archive": "yes",
        "paper_signed_on": "2024-02-20"})
    assert preview.status_code == 200, preview.text[:500]
    assert preview.text.count("data-number=") == 8 and "Липсва клетка" in preview.text
    assert "A cell is missing" not in preview.text, "the warnings in the reader's language only"
    assert plan_count(h.admin) == 0, "the preview writes nothing"
    token = re.search(r'name="token" value="([^"]+)"', preview.text).group(1)

    stale = client.post("/plans/import/confirm", data={"csrf_token": csrf_of(preview.text), "token": "other"})
    assert stale.status_code == 302 and stale.headers["Location"].endswith("/plans/import")
    confirmed = client.post("/plans/import/confirm", data={"csrf_token": csrf_of(preview.text), "token": token})
    assert confirmed.status_code == 302, confirmed.text[:500]
    plan = db.session.scalar(select(Plan).where(Plan.administration_id == h.admin.id))
    assert confirmed.headers["Location"].endswith(f"/plans/{plan.id}") and len(plan.goals) == 8
    twice = client.post("/plans/import/confirm", data={"csrf_token": csrf_of(preview.text), "token": token})
    assert twice.status_code == 302 and twice.headers["Location"].endswith("/plans/import"), "confirmed once only"
    page = client.get(f"/plans/{plan.id}")
    assert f"/api/v1/plans/{plan.id}/export?format=pdf" in page.text
    assert plan.state == "archived" and "Подписан на хартия на 20.02.2024, въведен от Мария Секретарова" in page.text
    button = client.get(f"/api/v1/plans/{plan.id}/export?format=csv")  # the plan page's buttons, signed in
    assert (button.status_code, button.mimetype) == (200, "text/csv")
    assert parse_document(button.data).goals[5].status_wording == "Неизпълнена"


def test_import_page_refuses_a_bad_file_and_other_people(client, haskovo_admin):
    h = haskovo_admin
    sign_in(client, h.secretary, h.password)
    assert "/plans/import" in client.get("/plans").text, "the plans page offers the import"
    form = client.get("/plans/import")
    bad = client.post("/plans/import", content_type="multipart/form-data",
                      data={"csrf_token": csrf_of(form.text), "file": (io.BytesIO(b"\x00\x01"), "x.bin")})
    assert bad.status_code == 415 and "x.bin" in bad.text and 'role="alert"' in bad.text
    none = client.post("/plans/import", content_type="multipart/form-data", data={"csrf_token": csrf_of(form.text)})
    assert none.status_code == 422
    client.post("/logout", data={"csrf_token": csrf_of(form.text)})
    sign_in(client, h.expert, h.password)
    assert client.get("/plans/import").status_code == 403
    assert "/plans/import" not in client.get("/plans").text


def test_the_administrator_sets_the_official_name_that_titles_the_documents(client, haskovo_admin, haskovo_bytes):
    from service.goals import documents
    from service.org import service as org
    from service.org.models import Administration, Role

    h = haskovo_admin
    plan = documents.import_document(documents.read_upload(haskovo_bytes), administration=h.admin, actor=None).plan
    administrator = org.create_user(
        email="admin@haskovo.bg", name="Админ", password=h.password, administration=h.admin, roles=[(Role.ADMIN, None)]
    )
    sign_in(client, administrator, h.password)
    page = client.get("/admin")
    assert 'name="official_name"' in page.text
    too_long = client.post("/admin/administration", data={
        "csrf_token": csrf_of(page.text), "name": h.admin.name, "official_name": "х" * 301})
    assert too_long.status_code == 422 and "official_name" in too_long.text
    saved = client.post("/admin/administration", data={
        "csrf_token": csrf_of(page.text), "name": h.admin.name,
        "official_name": "Областна администрация на област Хасково"})
    assert saved.status_code == 302
    db.session.expire_all()
    assert db.session.get(Administration, h.admin.id).official_name == "Областна администрация на област Хасково"
    exported = parse_document(documents.render(db.session.get(Plan, plan.id), fmt="xlsx").data)
    assert exported.administration == "Областна администрация на област Хасково"
