"""The exported files themselves: page setup, approval block, header, numbers, pages."""

from __future__ import annotations

import io
import os
import shutil
import struct
import subprocess
from datetime import date
from pathlib import Path

import pytest
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.oxml.ns import qn
from openpyxl import load_workbook

from service.documents import (
    PlanDocument,
    QuarterSummary,
    QuarterSummaryRow,
    export_csv,
    export_docx,
    export_pdf,
    export_quarter_summary_xlsx,
    export_xlsx,
)

PDFTOPPM = "/usr/bin/pdftoppm"


def _png_size(path: Path) -> tuple[int, int]:
    """Width and height from the IHDR chunk, which follows the 8-byte signature."""
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n" and header[12:16] == b"IHDR"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


def _header_texts(word: Document) -> list[str]:
    table = word.tables[0]
    return [cell.text for row in table.rows[:2] for cell in row.cells]


def test_docx_is_a4_landscape_with_approval_title_and_page_numbers(haskovo: PlanDocument) -> None:
    haskovo.governor_name = "Стефан Иванов"
    haskovo.approved_on = date(2024, 1, 15)
    word = Document(io.BytesIO(export_docx(haskovo)))

    section = word.sections[0]
    assert section.orientation == WD_ORIENT.LANDSCAPE
    assert section.page_width > section.page_height
    assert abs(section.page_width.mm - 297) < 1 and abs(section.page_height.mm - 210) < 1

    paragraphs = [paragraph.text for paragraph in word.paragraphs]
    assert paragraphs[:5] == [
        "УТВЪРЖДАВАМ:",
        "Стефан Иванов",
        "ОБЛАСТЕН УПРАВИТЕЛ",
        "15.01.2024 г.",
        "Отчет за изпълнението на целите на Областна администрация на област Хасково за 2023 г.",
    ]
    instructions = [node.text.strip() for node in section.footer._element.iter(qn("w:instrText"))]
    assert "PAGE" in instructions


def test_docx_header_has_two_repeated_rows_in_the_official_order(haskovo: PlanDocument) -> None:
    word = Document(io.BytesIO(export_docx(haskovo)))
    table = word.tables[0]
    top = [cell.text for cell in table.rows[0].cells]
    sub = [cell.text for cell in table.rows[1].cells]
    assert top[:2] == ["Ред №", "Ежегодна цел (за 2023 г.)"]
    assert top[2:5] == ["Връзка на ежегодната цел със стратегически цели и документи"] * 3
    assert sub[2:5] == [
        "Стратегически документ/и",
        "Стратегическа цел",
        "Индикатор от стратегически документ",
    ]
    assert top[6:8] == ["Стойности на индикатора за изпълнение на ежегодната цел"] * 2
    assert sub[6:8] == ["Текущо състояние", "Целево състояние"]
    assert top[8:10] == ["Необходимо финансиране"] * 2
    assert sub[8:10] == ["Размер (лв.)", "Източник"]
    assert len(top) == 14  # the official form: the achieved value is no column of its own
    assert (
        top[-2:]
        == sub[-2:]
        == [
            "Статус на изпълнението",
            "Кратка информация за хода на изпълнение на ежегодната цел (за 2023 г.)",
        ]
    )
    for row in table.rows[:2]:
        assert row._tr.trPr.find(qn("w:tblHeader")) is not None
    assert len(table.rows) == 2 + 8
    assert table.rows[4].cells[8].text == "146\u00a0305,48"


def test_plan_has_no_status_columns_and_english_headings(small_plan: PlanDocument) -> None:
    bulgarian = _header_texts(Document(io.BytesIO(export_docx(small_plan))))
    assert "Статус на изпълнението" not in bulgarian and "Постигнато състояние" not in bulgarian
    english = Document(io.BytesIO(export_docx(small_plan, lang="en")))
    assert english.paragraphs[0].text == "APPROVED:"
    assert "Goals of Областна администрация на област Хасково for 2024" in [
        p.text for p in english.paragraphs
    ]
    assert {"No.", "Annual goal (for 2024)", "Responsible unit", "Amount (BGN)"} <= set(
        _header_texts(english)
    )


