"""The exporters' cells, written without python-docx's and openpyxl's per-cell helpers, hold
exactly what those helpers would write."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from docx import Document
from docx.oxml.ns import qn
from lxml import etree

from service.documents import Goal, Indicator, PlanDocument, export_docx
from service.documents.export_docx import _append_text

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
        Goal(number=n, title=f"Goal {n}\n second line", indicators=[Indicator(name="i", target=Decimal(n))],
             activities=["a", "b"], units=["U"], state="planned")
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
