"""The goals table as a Word document laid out like the official one."""

from __future__ import annotations

import io
import re
from collections.abc import Collection
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

from service.kernel.text import printable

from .layout import FONT_NAME
from .model import Lang, PlanDocument
from .preamble import amendment_line, approval_lines, document_title
from .rendering import (
    PAGE_WORDS,
    Column,
    as_text,
    columns_for,
    fit_table,
    goal_values,
    group_spans,
    table_texts,
)

_PAGE_WIDTH: Final = Mm(297)
_PAGE_HEIGHT: Final = Mm(210)
_MARGIN: Final = Mm(10)
_CELL_MARGIN: Final = Mm(1)  # left and right inside each cell
_APPROVAL_WIDTH: Final = Mm(75)
_FONT: Final = FONT_NAME
_LANGUAGES: Final[dict[str, str]] = {"bg": "bg-BG", "en": "en-GB"}


def export_docx(document: PlanDocument, *, lang: Lang = "bg", extra_columns: Collection[str] = ()) -> bytes:
    """A4 landscape in the document's language, hyphenated; the approval block at the top
    right, the title, the table with its two-row header repeated on every page, and page
    numbers in the footer. Column widths and the font size are chosen so that no column is
    narrower than its longest word."""
    document = printable(document)  # whatever is stored: XML cannot hold control characters
    word = Document()
    section = word.sections[0]
    _landscape_a4(section)
    word.styles["Normal"].font.name = _FONT
    word.styles["Normal"].font.size = Pt(10)
    _language_and_hyphenation(word, _LANGUAGES[lang])
    _approval_block(word, document, lang)
    title = word.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title.add_run(document_title(document, lang)).bold = True
    if amended := amendment_line(document, lang):
        line = word.add_paragraph(amended)
        line.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _goals_table(word, document, lang, columns_for(document, lang, extra_columns))
    _page_numbers(section, lang)
    buffer = io.BytesIO()
    word.save(buffer)
    return buffer.getvalue()


def _landscape_a4(section: Section) -> None:
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = _PAGE_WIDTH, _PAGE_HEIGHT
    section.left_margin = section.right_margin = _MARGIN
    section.top_margin = section.bottom_margin = _MARGIN


def _language_and_hyphenation(word: WordDocument, language: str) -> None:
    """The language of every run (Word spell-checks and hyphenates by it) and automatic
    hyphenation for the whole document."""
    defaults = word.styles.element.find(qn("w:docDefaults"))
    run_defaults = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    marker = run_defaults.find(qn("w:lang"))
    if marker is None:
        marker = SubElement(run_defaults, qn("w:lang"))
    for attribute in ("w:val", "w:eastAsia", "w:bidi"):
        marker.set(qn(attribute), language)
    settings = word.settings.element
    hyphenation = settings.find(qn("w:autoHyphenation"))
    if hyphenation is None:
        hyphenation = OxmlElement("w:autoHyphenation")
        # The schema wants it before w:characterSpacingControl and what follows; the default
        # template has w:defaultTabStop, after which it may stand.
        anchor = settings.find(qn("w:defaultTabStop"))
        if anchor is not None:
            anchor.addnext(hyphenation)
        else:
            settings.insert(0, hyphenation)
    hyphenation.set(qn("w:val"), "true")


def _approval_block(word: WordDocument, document: PlanDocument, lang: Lang) -> None:
    """At the top right, its lines aligned on their left edge as a signature block is."""
    indent = _PAGE_WIDTH - 2 * _MARGIN - _APPROVAL_WIDTH
    for text, bold in approval_lines(document, lang):
        paragraph = word.add_paragraph()
        paragraph.paragraph_format.left_indent = Emu(indent)
        paragraph.paragraph_format.space_after = Pt(0)
        paragraph.add_run(text).bold = bold


def _goals_table(word: WordDocument, document: PlanDocument, lang: Lang, columns: list[Column]) -> None:
    usable = (_PAGE_WIDTH - 2 * _MARGIN) / 12700  # points
    fit = fit_table(columns, table_texts(document, columns, lang), usable, padding=2 * _CELL_MARGIN / 12700)
    size = Pt(fit.size)
    table = word.add_table(rows=2, cols=len(columns))
    table.style = "Table Grid"
    table.autofit = False
    _cell_margins(table)
    _header(table, columns, size)
    template = _empty_row(table, size)
    # The header rows and the template, which every data row copies.
    _column_widths(table, [Emu(int(width * 12700)) for width in fit.widths])
    tbl = table._tbl
    tbl.remove(template)
    for goal in document.goals:
        # A copy of one formatted row whose runs (one a cell, in column order) get their text:
        # python-docx's add_row, per-run formatting and per-cell widths cost most of a large export.
        row = deepcopy(template)
        tbl.append(row)
        for run, column, value in zip(row.iter(_RUN), columns, goal_values(goal, columns, lang), strict=True):
            _append_text(run, as_text(value, column.field))


def _cell_margins(table: Table) -> None:
    margins = OxmlElement("w:tblCellMar")
    for side in ("left", "right"):
        margin = SubElement(margins, qn(f"w:{side}"))
        margin.set(qn("w:w"), str(round(_CELL_MARGIN / 635)))  # twentieths of a point
        margin.set(qn("w:type"), "dxa")
    properties = table._tbl.tblPr
    look = properties.find(qn("w:tblLook"))  # the schema's order: the margins come before it
    if look is not None:
        look.addprevious(margins)
    else:
        properties.append(margins)


def _empty_row(table: Table, size: Pt) -> CT_Row:
    """A data row with one empty run in the table's font size per cell (still in the table)."""
    row = table.add_row()
    for cell in row.cells:
        cell.paragraphs[0].add_run("").font.size = size
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


def _header(table: Table, columns: list[Column], size: Pt) -> None:
    """Grouped columns share a merged heading above their own; the others span both rows."""
    grouped = set()
    for first, last in group_spans(columns):
        merged = table.cell(0, first).merge(table.cell(0, last))
        _write(merged, columns[first].group_heading, size)
        grouped.update(range(first, last + 1))
    for index, column in enumerate(columns):
        if index in grouped:
            _write(table.cell(1, index), column.heading, size)
        else:
            _write(table.cell(0, index).merge(table.cell(1, index)), column.heading, size)
    for row in table.rows[:2]:
        row_properties = row._tr.get_or_add_trPr()
        for tag in ("w:tblHeader", "w:cantSplit"):  # repeat on each page, never split
            element = OxmlElement(tag)
            element.set(qn("w:val"), "true")
            row_properties.append(element)


def _write(cell: _Cell, text: str, size: Pt) -> None:
    """A heading: bold, centred."""
    cell.text = ""
    paragraph = cell.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    run = paragraph.add_run(text)  # "\n" becomes a line break
    run.bold = True
    run.font.size = size


def _column_widths(table: Table, widths: list[Emu]) -> None:
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
