"""The real Haskovo 2023 report, as extracted text, with each of its oddities."""

from __future__ import annotations

from decimal import Decimal

import pytest

from service.documents import PlanDocument, parse_document, parse_text

TITLES = {
    1: "Подобряване достъпа до информация, сигурността и качеството на административните услуги",
    2: "Намаляване на пътно транспортните произшествия на територията на област Хасково",
    3: "Развитие на трансгранично сътрудничество в различни сфери на обществения живот",
    4: "Провеждане на ефективна политика в сферата на образованието",
    5: "Подобряване ефективността на мониторинга на съвръзани със защита на населението в област Хасково при бедствия",
    6: "Възстановяване и съхраняване на биологичното разнообразие и естествените функции на еко системите",
    7: (
        "Повишаване на информираността на населението и нагласата за съдействие при изпълнение на"
        " дейности по намаляване на риска от бедствия на регионално ниво"
    ),
    8: "Обезпечаване провеждането на предсрочни избори за Народно събрание",
}
STATES = {
    1: "in_progress",
    2: "done",
    3: "done",
    4: "done",
    5: "in_progress",
    6: "not_done",
    7: "done",
    8: "done",
}
UNITS = {
    1: ["АПОФУС"], 2: ["АКРРДС"], 3: ["АКРРДС"], 4: ["АКРРДС"],
    5: ["АПОФУС", "АКРРДС"], 6: ["АКРРДС"], 7: ["АПОФУС"], 8: ["АКРРДС", "АПОФУС"],
}  # fmt: skip
SOURCES = {1: "Национален бюджет", 2: "Национален бюджет", 3: "Европейски фондове"}


def test_document_level_fields(haskovo: PlanDocument) -> None:
    assert haskovo.kind == "report"  # it has status and progress columns
    assert haskovo.year == 2023
    assert haskovo.administration == "Областна администрация на област Хасково"
    assert haskovo.currency == "BGN"
    assert [goal.number for goal in haskovo.goals] == list(range(1, 9))


def test_titles_states_units_and_sources(haskovo: PlanDocument) -> None:
    for goal in haskovo.goals:
        assert goal.title == TITLES[goal.number]
        assert goal.state == STATES[goal.number], goal.number
        assert goal.units == UNITS[goal.number], goal.number
        assert goal.financing_source == SOURCES.get(goal.number, "национален бюджет"), goal.number


def test_financing(haskovo: PlanDocument) -> None:
    goals = {goal.number: goal for goal in haskovo.goals}
    assert goals[3].financing_amount == Decimal("146305.48")
    assert not goals[3].financing_not_applicable
    assert goals[8].financing_amount == Decimal("120000")
    for number in (1, 2, 4, 5, 6, 7):
        assert goals[number].financing_not_applicable, number
        assert goals[number].financing_amount is None, number


def test_strategic_columns_and_indicators(haskovo: PlanDocument) -> None:
    goals = {goal.number: goal for goal in haskovo.goals}
    assert goals[1].strategic_documents == (
        "Актуализирана Стратегия за развитие на електронното управление в Република България 2019 - 2025г."
    )
    assert goals[5].strategic_goal == "Постигане на устойчивост на обществото при бедствия"
    assert goals[6].strategic_indicator == "Разработена регионална стратегия по опазване на околната среда"
    assert goals[8].strategic_documents == "Изборен кодекс"
    assert goals[8].strategic_indicator == "Подготовката и организирането на изборите се осъществяват от"

    [seven] = goals[7].indicators
    assert (seven.name, seven.baseline, seven.target) == ("Проведено обществено обсъждане", 0, 2)
    [eight] = goals[8].indicators
    assert eight.name == "Проведени местни избори и избори за Народно събрание 2023 год."
    assert (eight.baseline, eight.target, eight.target_text, eight.unit) == (0, 2, "2 бр", "бр")
    [three] = goals[3].indicators
    assert three.baseline is None and three.baseline_text.startswith("2 бр. проекти в процес на изпълнение")
    assert three.target is None and three.target_text.startswith("2 бр. реализирани проекти")
    assert all(indicator.achieved is None for goal in goals.values() for indicator in goal.indicators)


def test_activities_and_progress(haskovo: PlanDocument) -> None:
    goals = {goal.number: goal for goal in haskovo.goals}
    assert len(goals[1].activities) == 3
    assert goals[1].activities[1].startswith("Полупълниране на системата")
    assert goals[3].activities == ["Изпълнение на трансгранични проекти"]
    assert goals[3].progress_note == (
        "Двата проекта са приключили през отчетния период. Започнатите целеви стойности са постигнати."
    )
    assert goals[8].progress_note == ""


