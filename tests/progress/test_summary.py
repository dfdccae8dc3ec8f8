"""The quarter for the governor: a summary page of progress per goal and per unit with the missing
reports, for the governor and the chief secretary; and the summary's XLSX on the campaign board."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import openpyxl
import pytest

from service.kernel.errors import GoalflowError
from service.progress import service as progress
from tests.web.test_pages import login

OPENING = datetime(2023, 4, 3, 7, 0, tzinfo=UTC)


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 7, 0, tzinfo=UTC)


@pytest.fixture
def quarter(world):
    """Q1 2023: goal 1 reported and accepted at 1 of 1, goal 2 half reported (АПОФУС: 1 of 1 on
    the first indicator and nothing on the second), goal 3 missing."""
    campaign = progress.open_campaign(plan_id=world.plan.id, quarter=1, actor=world.secretary, now=OPENING)
    by = {(r.goal_id, r.unit_id): r for r in campaign.reports}
    first = by[(world.g_a.id, world.a.id)]
    progress.submit_report(actor=world.expert_a, report_id=first.id, now=at(date(2023, 4, 5)),
                           achieved={str(i.id): "1" for i in world.g_a.indicators})
    progress.accept_report(actor=world.head_a, report_id=first.id, now=at(date(2023, 4, 6)))
    second = by[(world.g_ab.id, world.a.id)]
    progress.submit_report(actor=world.expert_a, report_id=second.id, now=at(date(2023, 4, 5)), risk="at_risk",
                           achieved={str(world.g_ab.indicators[0].id): "1", str(world.g_ab.indicators[1].id): "0"})
    return campaign


def test_the_overview_gives_progress_per_goal_and_unit_and_the_missing_reports(world, quarter):
    overview = progress.quarter_overview(actor=world.governor, campaign_id=quarter.id, now=at(date(2023, 4, 20)))
    percents = {row.goal.number: row.percent for row in overview.goals}
    assert percents == {1: 100, 2: 50, 3: None}
    assert {row.goal.number: row.risk for row in overview.goals}[2] == "at_risk"
    missing = {(r.goal.number, r.unit.code) for r in overview.missing}
    assert missing == {(2, "АКРРДС"), (3, "АКРРДС")}
    units = {u.unit.code: u for u in overview.units}
    assert (units["АПОФУС"].reports, units["АПОФУС"].accepted, units["АПОФУС"].submitted, units["АПОФУС"].missing) == (
        2, 1, 1, 0)
    assert (units["АКРРДС"].missing, units["АПОФУС"].percent, units["АКРРДС"].percent) == (2, 75, 50)
    assert overview.overdue


def test_only_the_governor_the_chief_secretary_and_their_substitutes_read_it(world, quarter):
    from service.org import service as org

    for who in (world.governor, world.secretary):
        assert progress.quarter_overview(actor=who, campaign_id=quarter.id).goals
    for who in (world.deputy, world.head_a, world.expert_b, world.observer, world.sysadmin):
        with pytest.raises(GoalflowError) as refused:
            progress.quarter_overview(actor=who, campaign_id=quarter.id)
        assert refused.value.status == 403
    today = date.today()
    org.name_substitute(absent=world.governor, substitute=world.deputy, starts_on=today, ends_on=today,
                        actor=world.sysadmin)
    assert progress.quarter_overview(actor=world.deputy, campaign_id=quarter.id).goals


def test_the_pages_show_the_charts_and_the_board_offers_the_xlsx(world, quarter, client):
    login(client, world.governor, world.password)
    page = client.get(f"/progress/campaigns/{quarter.id}/summary")
    assert page.status_code == 200, page.text[:500]
    assert page.text.count('class="bar-fill"') == 2 + 2  # goals 1 and 2, both units
    assert 'width="50"' in page.text and 'aria-label="100 %"' in page.text
    assert "3. Цел 3" in page.text and 'id="summary-missing"' in page.text
    board = client.get(f"/progress/campaigns/{quarter.id}")
    assert f"/progress/campaigns/{quarter.id}/summary.xlsx" in board.text
    assert f"/progress/campaigns/{quarter.id}/summary\"" in board.text
    download = client.get(f"/progress/campaigns/{quarter.id}/summary.xlsx")
    assert download.status_code == 200 and download.mimetype.endswith("spreadsheetml.sheet")
    assert 'filename="goals-2023-Q1-bg.xlsx"' in download.headers["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(download.data)).active
    numbers = [row[0] for row in sheet.iter_rows(min_row=4, values_only=True) if isinstance(row[0], int)]
    assert numbers == [1, 2, 3]


def test_a_head_sees_neither_the_summary_nor_its_download(world, quarter, client):
    login(client, world.head_a, world.password)
    assert client.get(f"/progress/campaigns/{quarter.id}/summary").status_code == 403
    assert client.get(f"/progress/campaigns/{quarter.id}/summary.xlsx").status_code == 403
    assert "summary.xlsx" not in client.get(f"/progress/campaigns/{quarter.id}").text
