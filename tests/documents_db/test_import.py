"""Importing documents into plans, on both backends: round trips, what each plan accepts, dry runs."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest
from sqlalchemy import func, select

from service.audit.models import Event
from service.audit.service import verify
from service.documents import ERROR_CODES, DocumentError, PlanDocument, parse_document
from service.documents import Goal as DocGoal
from service.extensions import db
from service.goals import documents
from service.goals.models import Goal, Plan
from service.kernel.errors import GoalflowError
from tests.documents_db.conftest import goal_fields


def counts() -> tuple[int, int, int]:
    return tuple(db.session.scalar(select(func.count()).select_from(m)) for m in (Plan, Goal, Event))


def imported(data: bytes, who, administration, **kw):
    return documents.import_document(documents.read_upload(data), administration=administration, actor=who, **kw)


PAPER_DAY = date(2024, 2, 20)


@pytest.mark.parametrize("fmt", ["docx", "xlsx", "csv"])
def test_round_trip_through_the_database(haskovo_admin, haskovo_bytes, fmt):
    """Archive the real report signed on paper, export it, archive the export elsewhere: the same goals."""
    h = haskovo_admin
    first = imported(haskovo_bytes, h.secretary, h.admin, archive=True, paper_signed_on=PAPER_DAY)
    assert (first.plan_created, first.created, first.kind, first.plan.state) == (True, 8, "report", "archived")
    plan = first.plan
    # A record of a year signed on paper: who brought it in and when it was signed, and no signer in goalflow.
    assert (plan.paper_signed_on, plan.archive_imported_by_id) == (PAPER_DAY, h.secretary.id)
    assert plan.archive_imported_at is not None
    assert (plan.approved_by_id, plan.approved_at, plan.report_approved_by_id, plan.report_approved_at) == (None,) * 4
    before = [goal_fields(g) for g in plan.goals]
    assert [g["state"] for g in before] == ["in_progress", "done", "done", "done", "in_progress", "not_done", "done", "done"]
    assert before[7]["financing_amount"] == 120000 and before[4]["units"] == ["АПОФУС", "АКРРДС"]
    assert before[7]["units"] == ["АКРРДС", "АПОФУС"], "in the order the document names them"
    # Rows that did not fit are kept with their warnings and cells, flagged for review.
    rough = plan.goals[0]
    assert rough.needs_review and rough.import_warnings and len(rough.source_cells) >= 10

    exported = documents.render(plan, fmt=fmt).data
    # The year has its record: a second archive, or any import, into it is refused.
    for kw in ({"archive": True, "paper_signed_on": PAPER_DAY}, {}):
        with pytest.raises(GoalflowError) as refused:
            imported(exported, h.secretary, h.admin, **kw)
        assert refused.value.code == "plan_not_importable"

    # The export archives the same plan from scratch in another administration.
    from service.org import service as org

    other = org.create_administration(name="Друга", slug="other")
    for code in ("АПОФУС", "АКРРДС"):
        org.create_unit(administration=other, code=code, name=code)
    copy = imported(exported, None, other, archive=True, paper_signed_on=PAPER_DAY)
    assert [goal_fields(g) for g in copy.plan.goals] == before
    assert not any(g.needs_review for g in copy.plan.goals), "the export says what the plan says"
    assert verify().ok


def test_a_report_for_a_new_year_becomes_a_draft_and_is_public_only_once_signed(haskovo_admin, haskovo_bytes, client):
    """An import never signs: the report of a year without a plan is a draft whose goals are all
    planned, not public; it is public once the governor has adopted it through the approval path."""
    from service.demo import drive
    from service.org import service as org
    from service.org.models import Role

    h = haskovo_admin
    result = imported(haskovo_bytes, h.secretary, h.admin)
    plan = result.plan
    assert (result.plan_created, plan.state) == (True, "draft")
    assert {g.state for g in plan.goals} == {"planned"}
    assert plan.approved_by_id is None and plan.paper_signed_on is None
    done = plan.goals[1]  # the report says "done": a request will have to ask for it
    assert any("Изпълнена" in w["bg"] and "искане за преход" in w["bg"] for w in done.import_warnings)
    assert client.get("/public/haskovo/2023").status_code == 404

    governor = org.create_user(email="governor@haskovo.bg", name="Гео Управителев", password=h.password,
                               administration=h.admin, roles=[(Role.GOVERNOR, None)])
    drive(plan, "approved", [h.secretary, governor])
    db.session.refresh(plan)
    assert (plan.state, plan.approved_by_id) == ("approved", governor.id)
    page = client.get("/public/haskovo/2023")
    assert page.status_code == 200 and "Подписан на хартия" not in page.text


def test_an_archive_is_a_past_years_report_with_its_paper_signature(haskovo_admin, haskovo_bytes, client):
    h = haskovo_admin
    document = documents.read_upload(haskovo_bytes, "haskovo.txt")
    before = counts()
    for kw, field in (
        ({"paper_signed_on": None}, "paper_signed_on"),
        ({"paper_signed_on": date(2099, 1, 1)}, "paper_signed_on"),  # not yet
        ({"paper_signed_on": date(2022, 12, 1)}, "paper_signed_on"),  # before the year it reports
    ):
        with pytest.raises(GoalflowError) as refused:
            documents.import_document(document, administration=h.admin, actor=h.secretary, archive=True, **kw)
        assert refused.value.status == 422 and field in refused.value.fields, kw
    plan_document = dataclasses.replace(document, kind="plan")
    with pytest.raises(GoalflowError) as refused:
        documents.import_document(plan_document, administration=h.admin, actor=h.secretary, archive=True,
                                  paper_signed_on=PAPER_DAY)
    assert "archive" in refused.value.fields
    this_year = dataclasses.replace(document, year=date.today().year)
    with pytest.raises(GoalflowError) as refused:
        documents.import_document(this_year, administration=h.admin, actor=h.secretary, archive=True,
                                  paper_signed_on=date.today())
    assert "archive" in refused.value.fields
    with pytest.raises(GoalflowError):  # nor by someone who may not import
        documents.import_document(document, administration=h.admin, actor=h.expert, archive=True,
                                  paper_signed_on=PAPER_DAY)
    assert counts() == before

    documents.import_document(document, administration=h.admin, actor=h.secretary, archive=True,
                              paper_signed_on=PAPER_DAY)
    page = client.get("/public/haskovo/2023")
    assert page.status_code == 200
    assert "Подписан на хартия на 20.02.2024, въведен от Мария Секретарова" in page.text
    event = db.session.scalars(select(Event).where(Event.action == "plan_created")).all()[-1]
    assert event.actor_id == h.secretary.id and event.after["paper_signed_on"] == "2024-02-20"


def test_a_plan_imported_twice_updates_its_draft_and_keeps_what_people_added(world):
    plan_doc = documents.plan_document(world.plan, "plan")
    plan_doc.year = 2024
    data = documents.render_document(plan_doc, "xlsx")
    first = imported(data, world.secretary, world.admin)
    assert (first.plan.state, first.created) == ("draft", 3)
    assert {g.state for g in first.plan.goals} == {"planned"} and not any(g.needs_review for g in first.plan.goals)
    goal = first.plan.goals[1]
    ids = (goal.id, [i.id for i in goal.indicators], goal.activities[0].id)
    goal.activities[0].done = True
    db.session.commit()

    plan_doc.goals[1].title = "Обновяване на областната стратегия"
    plan_doc.governor_name = "Иван Петров"  # the document's approval block has no column: the event keeps it
    second = imported(documents.render_document(plan_doc, "docx"), world.sysadmin, world.admin)
    db.session.expire_all()
    assert (second.plan.id, second.created, second.updated) == (first.plan.id, 0, 3)
    goal = db.session.get(Goal, ids[0])
    assert goal.title == "Обновяване на областната стратегия"
    assert (goal.id, [i.id for i in goal.indicators], goal.activities[0].id) == ids
    assert goal.activities[0].done, "an activity that is still there keeps what people recorded"
    events = db.session.scalars(select(Event).where(Event.subject_type == "goal", Event.subject_id == goal.id,
                                                    Event.action == "goal_imported").order_by(Event.seq)).all()
    assert [e.before is None for e in events] == [True, False]
    assert events[1].before["title"] == "Цел 2" and events[1].after["title"] == goal.title
    plan_event = db.session.scalars(select(Event).where(Event.action == "plan_imported").order_by(Event.seq)).all()[-1]
    assert (plan_event.after["created"], plan_event.after["updated"], plan_event.after["governor_name"]) == (0, 3, "Иван Петров")


def test_a_report_into_a_plan_being_reported_on_changes_only_progress_notes(world):
    report = documents.plan_document(world.plan, "report")
    target = report.goals[0]
    target.title = "Друго заглавие"
    target.progress_note = "Проведени са 3 от 4 проверки."
    target.state, target.status_wording = "done", "Изпълнена"
    report.goals = report.goals[:2]  # goal 3 is not in the document
    result = imported(documents.render_document(report, "docx"), world.secretary, world.admin)
    db.session.expire_all()
    goal = db.session.get(Goal, world.g_a.id)
    assert (goal.title, goal.state, goal.progress_note) == ("Цел 1", "in_progress", "Проведени са 3 от 4 проверки.")
    assert goal.needs_review and len(goal.import_warnings) == 2
    assert any("Изпълнена" in w["bg"] for w in goal.import_warnings) and any("goal" in w["en"] for w in goal.import_warnings)
    assert "Друго заглавие" in goal.source_cells, "the document's row is kept"
    assert not db.session.get(Goal, world.g_ab.id).needs_review
    assert any("Goal No. 3 is not in the document" in w.en for w in result.warnings)
    assert db.session.get(Goal, world.g_b.id).version == world.g_b.version


def test_who_imports_and_what_an_adopted_plan_refuses(world):
    cases = [
        ("plan", [1, 2, 3], "plan_not_importable"),  # a plan document into a plan being reported on
        ("report", [1, 2, 3, 4], "import_new_goals"),  # a goal the adopted plan does not have
    ]
    before = counts()
    for kind, numbers, code in cases:
        goals = [DocGoal(number=n, title=f"Цел {n}", units=["АПОФУС"]) for n in numbers]
        with pytest.raises(GoalflowError) as refused:
            documents.import_document(PlanDocument(kind=kind, year=2023, goals=goals), administration=world.admin,
                                      actor=world.secretary)
        assert (refused.value.code, refused.value.status) == (code, 409)
    assert "4" in refused.value.message("bg")
    assert counts() == before

    world.plan.state = "report_approved"  # a signed report takes no document at all
    db.session.commit()
    document = PlanDocument(kind="report", year=2023, goals=[DocGoal(number=1, title="Цел 1", units=["АПОФУС"])])
    with pytest.raises(GoalflowError) as refused:
        documents.import_document(document, administration=world.admin, actor=world.secretary, dry_run=True)
    assert refused.value.code == "plan_not_importable"
    assert "Отчетът е утвърден" in refused.value.message("bg")

    # Only the chief secretary or an administrator imports.
    document = PlanDocument(kind="plan", year=2030, goals=[DocGoal(number=1, title="Цел", units=["АПОФУС"])])
    for who in ("expert_a", "head_a", "governor", "deputy", "observer"):
        with pytest.raises(GoalflowError) as refused:
            documents.import_document(document, administration=world.admin, actor=getattr(world, who))
        assert refused.value.code == "forbidden", who
    assert documents.preview_document(document, administration=world.admin, actor=world.sysadmin).created == 1


def test_a_dry_run_lists_every_goal_with_its_warnings_and_writes_nothing(haskovo_admin, haskovo_bytes):
    document = documents.read_upload(haskovo_bytes, "haskovo.txt")
    document.goals[3].units = ["НЕИЗВЕСТНА"]
    document.goals.append(dataclasses.replace(document.goals[0], source_cells=["1", "повтор"], warnings=[]))
    before = counts()
    result = documents.preview_document(document, administration=haskovo_admin.admin, actor=haskovo_admin.secretary)
    assert counts() == before
    assert result.dry_run and result.plan is None and result.created == 9
    assert [o.number for o in result.goals] == [1, 2, 3, 4, 5, 6, 7, 8, 9], "a repeated number gets the next free one"
    assert "No. 1 appears more than once" in result.goals[8].warnings[0].en
    assert any("НЕИЗВЕСТНА" in w.bg for w in result.goals[3].warnings) and result.goals[3].needs_review
    assert [bool(o.warnings) for o in result.goals[:3]] == [True, True, True]
    assert len(result.warnings) == 2  # about the header of the document

    document = parse_document(haskovo_bytes)
    document.year = None
    with pytest.raises(GoalflowError) as no_year:
        documents.import_document(document, administration=haskovo_admin.admin, actor=None)
    assert no_year.value.fields == {"year": "the document does not say which year it covers"}
    with pytest.raises(GoalflowError) as bad:
        documents.read_upload(b"\x00\x01binary", "x.bin")
    assert (bad.value.code, bad.value.status) == ("unsupported", 415)
    assert "x.bin" in bad.value.message("en")
    statuses = {code: documents.document_problem(DocumentError(code)).status for code in ERROR_CODES}
    assert statuses == {"empty": 422, "not_a_table": 422, "encoding": 422, "too_large": 413, "zip_bomb": 413,
                        "unsupported": 415, "part_too_large": 413, "too_many_rows": 413, "too_slow": 413}


def test_values_beyond_what_the_columns_hold_are_kept_in_the_cells(haskovo_admin):
    from decimal import Decimal

    from service.documents import Indicator as DocIndicator

    huge = DocGoal(
        number=1, title="Цел\x00 с NUL", units=["АПОФУС"], financing_source="Източник " * 50,
        financing_amount=Decimal("12345678901234.5"), source_cells=["1", "Цел с NUL", "Източник ..."],
        indicators=[DocIndicator(name="Брой", unit="единици" * 10, target=Decimal("1e20"), target_text="10^20")],
    )
    result = documents.import_document(PlanDocument(kind="plan", year=2031, goals=[huge]),
                                       administration=haskovo_admin.admin, actor=haskovo_admin.secretary)
    db.session.expire_all()
    goal = result.plan.goals[0]
    assert goal.title == "Цел с NUL" and len(goal.financing_source) == 300 and goal.financing_amount is None
    assert goal.indicators[0].target is None and goal.indicators[0].target_text == "10^20"
    assert goal.needs_review and len(goal.import_warnings) == 4
    assert "Control characters in the row's cells (title) were removed" in goal.import_warnings[-1]["en"], "the NUL is named"
    assert goal.source_cells == ["1", "Цел с NUL", "Източник ..."]


def test_the_title_gives_the_official_name_and_the_units_keep_their_order(haskovo_admin, haskovo_bytes):
    from service.org import service as org

    h = haskovo_admin
    plan = imported(haskovo_bytes, h.secretary, h.admin).plan
    assert parse_document(documents.render(plan, fmt="docx").data).administration == "Областна администрация Хасково"
    from service.org.models import Role
    from tests.helpers import PASSWORD

    administrator = org.create_user(
        email="admin@haskovo.bg", name="Админ", password=PASSWORD, administration=h.admin, roles=[(Role.ADMIN, None)]
    )
    with pytest.raises(GoalflowError):  # only an administrator names the administration
        org.rename_administration(actor=h.secretary, administration_id=h.admin.id, official_name="X")
    org.rename_administration(
        actor=administrator, administration_id=h.admin.id, official_name="  Областна администрация на област Хасково "
    )
    for fmt in ("docx", "xlsx"):
        again = parse_document(documents.render(plan, fmt=fmt).data)
        assert again.administration == "Областна администрация на област Хасково"
        assert again.goals[7].units == ["АКРРДС", "АПОФУС"]
    assert h.admin.name == "Областна администрация Хасково"  # the short name stays for the screens
    db.session.expire_all()
    assert [u.code for u in db.session.get(Goal, plan.goals[7].id).units] == ["АКРРДС", "АПОФУС"]


def test_a_goal_keeps_its_units_in_the_order_entered(world):
    from service.goals import service as goals
    from service.goals.models import Plan

    w = world
    draft = Plan(administration_id=w.admin.id, year=2024, currency="EUR", state="draft")
    db.session.add(draft)
    db.session.commit()
    goal = goals.create_goal(actor=w.secretary, plan_id=draft.id, number=1,
                             changes={"title": "Обща цел", "unit_ids": [w.b.id, w.a.id]})
    version = goal.version
    db.session.expire_all()
    assert [u.code for u in db.session.get(Goal, goal.id).units] == ["АКРРДС", "АПОФУС"]
    goals.update_goal(actor=w.secretary, goal_id=goal.id, changes={"unit_ids": [w.a.id, w.b.id]},
                      expected_version=version)
    db.session.expire_all()
    edited = db.session.get(Goal, goal.id)
    assert [u.code for u in edited.units] == ["АПОФУС", "АКРРДС"] and edited.version == version + 1