def test_xlsx_frozen_filtered_numeric(haskovo: PlanDocument) -> None:
    sheet = load_workbook(io.BytesIO(export_xlsx(haskovo))).active
    assert sheet.freeze_panes == "C10"
    assert sheet.auto_filter.ref == "A9:N17"
    assert sheet["A6"].value.startswith("Отчет за изпълнението на целите")
    assert sheet["I8"].value == "Необходимо финансиране" and sheet["I9"].value == "Размер (лв.)"
    assert "I8:J8" in {str(merged) for merged in sheet.merged_cells.ranges}

    rows = {sheet.cell(row=row, column=1).value: row for row in range(10, 18)}
    assert sorted(rows) == list(range(1, 9))
    amount_three, amount_eight = sheet.cell(rows[3], 9), sheet.cell(rows[8], 9)
    assert (amount_three.data_type, amount_three.value) == ("n", pytest.approx(146305.48))
    assert amount_three.number_format == "#,##0.00"
    assert amount_eight.value == 120000
    assert sheet.cell(rows[1], 9).value == "неприложимо"
    assert (sheet.cell(rows[7], 7).value, sheet.cell(rows[7], 8).value) == (0, 2)  # baseline, target
    assert sheet.cell(rows[8], 8).value == "2 бр"  # a quantity with its unit stays as written
    assert sheet.cell(rows[1], 2).alignment.wrap_text
    assert sheet.column_dimensions["B"].width > sheet.column_dimensions["A"].width


def test_csv_has_bom_and_one_header_row(haskovo: PlanDocument) -> None:
    data = export_csv(haskovo)
    assert data.startswith(b"\xef\xbb\xbf")
    lines = data.decode("utf-8-sig").splitlines()
    header = lines[0].split(";")
    assert header[0] == "Ред №"
    assert "Стойности на индикатора за изпълнение на ежегодната цел – Текущо състояние" in header
    assert "Необходимо финансиране – Източник" in header
    assert ";146305,48;" in data.decode("utf-8-sig")


def test_pdf_pages_are_landscape(haskovo: PlanDocument, tmp_path: Path) -> None:
    if not Path(PDFTOPPM).exists():
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail(f"{PDFTOPPM} is required (REQUIRE_SERVICES=1)")
        pytest.skip(f"{PDFTOPPM} is not installed")
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(export_pdf(haskovo))
    assert pdf.read_bytes().startswith(b"%PDF")
    subprocess.run([PDFTOPPM, "-r", "50", "-png", str(pdf), str(tmp_path / "page")], check=True, timeout=60)
    pages = sorted(tmp_path.glob("page*.png"))
    assert len(pages) >= 1
    for page in pages:
        width, height = _png_size(page)
        assert width > height, page.name
    if pdftotext := shutil.which("pdftotext"):
        text = subprocess.run([pdftotext, str(pdf), "-"], capture_output=True, check=True, text=True).stdout
        assert "УТВЪРЖДАВАМ:" in text and "ОБЛАСТЕН УПРАВИТЕЛ" in text  # Cyrillic text, not boxes
        assert "Отчет за изпълнението на целите на Областна администрация" in text
        assert f"Страница 1 от {len(pages)}" in text


def test_quarter_summary() -> None:
    summary = QuarterSummary(
        administration="Областна администрация на област Хасково",
        year=2024,
        quarter=2,
        rows=[
            QuarterSummaryRow(1, "Федериран портал", ["АПОФУС"], "in_progress", "0 от 1", "нисък", "одобрен"),
            QuarterSummaryRow(2, "Избори", ["АКРРДС", "АПОФУС"], "done", "2 от 2 бр"),
            QuarterSummaryRow(3, "Стратегия за околната среда", ["АКРРДС"], "not_done", report_missing=True),
        ],
    )
    sheet = load_workbook(io.BytesIO(export_quarter_summary_xlsx(summary))).active
    assert sheet["A1"].value == (
        "Тримесечна справка за изпълнението на целите на Областна администрация на област Хасково: "
        "II тримесечие на 2024 г."
    )
    assert [cell.value for cell in sheet[3]] == [
        "№", "Цел", "Отговорно звено", "Състояние", "Индикатори: постигнато спрямо целево", "Риск", "Тримесечен отчет",
    ]  # fmt: skip
    assert [cell.value for cell in sheet[5]][:4] == [
        2,
        "Избори",
        "Дирекция АКРРДС\nДирекция АПОФУС",
        "Изпълнена",
    ]
    missing = sheet[6]
    assert missing[6].value == "липсва" and missing[0].fill.fgColor.rgb.endswith("F8D7DA")
    assert sheet.freeze_panes == "A4" and sheet.auto_filter.ref == "A3:G6"
    totals = {row[1].value: row[2].value for row in sheet.iter_rows(min_row=8) if row[1].value}
    assert totals == {
        "Общо цели": 3,
        "В процес на изпълнение": 1,
        "Изпълнена": 1,
        "Неизпълнена": 1,
        "Липсващи отчети": 1,
    }

    english = load_workbook(io.BytesIO(export_quarter_summary_xlsx(summary, lang="en"))).active
    assert english["A1"].value.endswith("Q2 2024") and english["D4"].value == "In progress"
    with pytest.raises(ValueError):
        QuarterSummary("X", 2024, 5)
