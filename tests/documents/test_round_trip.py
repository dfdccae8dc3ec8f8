"""What is exported reads back the same, goal by goal and field by field."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from service.documents import (
    PlanDocument,
    export_csv,
    export_docx,
    export_xlsx,
    parse_csv,
    parse_document,
    parse_docx,
    parse_xlsx,
)

FORMATS = {
    "docx": (export_docx, parse_docx),
    "xlsx": (export_xlsx, parse_xlsx),
    "csv": (export_csv, parse_csv),
}


@pytest.mark.parametrize("lang", ["bg", "en"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_haskovo_round_trip(haskovo: PlanDocument, fmt: str, lang: str, content) -> None:
    export, parse = FORMATS[fmt]
    data = export(haskovo, lang=lang)
    document = parse(data)

    assert len(document.goals) == 8
    for before, after in zip(haskovo.goals, document.goals, strict=True):
        expected, actual = content(before), content(after)
        for name, value in expected.items():
            assert actual[name] == value, (before.number, name)
        # The exported table is well-formed: nothing needs review any more.
        assert not after.needs_review, after.warnings
    assert (document.kind, document.year, document.currency) == ("report", 2023, "BGN")
    if fmt != "csv":  # CSV carries the table only, no title
        assert document.administration == haskovo.administration
    assert document.warnings == []
    assert parse_document(data) == document


@pytest.mark.parametrize("fmt", FORMATS)
def test_plan_round_trip(small_plan: PlanDocument, fmt: str, content) -> None:
    export, parse = FORMATS[fmt]
    document = parse(export(small_plan))
    assert document.kind == "plan"
    assert [content(goal) for goal in document.goals] == [content(goal) for goal in small_plan.goals]
    if fmt != "csv":
        assert (document.administration, document.year) == (small_plan.administration, 2024)
        assert (document.governor_name, document.approved_on) == ("Иван Петров", small_plan.approved_on)


@pytest.mark.parametrize("export", [export_docx, export_xlsx, export_csv])
def test_several_indicators_are_written_line_by_line(
    small_plan: PlanDocument, export: Callable[..., bytes]
) -> None:
    first = small_plan.goals[0].indicators[0]
    second = type(first)(name="Обучени служители", baseline_text="5", target_text="20 души")
    small_plan.goals[0].indicators.append(second)
    [indicator] = parse_document(export(small_plan)).goals[0].indicators
    assert indicator.name == "Проведени анкети\nОбучени служители"
    assert (indicator.baseline_text, indicator.target_text) == ("0\n5", "4 бр\n20 души")


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_official_form_round_trips_and_the_extra_column_carries_the_achieved_values(
    haskovo: PlanDocument, fmt: str, content
) -> None:
    """The 14 columns read back field by field (units in the order entered); with the achieved
    values asked for, they read back too."""
    export, parse = FORMATS[fmt]
    haskovo.goals[6].indicators[0].achieved, haskovo.goals[6].indicators[0].achieved_text = Decimal(2), "2"
    haskovo.goals[4].units = ["АКРРДС", "Политически кабинет", "АПОФУС"]

    official = parse(export(haskovo))
    for before, after in zip(haskovo.goals, official.goals, strict=True):
        expected = content(before)
        for indicator in expected["indicators"]:
            indicator.update(achieved=None, achieved_text="")  # no column of the official form
        assert content(after) == expected, before.number

    extended = parse(export(haskovo, extra_columns=["achieved"]))
    assert [content(goal) for goal in extended.goals] == [content(goal) for goal in haskovo.goals]
    assert extended.goals[4].units == ["АКРРДС", "Политически кабинет", "АПОФУС"]


@pytest.mark.parametrize("fmt", ["docx", "xlsx"])
def test_an_amended_plan_says_so_under_its_title_and_reads_back(small_plan: PlanDocument, fmt: str, content) -> None:
    from datetime import date

    export, parse = FORMATS[fmt]
    small_plan.amended_on = date(2024, 6, 14)
    document = parse(export(small_plan))
    assert document.amended_on == date(2024, 6, 14)
    assert (document.governor_name, document.approved_on) == ("Иван Петров", small_plan.approved_on)
    assert [content(goal) for goal in document.goals] == [content(goal) for goal in small_plan.goals]
    small_plan.amended_on = None
    assert parse(export(small_plan)).amended_on is None
