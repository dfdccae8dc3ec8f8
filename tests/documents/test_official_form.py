"""The exports follow the official form: its 14 columns and their grouping, the title with the
administration's official name, the approval block at the top right, the units in the order
entered; and they are ready to print (Bulgarian, hyphenated, no column narrower than its
longest word, header rows on every page, rows as high as their text)."""

from __future__ import annotations

import io
from datetime import date

import pytest
from docx import Document
from docx.oxml.ns import qn
from openpyxl import load_workbook

from service.documents import PlanDocument, export_csv, export_docx, export_xlsx, parse_document
from service.documents.columns import ACHIEVED
from service.documents.layout import longest_word, wrapped_lines
from service.documents.rendering import columns_for, table_texts

OFFICIAL_HEADINGS = [
    "Ред №",
    "Ежегодна цел (за 2023 г.)",
    "Стратегически документ/и",
    "Стратегическа цел",
    "Индикатор от стратегически документ",
    "Индикатор за изпълнение на ежегодната цел (наименование)",
    "Текущо състояние",
    "Целево състояние",
    "Размер (лв.)",
    "Източник",
    "Планирани дейности за постигане на ежегодната цел",
    "Отговорно звено",
    "Статус на изпълнението",
    "Кратка информация за хода на изпълнение на ежегодната цел (за 2023 г.)",
]


def test_the_report_has_the_fourteen_columns_of_the_form(haskovo: PlanDocument) -> None:
    columns = columns_for(haskovo)
    assert [column.heading for column in columns] == OFFICIAL_HEADINGS
    groups = [column.group_heading for column in columns if column.group]
    assert groups == ["Връзка на ежегодната цел със стратегически цели и документи"] * 3 + [
        "Стойности на индикатора за изпълнение на ежегодната цел"
    ] * 2 + ["Необходимо финансиране"] * 2
    header = export_csv(haskovo).decode("utf-8-sig").splitlines()[0].split(";")
    assert len(header) == 14 and not any("Постигнато" in heading for heading in header)


@pytest.mark.parametrize("export", [export_docx, export_xlsx, export_csv])
def test_the_achieved_values_are_an_export_option(haskovo: PlanDocument, export) -> None:
    haskovo.goals[6].indicators[0].achieved_text = "2 обсъждания"
    assert len(columns_for(haskovo, extra_columns=[ACHIEVED])) == 15
    again = parse_document(export(haskovo, extra_columns=[ACHIEVED]))
    assert again.goals[6].indicators[0].achieved_text == "2 обсъждания"
    assert parse_document(export(haskovo)).goals[6].indicators[0].achieved_text == ""
    with pytest.raises(ValueError):
        columns_for(haskovo, extra_columns=["title"])


def test_units_are_written_in_the_order_entered(haskovo: PlanDocument) -> None:
    goal_8 = haskovo.goals[7]
    assert goal_8.units == ["АКРРДС", "АПОФУС"]
    units_column = [column.field for column in columns_for(haskovo)].index("units")
    assert table_texts(haskovo, columns_for(haskovo))[7][units_column] == "Дирекция АКРРДС и Дирекция АПОФУС"
    for export in (export_docx, export_xlsx, export_csv):
        assert parse_document(export(haskovo)).goals[7].units == ["АКРРДС", "АПОФУС"]


def test_docx_is_bulgarian_hyphenated_and_no_column_is_narrower_than_its_longest_word(
    haskovo: PlanDocument,
) -> None:
    word = Document(io.BytesIO(export_docx(haskovo)))
    languages = {marker.get(qn("w:val")) for marker in word.styles.element.iter(qn("w:lang"))}
    assert languages == {"bg-BG"}
    hyphenation = word.settings.element.find(qn("w:autoHyphenation"))
    assert hyphenation is not None and hyphenation.get(qn("w:val")) == "true"
    english = Document(io.BytesIO(export_docx(haskovo, lang="en")))
    assert {m.get(qn("w:val")) for m in english.styles.element.iter(qn("w:lang"))} == {"en-GB"}

    table = word.tables[0]
    size = table.rows[2].cells[0].paragraphs[0].runs[0].font.size.pt
    columns = columns_for(haskovo)
    texts = table_texts(haskovo, columns)
    margins = table._tbl.tblPr.find(qn("w:tblCellMar"))
    padding = sum(int(m.get(qn("w:w"))) for m in margins) / 20  # twentieths of a point
    for index, column in enumerate(columns):
        width = table.columns[index].width.pt
        needed = max(longest_word([column.heading], size, bold=True), longest_word([r[index] for r in texts], size))
        assert width >= needed + padding, column.field
    assert sum(column.width.mm for column in table.columns) == pytest.approx(297 - 20, abs=1)
    for row in table.rows[:2]:
        assert row._tr.trPr.find(qn("w:tblHeader")) is not None


def test_xlsx_prints_on_a4_landscape_with_its_header_on_every_page(haskovo: PlanDocument) -> None:
    sheet = load_workbook(io.BytesIO(export_xlsx(haskovo))).active
    setup = sheet.page_setup
    assert (setup.orientation, setup.paperSize, setup.fitToWidth, setup.fitToHeight) == ("landscape", 9, 1, 0)
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.print_title_rows == "$8:$9"
    assert sheet.freeze_panes == "C10"
    # Each data row as high as its tallest cell's text wrapped in its column.
    texts = table_texts(haskovo, columns_for(haskovo))
    size = sheet.cell(row=10, column=2).font.sz
    assert sheet.cell(row=10, column=2).font.name == "Times New Roman"
    widths = [(sheet.column_dimensions[chr(65 + i)].width * 7 + 5) * 72 / 96 for i in range(14)]
    for offset, row in enumerate(texts):
        height = sheet.row_dimensions[10 + offset].height
        lines = max(wrapped_lines(text, width - 8, size) for text, width in zip(row, widths, strict=True))
        assert height >= lines * size * 1.15, offset
        assert sheet.cell(row=10 + offset, column=2).alignment.wrap_text


def test_the_approval_block_stands_at_the_top_right_in_each_format(haskovo: PlanDocument) -> None:
    haskovo.governor_name = "Стефан Иванов"
    haskovo.approved_on = date(2024, 2, 15)
    sheet = load_workbook(io.BytesIO(export_xlsx(haskovo))).active
    block = [sheet.cell(row=row, column=12).value for row in range(1, 5)]
    assert block == ["УТВЪРЖДАВАМ:", "Стефан Иванов", "ОБЛАСТЕН УПРАВИТЕЛ", "15.02.2024 г."]
    assert sheet["A1"].value is None and sheet["A6"].value.startswith("Отчет за изпълнението")

    word = Document(io.BytesIO(export_docx(haskovo)))
    for paragraph in word.paragraphs[:4]:
        assert paragraph.paragraph_format.left_indent.mm > 150  # the block's left edge, right of centre

    for export in (export_docx, export_xlsx):  # the PDF's is checked as printed, in test_print
        again = parse_document(export(haskovo))
        assert (again.governor_name, again.approved_on) == ("Стефан Иванов", date(2024, 2, 15))
        assert again.administration == "Областна администрация на област Хасково"
