"""The goals table as a Word document laid out like the official one."""

from __future__ import annotations

import io
import re
from copy import deepcopy
from typing import Final

from docx import Document
from docx.document import Document as WordDocument
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.oxml.table import CT_Row
from docx.oxml.xmlchemy import BaseOxmlElement
from docx.section import Section
from docx.shared import Emu, Mm, Pt
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph
from lxml.etree import SubElement

from service.text import printable

from .model import Lang, PlanDocument
from .preamble import approval_lines, document_title
from .rendering import PAGE_WORDS, Column, as_text, columns_for, goal_values, group_spans

_PAGE_WIDTH: Final = Mm(297)
_PAGE_HEIGHT: Final = Mm(210)
_MARGIN: Final = Mm(12)
_FONT: Final = "Times New Roman"
_TABLE_FONT_SIZE: Final = Pt(8)


def export_docx(document: PlanDocument, *, lang: Lang = "bg") -> bytes:
    """A4 landscape; approval block, title, the table with a two-row header repeated on every
    page, and page numbers in the footer."""
    document = printable(document)  # whatever is stored: XML cannot hold control characters
    word = Document()
    section = word.sections[0]
    _landscape_a4(section)
    word.styles["Normal"].font.name = _FONT
    word.styles["Normal"].font.size = Pt(10)
    _approval_block(word, document, lang)
    title = word.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title.add_run(document_title(document, lang)).bold = True
    _goals_table(word, document, lang)
    _page_numbers(section, lang)
    buffer = io.BytesIO()
    word.save(buffer)
    return buffer.getvalue()


def _landscape_a4(section: Section) -> None:
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = _PAGE_WIDTH, _PAGE_HEIGHT
    section.left_margin = section.right_margin = _MARGIN
    section.top_margin = section.bottom_margin = _MARGIN


def _approval_block(word: WordDocument, document: PlanDocument, lang: Lang) -> None:
    for text, bold in approval_lines(document, lang):
        paragraph = word.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        paragraph.paragraph_format.space_after = Pt(0)
        paragraph.add_run(text).bold = bold


def _goals_table(word: WordDocument, document: PlanDocument, lang: Lang) -> None:
    columns = columns_for(document, lang)
    table = word.add_table(rows=2, cols=len(columns))
    table.style = "Table Grid"
    table.autofit = False
    _header(table, columns)
    template = _empty_row(table)
    _column_widths(table, columns)  # the header rows and the template, which every data row copies
    tbl = table._tbl
    tbl.remove(template)
    for goal in document.goals:
        # A copy of one formatted row whose runs (one a cell, in column order) get their text:
        # python-docx's add_row, per-run formatting and per-cell widths cost most of a large export.
        row = deepcopy(template)
        tbl.append(row)
        for run, column, value in zip(row.iter(_RUN), columns, goal_values(goal, columns, lang), strict=True):
            _append_text(run, as_text(value, column.field))


def _empty_row(table: Table) -> CT_Row:
    """A data row with one empty run in the table's font size per cell (still in the table)."""
    row = table.add_row()
    for cell in row.cells:
        cell.paragraphs[0].add_run("").font.size = _TABLE_FONT_SIZE
    return row._tr


_RUN: Final = qn("w:r")
_TEXT: Final = qn("w:t")
_BREAK: Final = qn("w:br")
_TAB: Final = qn("w:tab")
_SPACE: Final = qn("xml:space")
_PIECES: Final = re.compile(r"[^\t\r\n]+|[\t\r\n]")


def _append_text(run: BaseOxmlElement, text: str) -> None:
    """What python-docx's run.text = text writes: a w:t per stretch of text (its spaces kept),
    a w:tab per tab and a w:br per line break, here without its character-by-character pass."""
    for piece in _PIECES.findall(text):
        if piece == "\t":
            SubElement(run, _TAB)
        elif piece in ("\n", "\r"):
            SubElement(run, _BREAK)
        else:
            element = SubElement(run, _TEXT)
            element.text = piece
            if len(piece.strip()) < len(piece):
                element.set(_SPACE, "preserve")


def _header(table: Table, columns: list[Column]) -> None:
    """Grouped columns share a merged heading above their own; the others span both rows."""
    grouped = set()
    for first, last in group_spans(columns):
        merged = table.cell(0, first).merge(table.cell(0, last))
        _write(merged, columns[first].group_heading, bold=True)
        grouped.update(range(first, last + 1))
    for index, column in enumerate(columns):
        if index in grouped:
            _write(table.cell(1, index), column.heading, bold=True)
        else:
            _write(table.cell(0, index).merge(table.cell(1, index)), column.heading, bold=True)
    for row in table.rows[:2]:
        row_properties = row._tr.get_or_add_trPr()
        for tag in ("w:tblHeader", "w:cantSplit"):  # repeat on each page, never split
            element = OxmlElement(tag)
            element.set(qn("w:val"), "true")
            row_properties.append(element)


def _write(cell: _Cell, text: str, *, bold: bool = False) -> None:
    cell.text = ""
    paragraph = cell.paragraphs[0]
    if bold:
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    run = paragraph.add_run(text)  # "\n" becomes a line break
    run.bold = bold
    run.font.size = _TABLE_FONT_SIZE


def _column_widths(table: Table, columns: list[Column]) -> None:
    usable = _PAGE_WIDTH - 2 * _MARGIN
    total = sum(column.weight for column in columns)
    widths = [Emu(int(usable * column.weight / total)) for column in columns]
    for index, width in enumerate(widths):
        table.columns[index].width = width
    for row in table.rows:  # a merged cell is as wide as the columns it spans
        start = row.grid_cols_before
        for cell in row._tr.tc_lst:
            cell.width = Emu(sum(widths[start : start + cell.grid_span]))
            start += cell.grid_span


def _page_numbers(section: Section, lang: Lang) -> None:
    page, of = PAGE_WORDS[lang]
    paragraph = section.footer.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph.add_run(f"{page} ")
    _field(paragraph, "PAGE")
    paragraph.add_run(f" {of} ")
    _field(paragraph, "NUMPAGES")


def _field(paragraph: Paragraph, instruction: str) -> None:
    """A Word field such as PAGE: begin, instruction, separate, the value shown until Word
    updates it, end."""
    run = paragraph.add_run()._r
    run.append(_field_char("begin"))
    code = OxmlElement("w:instrText")
    code.set(qn("xml:space"), "preserve")
    code.text = f" {instruction} "
    run.append(code)
    run.append(_field_char("separate"))
    shown = OxmlElement("w:t")
    shown.text = "1"
    run.append(shown)
    run.append(_field_char("end"))


def _field_char(kind: str) -> OxmlElement:
    element = OxmlElement("w:fldChar")
    element.set(qn("w:fldCharType"), kind)
    return element