def test_rows_1_to_3_have_13_cells_and_miss_the_strategic_indicator(haskovo: PlanDocument) -> None:
    for goal in haskovo.goals[:3]:
        assert len(goal.source_cells) == 13
        assert goal.strategic_indicator == ""
        assert goal.indicators[0].name == goal.source_cells[4]  # cell[4] is the goal's own indicator
        assert goal.needs_review
        assert any("strategic indicator is taken as absent" in warning.en for warning in goal.warnings)
    for goal in haskovo.goals[3:]:
        assert len(goal.source_cells) == 14
        assert not goal.needs_review and goal.warnings == []


def test_row_1_target_and_financing_share_one_cell(haskovo: PlanDocument) -> None:
    goal = haskovo.goals[0]
    assert goal.source_cells[6] == "1 неприложимо"
    [indicator] = goal.indicators
    assert (indicator.baseline, indicator.baseline_text) == (Decimal(0), "0")
    assert (indicator.target, indicator.target_text) == (Decimal(1), "1")
    assert goal.financing_not_applicable and goal.financing_amount is None
    # Every cell after the split lands in its own column.
    assert goal.financing_source == "Национален бюджет"
    assert goal.activities[0].startswith("Подобряване на системата за обратна връзка")
    assert goal.status_wording == "В процес на изпълнение"
    assert goal.progress_note.startswith("Изграден е Федерираният портал")
    assert any("“1 неприложимо”" in warning.en for warning in goal.warnings)


def test_blank_line_after_row_3_adds_nothing(haskovo_bytes: bytes, haskovo: PlanDocument) -> None:
    lines = haskovo_bytes.decode().split("\n")
    assert lines[14] == "" and lines[13].startswith("3\t") and lines[15].startswith("4\t")
    assert len(haskovo.goals) == 8
    assert haskovo.goals[2].progress_note.endswith("Започнатите целеви стойности са постигнати.")


def test_a_row_split_over_lines_is_joined(haskovo_bytes: bytes, haskovo: PlanDocument, content) -> None:
    text = haskovo_bytes.decode()
    # Goal 4: a line break inside its activities; goal 7: inside its title and again in its progress.
    split = (
        text.replace("ученици Изработване", "ученици\nИзработване")
        .replace("информираността на населението", "информираността\nна населението")
        .replace("по въпросите на оповестяване", "по въпросите\n\nна оповестяване")
    )
    assert split.count("\n") == text.count("\n") + 4
    document = parse_text(split.encode())
    assert [content(goal) for goal in document.goals] == [content(goal) for goal in haskovo.goals]


def test_goals_with_two_units(haskovo: PlanDocument) -> None:
    five, eight = haskovo.goals[4], haskovo.goals[7]
    assert five.source_cells[11] == "Дирекция АПОФУС Дирекция АКРРДС"
    assert five.units == ["АПОФУС", "АКРРДС"]
    assert eight.source_cells[11] == "Дирекция АКРРДС и Дирекция АПОФУС"
    assert eight.units == ["АКРРДС", "АПОФУС"]


def test_goal_6_not_done_keeps_its_wording(haskovo: PlanDocument) -> None:
    six = haskovo.goals[5]
    assert six.state == "not_done"
    assert six.status_wording == "Неизпълнена"
    assert six.progress_note == "Отпаднало законово основание."
    assert not six.needs_review


def test_ocr_noise_in_the_approval_block_breaks_nothing(
    haskovo_bytes: bytes, haskovo: PlanDocument, content
) -> None:
    assert haskovo.governor_name == ""  # "ти" is not a name
    assert haskovo.approved_on is None  # "05" is not a date
    noisier = haskovo_bytes.decode().replace("05\n", "05\n\n##\nт.и.\n1 2\n4 05 2023\n", 1)
    document = parse_text(noisier.encode())
    assert (document.kind, document.year, document.administration) == (
        haskovo.kind,
        2023,
        haskovo.administration,
    )
    assert [content(goal) for goal in document.goals] == [content(goal) for goal in haskovo.goals]


def test_header_groups_are_resolved_by_position(haskovo: PlanDocument) -> None:
    """The extracted header keeps "Стойности ..." and "Необходимо финансиране" in one cell
    each; they are spread over baseline/target and amount/source."""
    assert len(haskovo.warnings) == 2
    assert "Стойности на индикатора" in haskovo.warnings[0].bg
    assert "Необходимо финансиране" in haskovo.warnings[1].bg
    two = haskovo.goals[1]
    assert two.indicators[0].baseline_text.startswith("Заседания на Областна комисия")
    assert two.indicators[0].target_text.endswith("План - програма за 2024 год. - 1 бр.")


@pytest.mark.parametrize("filename", ["", "haskovo.txt", "report.csv"])
def test_detected_as_the_text_form_whatever_the_name(
    haskovo_bytes: bytes, haskovo: PlanDocument, filename: str
) -> None:
    assert parse_document(haskovo_bytes, filename) == haskovo
