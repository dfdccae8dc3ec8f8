"""The exporters' cells, written without python-docx's and openpyxl's per-cell helpers, hold
exactly what those helpers would write."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from docx import Document
from docx.oxml.ns import qn
from lxml import etree
from openpyxl import load_workbook

from service.documents import (
    Goal,
    Indicator,
    PlanDocument,
    QuarterSummary,
    QuarterSummaryRow,
    export_docx,
    export_quarter_summary_xlsx,
    export_xlsx,
)
from service.documents.columns import FINANCING_AMOUNT
from service.documents.export_docx import _append_text
from service.documents.rendering import columns_for

TEXTS = [
    "",
    "plain",
    "  leading",
    "trailing  ",
    "one\ntwo",
    "\n",
    "a\r\nb",
    "tab\there",
    "\t\tstart",
    "end\t",
    "many\n\nbreaks\n",
    "<&>\"'",
    "кирилица и spaces ",
]


@pytest.mark.parametrize("text", TEXTS)
def test_docx_run_text_as_python_docx_writes_it(text: str) -> None:
    paragraph = Document().add_paragraph()
    theirs = paragraph.add_run()
    theirs.text = text
    ours = paragraph.add_run()._r
    _append_text(ours, text)
    assert etree.tostring(ours) == etree.tostring(theirs._r)


def test_docx_data_cells_are_as_wide_as_their_columns() -> None:
    goals = [
        Goal(
            number=n,
            title=f"Goal {n}\n second line",
            indicators=[Indicator(name="i", target=Decimal(n))],
            activities=["a", "b"],
            units=["U"],
            state="planned",
        )
        for n in range(1, 4)
    ]
    word = Document(io.BytesIO(export_docx(PlanDocument(kind="report", year=2025, goals=goals))))
    table = word.tables[0]
    grid = [column.width for column in table.columns]
    for row in table.rows[2:]:
        assert [int(tc.tcPr.find(qn("w:tcW")).get(qn("w:w"))) for tc in row._tr.tc_lst] == [
            width.twips for width in grid
        ]
    assert table.rows[2].cells[1].text == "Goal 1\n second line"
    assert [row.cells[0].text for row in table.rows[2:]] == ["1", "2", "3"]


def test_xlsx_data_cells_share_their_styles_and_keep_text_as_text() -> None:
    goals = [
        Goal(
            number=n,
            title="=1+1" if n == 2 else f"Goal {n}",
            financing_amount=Decimal("1234.5") if n != 3 else None,
            financing_not_applicable=n == 3,
            indicators=[Indicator(name="i", target=Decimal(n))],
            units=["U"],
            state="planned",
        )
        for n in range(1, 5)
    ]
    sheet = load_workbook(io.BytesIO(export_xlsx(PlanDocument(kind="plan", year=2025, goals=goals)))).active
    columns = columns_for(PlanDocument(kind="plan", year=2025))
    amount = next(i for i, c in enumerate(columns) if c.field == FINANCING_AMOUNT)
    rows = list(sheet.iter_rows(min_row=10, max_row=13))
    for row in rows:
        for index, cell in enumerate(row):
            assert cell.alignment.wrap_text and cell.alignment.vertical == "top"
            assert cell.border.left.style == cell.border.bottom.style == "thin"
            amount_cell = index == amount and isinstance(cell.value, int | float)
            assert cell.number_format == ("#,##0.00" if amount_cell else "General"), (
                cell.coordinate,
                cell.value,
            )
    assert rows[1][1].value == "=1+1" and rows[1][1].data_type == "s"
    assert rows[0][amount].value == 1234.5 and rows[2][amount].value == "неприложимо"


def test_quarter_summary_fills_only_the_rows_missing_a_report() -> None:
    summary = QuarterSummary(
        administration="A",
        year=2024,
        quarter=1,
        rows=[
            QuarterSummaryRow(n, f"Goal {n}", ["U"], "in_progress", report_missing=n == 2)
            for n in range(1, 4)
        ],
    )
    sheet = load_workbook(io.BytesIO(export_quarter_summary_xlsx(summary))).active
    filled = [
        [cell.fill.fgColor.rgb.endswith("F8D7DA") for cell in row]
        for row in sheet.iter_rows(min_row=4, max_row=6)
    ]
    assert filled == [[False] * 7, [True] * 7, [False] * 7]
    assert all(
        cell.border.top.style == "thin" for row in sheet.iter_rows(min_row=4, max_row=6) for cell in row
    )
