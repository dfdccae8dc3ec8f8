"""Quarterly campaigns through the progress service, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import openpyxl
import pytest
from sqlalchemy import select

from service.audit.service import verify
from service.extensions import db
from service.kernel.errors import GoalflowError
from service.notifications.models import Notification
from service.org import service as org
from service.progress import service as progress
from service.progress.models import Campaign

# Monday 3 April 2023: Q1 has ended. Ten working days later (Easter: 14-17 April) is 19 April.
OPENING = datetime(2023, 4, 3, 7, 0, tzinfo=UTC)
DUE = date(2023, 4, 19)


def at(day: date, hour: int = 7) -> datetime:
    return datetime(day.year, day.month, day.day, hour, 0, tzinfo=UTC)


def notes(kind: str) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.kind == kind).order_by(Notification.id)))


def report_for(campaign: Campaign, goal, unit):
    return next(r for r in campaign.reports if r.goal_id == goal.id and r.unit_id == unit.id)


def values(goal, value="2") -> dict:
    return {str(i.id): value for i in goal.indicators}


@pytest.fixture
def campaign(world):
    return progress.open_campaign(plan_id=world.plan.id, quarter=1, actor=world.secretary, now=OPENING)


def test_opening_creates_a_report_per_active_goal_and_unit_and_tells_the_units(world, campaign):
    pairs = {(r.goal.number, r.unit.code) for r in campaign.reports}
    assert pairs == {(1, "АПОФУС"), (2, "АПОФУС"), (2, "АКРРДС"), (3, "АКРРДС")}
    assert all(r.state == "requested" for r in campaign.reports)
    assert campaign.due_on == DUE  # working days skip Orthodox Easter
    opened = notes("campaign_opened")
    assert {n.email for n in opened} == {"head_a@test.bg", "expert_a@test.bg", "head_b@test.bg", "expert_b@test.bg"}
    to_expert_a = next(n for n in opened if n.email == "expert_a@test.bg")
    assert "I тримесечие на 2023 г." in to_expert_a.subject and "19.04.2023" in to_expert_a.subject
    assert "1. Цел 1" in to_expert_a.body_text and "2. Цел 2" in to_expert_a.body_text
    assert "3. Цел 3" not in to_expert_a.body_text


def test_only_the_chief_secretary_opens_and_only_once(world, campaign):
    with pytest.raises(GoalflowError) as exc:
        progress.open_campaign(plan_id=world.plan.id, quarter=1, actor=world.secretary, now=OPENING)
    assert exc.value.code == "duplicate"
    with pytest.raises(GoalflowError) as exc:
        progress.open_campaign(plan_id=world.plan.id, quarter=2, actor=world.expert_a, now=at(date(2023, 7, 3)))
    assert exc.value.code == "forbidden"
    with pytest.raises(GoalflowError) as exc:
        progress.open_campaign(plan_id=world.plan.id, quarter=4, actor=world.secretary, now=OPENING)
    assert exc.value.code == "quarter_not_started"
    with pytest.raises(GoalflowError) as exc:
        progress.open_campaign(plan_id=world.plan.id, quarter=5, actor=world.secretary, now=OPENING)
    assert exc.value.code == "invalid_input" and "quarter" in exc.value.fields


def test_beat_opens_the_quarter_that_ended_once(world):
    assert progress.open_due_campaigns(now=at(date(2023, 3, 31))) == []
    opened = progress.open_due_campaigns(now=OPENING)
    assert [(c.plan_id, c.quarter) for c in opened] == [(world.plan.id, 1)]
    assert progress.open_due_campaigns(now=OPENING) == []
    assert progress.open_due_campaigns(now=at(date(2023, 5, 2))) == []
    assert [c.quarter for c in progress.open_due_campaigns(now=at(date(2023, 7, 3)))] == [2]


def test_submit_then_return_then_accept(world, campaign):
    report = report_for(campaign, world.g_a, world.a)
    report = progress.submit_report(
        actor=world.expert_a, report_id=report.id, achieved=values(world.g_a, "1,5"), narrative="Напредък",
        risk="at_risk", now=at(date(2023, 4, 5)),
    )
    assert report.state == "submitted" and report.risk == "at_risk" and report.narrative == "Напредък"
    assert [str(v.achieved) for v in report.values] == ["1.5000"] and report.values[0].achieved_text == "1,5"
    assert [n.email for n in notes("report_submitted")] == ["head_a@test.bg"]

    with pytest.raises(GoalflowError) as exc:
        progress.return_report(actor=world.head_a, report_id=report.id, reason=" ")
    assert exc.value.code == "reason_required"
    report = progress.return_report(actor=world.head_a, report_id=report.id, reason="Липсва стойност за май")
    assert report.state == "requested" and report.return_reason == "Липсва стойност за май"
    returned = notes("report_returned")
    assert [n.email for n in returned] == ["expert_a@test.bg"] and "Липсва стойност за май" in returned[0].body_text

    progress.submit_report(actor=world.expert_a, report_id=report.id, achieved=values(world.g_a), risk="on_track")
    assert len(notes("report_submitted")) == 2  # the second submission is news again
    report = progress.accept_report(actor=world.head_a, report_id=report.id)
    assert report.state == "accepted" and report.decided_by_id == world.head_a.id
    assert verify().ok


def test_values_of_the_wrong_type_are_refused_with_the_field(world, campaign):
    report = report_for(campaign, world.g_a, world.a)
    indicator = str(world.g_a.indicators[0].id)
    cases = [
        ({"x": 1}, "on_track", "", "achieved.x"),
        ("not an object", "on_track", "", "achieved"),
        (None, "on_track", "", "achieved"),
        ({indicator: {"value": 1}}, "on_track", "", f"achieved.{indicator}"),
        ({indicator: True}, "on_track", "", f"achieved.{indicator}"),
        ({indicator: "  "}, "on_track", "", f"achieved.{indicator}"),
        (values(world.g_a), "sinking", "", "risk"),
        (values(world.g_a), "on_track", ["not", "text"], "narrative"),
    ]
    for achieved, risk, narrative, field in cases:
        with pytest.raises(GoalflowError) as exc:
            progress.submit_report(
                actor=world.expert_a, report_id=report.id, achieved=achieved, risk=risk, narrative=narrative
            )
        assert exc.value.code == "transition_data_invalid" and exc.value.status == 422, field
        assert field in exc.value.fields, (field, exc.value.fields)
    db.session.refresh(report)
    assert report.state == "requested" and report.values == []


def test_the_wrong_unit_and_outsiders_are_refused(world, campaign):
    shared_a = report_for(campaign, world.g_ab, world.a)
    with pytest.raises(GoalflowError) as exc:  # sees goal 2 through unit b, but this report is unit a's
        progress.submit_report(actor=world.expert_b, report_id=shared_a.id, achieved=values(world.g_ab))
    assert exc.value.code == "report_wrong_unit" and exc.value.status == 403
    with pytest.raises(GoalflowError) as exc:  # goal 1 is unit a's only: not even visible
        progress.submit_report(actor=world.expert_b, report_id=report_for(campaign, world.g_a, world.a).id, achieved={})
    assert exc.value.code == "not_found"
    with pytest.raises(GoalflowError) as exc:
        progress.submit_report(actor=world.observer, report_id=shared_a.id, achieved=values(world.g_ab))
    assert exc.value.code == "not_a_requester"
    progress.submit_report(actor=world.expert_a, report_id=shared_a.id, achieved=values(world.g_ab))
    with pytest.raises(GoalflowError) as exc:  # an expert does not accept
        progress.accept_report(actor=world.expert_a, report_id=shared_a.id)
    assert exc.value.code == "not_a_requester"


def test_a_closed_campaign_takes_no_reports(world, campaign):
    report = report_for(campaign, world.g_a, world.a)
    progress.close_campaign(campaign_id=campaign.id, actor=world.secretary, now=at(date(2023, 4, 20)))
    with pytest.raises(GoalflowError) as exc:
        progress.submit_report(actor=world.expert_a, report_id=report.id, achieved=values(world.g_a))
    assert exc.value.code == "campaign_closed" and exc.value.status == 409
    with pytest.raises(GoalflowError) as exc:
        progress.close_campaign(campaign_id=campaign.id, actor=world.secretary)
    assert exc.value.code == "campaign_closed"


def test_a_stale_version_is_refused(world, campaign):
    report = report_for(campaign, world.g_a, world.a)
    with pytest.raises(GoalflowError) as exc:
        progress.submit_report(actor=world.expert_a, report_id=report.id, achieved=values(world.g_a), expected_version=7)
    assert exc.value.code == "stale_version"


def test_a_substitute_accepts_for_the_absent_head(world, campaign):
    org.name_substitute(
        absent=world.head_a, substitute=world.head_b, starts_on=date(2023, 4, 1), ends_on=date(2023, 4, 30),
        actor=world.head_a, now=OPENING,
    )
    report = report_for(campaign, world.g_a, world.a)
    progress.submit_report(actor=world.expert_a, report_id=report.id, achieved=values(world.g_a), now=at(date(2023, 4, 5)))
    # head_b stands in for head_a, so is told too, on head_a's behalf
    told = {(n.email, n.on_behalf_of_id) for n in notes("report_submitted")}
    assert told == {("head_a@test.bg", None), ("head_b@test.bg", world.head_a.id)}
    assert progress.allowed_actions(world.head_b, report, now=at(date(2023, 4, 6))) == ["accept", "return"]
    report = progress.accept_report(actor=world.head_b, report_id=report.id, now=at(date(2023, 4, 6)))
    assert report.state == "accepted"


def test_all_accepted_closes_the_campaign_with_one_summary_each(world, campaign):
    when = at(date(2023, 4, 12))
    for report in campaign.reports:
        expert = world.expert_a if report.unit_id == world.a.id else world.expert_b
        head = world.head_a if report.unit_id == world.a.id else world.head_b
        progress.submit_report(
            actor=expert, report_id=report.id, achieved=values(report.goal, "1"), now=when,
            risk="off_track" if report.goal_id == world.g_b.id else "on_track",
        )
        progress.accept_report(actor=head, report_id=report.id, now=when)
    campaign = db.session.get(Campaign, campaign.id)
    assert campaign.status == "closed"
    summaries = notes("quarter_summary")
    assert sorted(n.email for n in summaries) == ["governor@test.bg", "secretary@test.bg"]
    mail = summaries[0]
    assert "приети отчети: 4 от 4" in mail.body_text and "Липсващи" not in mail.body_text
    (attachment,) = mail.attachments
    assert attachment.filename == "goals-2023-Q1-bg.xlsx"
    sheet = openpyxl.load_workbook(io.BytesIO(attachment.data)).active
    rows = {r[0]: r for r in sheet.iter_rows(min_row=4, values_only=True) if isinstance(r[0], int)}
    assert set(rows) == {1, 2, 3}
    assert rows[3][5] == "изостава" and "Индикатор 3.0: 1 / 1" in rows[3][4]
    # closing again (the sweep) sends nothing more
    assert progress.close_finished_campaigns(now=at(date(2023, 5, 30))) == []
    assert len(notes("quarter_summary")) == 2


def test_the_sweep_closes_an_overdue_campaign_and_names_the_missing_reports(world, campaign):
    report = report_for(campaign, world.g_a, world.a)
    progress.submit_report(actor=world.expert_a, report_id=report.id, achieved=values(world.g_a), now=at(DUE))
    assert progress.close_finished_campaigns(now=at(date(2023, 4, 26))) == []  # within the grace
    assert progress.close_finished_campaigns(now=at(date(2023, 4, 28))) == [campaign.id]
    (to_governor,) = [n for n in notes("quarter_summary") if n.email == "governor@test.bg"]
    assert "2. Цел 2 (АПОФУС)" in to_governor.body_text and "3. Цел 3 (АКРРДС)" in to_governor.body_text
    sheet = openpyxl.load_workbook(io.BytesIO(to_governor.attachments[0].data)).active
    missing = {r[0]: r[6] for r in sheet.iter_rows(min_row=4, values_only=True) if isinstance(r[0], int)}
    assert "Подаден" in missing[1] and "Изискан" in missing[2]


def test_reports_and_boards_as_people_see_them(world, campaign):
    assert {r.unit_id for r in progress.missing_reports(actor=world.expert_b)} == {world.b.id}
    assert len(progress.missing_reports(actor=world.secretary)) == 4
    board = progress.campaign_board(actor=world.secretary, campaign_id=campaign.id, now=at(date(2023, 4, 20)))
    assert board.counts["requested"] == 4 and board.overdue and len(board.missing) == 4
    with pytest.raises(GoalflowError):
        progress.get_report(actor=world.expert_b, report_id=report_for(campaign, world.g_a, world.a).id)


def test_a_campaign_for_a_past_year_is_dated_by_its_quarter_not_by_today(world):
    """Opened on 1 December 2026 for the second quarter of 2023, the reports were due ten working
    days after the first working day of July 2023 (Monday 3 July): on 17 July 2023."""
    import time_machine

    with time_machine.travel(datetime(2026, 12, 1, 8, 0, tzinfo=UTC), tick=False):
        campaign = progress.open_campaign(plan_id=world.plan.id, quarter=2, actor=world.secretary)
        assert campaign.due_on == date(2023, 7, 17)
        assert progress.campaign_board(actor=world.secretary, campaign_id=campaign.id).overdue
    opened = notes("campaign_opened")
    assert opened and all("17.07.2023" in n.subject for n in opened)
    assert not any("2026" in n.subject for n in opened)
    # The first quarter opened on its calendar day keeps the dates it always had.
    first = progress.open_campaign(plan_id=world.plan.id, quarter=1, actor=world.secretary, now=at(date(2023, 4, 12)))
    assert first.due_on == DUE
