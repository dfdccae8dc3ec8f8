"""Columns are found by what their headings mean, never by where they stand."""

from __future__ import annotations

import csv
import io
import random
from decimal import Decimal

import pytest
from docx import Document
from openpyxl import Workbook

from service.documents import PlanDocument, export_csv, parse_csv, parse_document, parse_docx, parse_xlsx
from service.documents.columns import classify


def _csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))


def _shuffled(rows: list[list[str]], seed: int) -> list[list[str]]:
    order = list(range(len(rows[0])))
    random.Random(seed).shuffle(order)
    assert order != sorted(order)
    return [[row[i] for i in order] for row in rows]


def _csv_bytes(rows: list[list[str]], delimiter: str = ";") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter).writerows(rows)
    return buffer.getvalue().encode()


def _xlsx_bytes(rows: list[list[object]]) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("heading", "field"),
    [
        ("Ред №", "number"),
        ("1. Ежегодна цел (за 2023 г.)", "title"),
        ("Инициатор от стратегически документ", "strategic_indicator"),  # the OCR slip
        ("Индикатор от стратегически документ", "strategic_indicator"),
        ("Индикатор за изпълнение на ежегодната цел (наименование)", "indicator"),
        ("Стойност: текущо състояние", "baseline"),
        ("Стойност: целево състояние", "target"),
        ("Фактическо състояние", "achieved"),
        ("Кратка информация за хода на изпълнение на ежегодната цел за 2023 г.", "progress_note"),
        ("Статус на изпълнението", "status"),
        ("Отговорно звено", "units"),
        ("Strategic goal", "strategic_goal"),
        ("Financing source", "financing_source"),
        ("Brief information on progress", "progress_note"),
        ("Нещо друго", None),
    ],
)
def test_headings_are_classified_by_meaning(heading: str, field: str | None) -> None:
    assert classify(heading) == field


def test_shuffled_csv_parses_the_same(haskovo: PlanDocument, content) -> None:
    rows = _csv_rows(export_csv(haskovo))
    document = parse_csv(_csv_bytes(_shuffled(rows, seed=7), delimiter=","))
    assert [content(goal) for goal in document.goals] == [content(goal) for goal in haskovo.goals]


def test_shuffled_xlsx_with_english_headings_parses_the_same(haskovo: PlanDocument, content) -> None:
    rows = _csv_rows(export_csv(haskovo, lang="en"))
    document = parse_xlsx(_xlsx_bytes(_shuffled(rows, seed=11)))
    assert document.kind == "report" and document.year == 2023
    assert [content(goal) for goal in document.goals] == [content(goal) for goal in haskovo.goals]


def test_unnamed_column_after_financing_is_its_source_and_numbering_row_is_skipped() -> None:
    rows = [
        ["Цели на Областна администрация - Смолян за 2024 г."],
        ["Ред №", "Ежегодна цел", "Необходимо финансиране", "", "Отговорно звено"],
        ["1", "2", "3", "4", "5"],
        ["1", "Цел едно", "2 500,00", "Европейски фондове", "Дирекция АКРРДС"],
    ]
    document = parse_document(_csv_bytes(rows))
    assert (document.kind, document.year, document.administration) == (
        "plan",
        2024,
        "Областна администрация - Смолян",
    )
    [goal] = document.goals
    assert goal.financing_amount == Decimal(2500)
    assert goal.financing_source == "Европейски фондове"
    assert goal.state == "planned" and not goal.needs_review


def test_docx_with_merged_header_cells() -> None:
    """Vertical merges (number, title) and horizontal merges without sub-headings (values,
    financing): python-docx repeats merged cells, and the columns are told apart by position."""
    word = Document()
    word.add_paragraph("Цели на Областна администрация на област Хасково за 2025 г.")
    table = word.add_table(rows=3, cols=6)
    table.cell(0, 0).merge(table.cell(1, 0)).text = "Ред №"
    table.cell(0, 1).merge(table.cell(1, 1)).text = "Ежегодна цел"
    table.cell(0, 2).merge(table.cell(1, 3)).text = "Стойности на индикатора"
    table.cell(0, 4).merge(table.cell(1, 5)).text = "Необходимо финансиране"
    for cell, text in zip(
        table.rows[2].cells, ["1", "Цел", "0", "3 бр", "неприложимо", "Общински бюджет"], strict=True
    ):
        cell.text = text
    buffer = io.BytesIO()
    word.save(buffer)

    document = parse_docx(buffer.getvalue())
    [goal] = document.goals
    [indicator] = goal.indicators
    assert (indicator.baseline, indicator.target, indicator.unit) == (0, 3, "бр")
    assert goal.financing_not_applicable and goal.financing_source == "Общински бюджет"
    assert document.currency == "BGN"  # no currency in the heading: leva before 2026
    assert not goal.needs_review


def test_euro_from_2026_unless_the_heading_says_otherwise() -> None:
    header = ["Ред №", "Ежегодна цел", "Необходимо финансиране", "Източник"]
    body = ["1", "Цел", "100", "Национален бюджет"]
    euro = parse_csv(_csv_bytes([["Цели за 2026 г."], header, body]))
    leva = parse_csv(_csv_bytes([["Цели за 2026 г."], [*header[:2], "Размер (лв.)", "Източник"], body]))
    assert (euro.currency, leva.currency) == ("EUR", "BGN")


def test_rows_that_do_not_fit_are_kept_for_review(haskovo: PlanDocument) -> None:
    rows = _csv_rows(export_csv(haskovo))
    header = rows[0]
    status, number, amount = (
        header.index("Статус на изпълнението"),
        header.index("Ред №"),
        header.index("Необходимо финансиране – Размер (лв.)"),
    )
    rows[1][status] = "Почти готова"
    rows[2][number] = ""
    rows[3][amount] = "около 150 хиляди"
    rows[4] = rows[4][:-3]
    document = parse_csv(_csv_bytes(rows))

    assert len(document.goals) == 8
    unknown, unnumbered, unparsed, short = document.goals[:4]
    assert unknown.state is None and unknown.status_wording == "Почти готова"
    assert unnumbered.number == 2  # numbered by its place
    assert unparsed.financing_amount is None and "около 150 хиляди" in unparsed.source_cells
    assert short.progress_note == "" and short.source_cells == rows[4]
    for goal, phrase in zip(
        (unknown, unnumbered, unparsed, short),
        ("Unknown status", "has no number", "is not a number", "the missing ones are left empty"),
        strict=True,
    ):
        assert goal.needs_review
        assert any(phrase in warning.en for warning in goal.warnings), goal.warnings
    assert not any(goal.needs_review for goal in document.goals[4:])
