"""Single cell values: numbers, amounts, units, statuses."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.documents import status_to_state
from service.documents.values import (
    format_amount,
    format_number,
    parse_amount,
    parse_quantity,
    protect_formula,
    split_list,
    split_units,
    unprotect_formula,
)


@pytest.mark.parametrize(
    ("text", "number", "unit"),
    [
        ("0", Decimal(0), ""),
        ("2 бр", Decimal(2), "бр"),
        ("2 бр.", Decimal(2), "бр"),
        ("1,5", Decimal("1.5"), ""),
        ("146305,48", Decimal("146305.48"), ""),
        ("146 305,48", Decimal("146305.48"), ""),
        ("146\u00a0305,48 лв.", Decimal("146305.48"), "лв"),
        ("1 000 000", Decimal(1000000), ""),
        ("-3", Decimal(-3), ""),
        ("75 %", Decimal(75), "%"),
        ("2 бр. проекти в процес на изпълнение", None, ""),
        ("1 неприложимо", None, ""),
        ("2019 - 2025г.", None, ""),
        ("", None, ""),
    ],
)
def test_parse_quantity(text: str, number: Decimal | None, unit: str) -> None:
    assert parse_quantity(text) == (number, unit)


@given(st.decimals(min_value=-(10**9), max_value=10**9, places=2, allow_nan=False, allow_infinity=False))
def test_numbers_written_in_bulgarian_read_back(value: Decimal) -> None:
    assert parse_quantity(format_number(value))[0] == value
    assert parse_quantity(format_number(value, group=True))[0] == value


def test_amounts_for_people() -> None:
    assert format_amount(Decimal("146305.48")) == "146\u00a0305,48"
    assert format_amount(Decimal("120000")) == "120\u00a0000,00"


@pytest.mark.parametrize(
    ("text", "value", "not_applicable", "valid"),
    [
        ("неприложимо", None, True, True),
        (" Неприложимо. ", None, True, True),
        ("not applicable", None, True, True),
        ("146 305,48 лв.", Decimal("146305.48"), False, True),
        ("1500 EUR", Decimal(1500), False, True),
        ("", None, False, True),
        ("около 5000", None, False, False),
        ("5 бр", None, False, False),
    ],
)
def test_parse_amount(text: str, value: Decimal | None, not_applicable: bool, valid: bool) -> None:
    amount = parse_amount(text)
    assert (amount.value, amount.not_applicable, amount.valid) == (value, not_applicable, valid)


@pytest.mark.parametrize(
    ("text", "units"),
    [
        ("Дирекция АПОФУС", ["АПОФУС"]),
        ("Дирекция АПОФУС Дирекция АКРРДС", ["АПОФУС", "АКРРДС"]),
        ("Дирекция АКРРДС и Дирекция АПОФУС", ["АКРРДС", "АПОФУС"]),
        ("АПОФУС, АКРРДС", ["АПОФУС", "АКРРДС"]),
        ("АКРРДС; АПОФУС", ["АКРРДС", "АПОФУС"]),
        ("Дирекция АПОФУС\nДирекция АПОФУС", ["АПОФУС"]),
        ("дирекции АПОФУС и АКРРДС", ["АПОФУС", "АКРРДС"]),
        ("Дирекция „Административен контрол, регионално развитие и държавна собственост“", ["АКРРДС"]),
        (
            "Дирекция Административно-правно обслужване, финанси и управление на собствеността и Политически кабинет",
            ["АПОФУС", "Политически кабинет"],
        ),
        ("Политически кабинет", ["Политически кабинет"]),
        ("Directorate АПОФУС", ["АПОФУС"]),
        ("", []),
    ],
)
def test_split_units(text: str, units: list[str]) -> None:
    assert split_units(text) == units


def test_split_list_by_lines_and_semicolons() -> None:
    assert split_list("Първо; второ\n- трето\n\n• четвърто") == ["Първо", "второ", "трето", "четвърто"]


@pytest.mark.parametrize(
    ("wording", "state"),
    [
        ("Планирана", "planned"),
        ("В процес на изпълнение", "in_progress"),
        ("  в   процес на ИЗПЪЛНЕНИЕ ", "in_progress"),
        ("Изпълнена", "done"),
        ("изпълнена.", "done"),
        ("Неизпълнена", "not_done"),
        ("Отпаднала", "dropped"),
        ("In progress", "in_progress"),
        ("DONE", "done"),
        ("not done", "not_done"),
        ("Dropped", "dropped"),
        ("planned", "planned"),
        ("Почти готова", None),
        ("", None),
    ],
)
def test_status_mapping(wording: str, state: str | None) -> None:
    assert status_to_state(wording) == state


@pytest.mark.parametrize("text", ["=SUM(A1:A2)", "+cmd", "@cmd", "- трето", "-x"])
def test_csv_formula_guard_is_lossless(text: str) -> None:
    protected = protect_formula(text)
    assert protected.startswith("'")
    assert unprotect_formula(protected) == text


@pytest.mark.parametrize("text", ["-3", "+359", "Текст", "'цитат'", ""])
def test_csv_formula_guard_leaves_plain_text_alone(text: str) -> None:
    assert protect_formula(text) == text
    assert unprotect_formula(text) == text
