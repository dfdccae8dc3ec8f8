"""The goals table as a spreadsheet: the official columns, numbers as numbers."""

from __future__ import annotations

import io
from collections.abc import Collection
from copy import copy
from decimal import Decimal
from typing import Final

from openpyxl import Workbook
from openpyxl.cell import Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter
from openpyxl.utils.indexed_list import IndexedList
from openpyxl.worksheet.worksheet import Worksheet

from service.kernel.text import printable

from .columns import FINANCING_AMOUNT
from .layout import FONT_NAME, text_width, wrapped_lines
from .model import Lang, PlanDocument
from .preamble import amendment_line, approval_lines, document_title
from .rendering import Column, TableFit, columns_for, fit_table, goal_values, group_spans, table_texts

_APPROVAL_ROWS: Final = 4  # the approval block at the top right, one line a row
_TITLE_ROW: Final = _APPROVAL_ROWS + 2
_HEADER_ROW: Final = _TITLE_ROW + 2  # then the two header rows
_AMOUNT_FORMAT: Final = "#,##0.00"
_THIN: Final = Side(style="thin")
_BORDER: Final = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEADER_FILL: Final = PatternFill("solid", fgColor="E8E8E8")
_WRAP_TOP: Final = Alignment(wrap_text=True, vertical="top")
_WRAP_CENTER: Final = Alignment(wrap_text=True, vertical="center", horizontal="center")
_SHEET_TITLES: Final[dict[tuple[str, str], str]] = {
    ("bg", "plan"): "Цели",
    ("bg", "report"): "Отчет",
    ("en", "plan"): "Goals",
    ("en", "report"): "Report",
}
# The printable width of A4 landscape with the sheet's margins, in points: the columns are
# sized for it, and the page setup fits them to it.
_MARGIN_INCHES: Final = 0.4
_USABLE_WIDTH: Final = (297 / 25.4 - 2 * _MARGIN_INCHES) * 72
_CELL_PADDING: Final = 8.0  # points, both sides together, that a spreadsheet keeps in a cell, and a margin
_LINE_HEIGHT: Final = 1.2  # of the font size
_DEFAULT_FONT_SIZE: Final = 11


def export_xlsx(document: PlanDocument, *, lang: Lang = "bg", extra_columns: Collection[str] = ()) -> bytes:
    """Approval block at the top right, the title, a two-row header; wrapped text in rows as
    high as their text, A4 landscape fitted to the page width, the header rows printed on
    every page and frozen on screen with the number and title columns."""
    document = printable(document)  # whatever is stored: XML cannot hold control characters
    workbook = Workbook()
    _default_font(workbook)
    sheet = workbook.active
    sheet.title = _SHEET_TITLES[(lang, document.kind)]
    columns = columns_for(document, lang, extra_columns)
    texts = table_texts(document, columns, lang)
    fit = fit_table(columns, texts, _USABLE_WIDTH, padding=_CELL_PADDING)
    font = Font(name=FONT_NAME, size=fit.size)
    amount_columns = {i for i, column in enumerate(columns) if column.field == FINANCING_AMOUNT}

    _approval(sheet, document, lang, len(columns))
    title = sheet.cell(row=_TITLE_ROW, column=1, value=document_title(document, lang))
    title.font = Font(name=FONT_NAME, bold=True, size=12)
    title.alignment = Alignment(horizontal="center", wrap_text=True)
    sheet.merge_cells(start_row=_TITLE_ROW, start_column=1, end_row=_TITLE_ROW, end_column=len(columns))
    if amended := amendment_line(document, lang):
        line = sheet.cell(row=_TITLE_ROW + 1, column=1, value=amended)
        line.font = Font(name=FONT_NAME, size=10)
        line.alignment = Alignment(horizontal="center")
        sheet.merge_cells(start_row=_TITLE_ROW + 1, start_column=1, end_row=_TITLE_ROW + 1, end_column=len(columns))
    _header(sheet, columns, Font(name=FONT_NAME, bold=True, size=fit.size))
    _header_heights(sheet, columns, fit)
    first_data_row = _HEADER_ROW + 2
    styles = DataStyles(font)
    numbers = range(1, len(columns) + 1)
    for row, (goal, row_texts) in enumerate(zip(document.goals, texts, strict=True), start=first_data_row):
        for column, value in enumerate(goal_values(goal, columns, lang), start=1):
            sheet.cell(row=row, column=column, value=value)
        # The row's cells by address: sheet[sheet.max_row] scans every cell, once per goal.
        style_data_row(tuple(sheet.cell(row=row, column=c) for c in numbers), amount_columns, styles)
        sheet.row_dimensions[row].height = _height(row_texts, fit.widths, fit.size)

    last_column = get_column_letter(len(columns))
    sheet.freeze_panes = f"C{first_data_row}"  # header rows, number and title stay in view
    sheet.auto_filter.ref = f"A{_HEADER_ROW + 1}:{last_column}{max(sheet.max_row, first_data_row)}"
    _page_setup(sheet)
    for index, width in enumerate(fit.widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = _characters(width)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _approval(sheet: Worksheet, document: PlanDocument, lang: Lang, width: int) -> None:
    """One line a row over the last three columns (the last two of a narrow table)."""
    first = max(1, width - 2)
    for row, (line, bold) in enumerate(approval_lines(document, lang), start=1):
        cell = sheet.cell(row=row, column=first, value=line)
        cell.font = Font(name=FONT_NAME, bold=bold, size=10)
        cell.alignment = Alignment(horizontal="left", vertical="top")
        if width > first:
            sheet.merge_cells(start_row=row, start_column=first, end_row=row, end_column=width)


def _default_font(workbook: Workbook) -> None:
    """Times New Roman 11 as the workbook's default font. Column widths count characters of
    the default font, so the widths hold only where it is installed: Times New Roman or its
    metric twin Liberation Serif, not Calibri, which LibreOffice on a server often lacks."""
    font = Font(name=FONT_NAME, size=_DEFAULT_FONT_SIZE, family=1)
    workbook._fonts = IndexedList([font])  # openpyxl has no public setter for the default font
    workbook._named_styles["Normal"].font = font


def _characters(points: float) -> float:
    """A width in points as a spreadsheet column width: characters of the default font (its
    widest digit in whole pixels, and 5 pixels of padding, at 96 pixels an inch)."""
    digit = round(text_width("0", _DEFAULT_FONT_SIZE) * 96 / 72)
    return round((points * 96 / 72 - 5) / digit, 2)


def _height(texts: list[str], widths: list[float], size: float) -> float:
    lines = max(
        (wrapped_lines(text, width - _CELL_PADDING, size) for text, width in zip(texts, widths, strict=True)),
        default=1,
    )
    return round(lines * size * _LINE_HEIGHT + 4, 1)


def _header_heights(sheet: Worksheet, columns: list[Column], fit: TableFit) -> None:
    """The group headings' row as high as their text over the columns they span; the second
    row as high as the headings under them, or what the two-row headings still need."""
    spans = group_spans(columns)
    top_lines = [
        wrapped_lines(columns[first].group_heading, sum(fit.widths[first : last + 1]) - _CELL_PADDING, fit.size, bold=True)
        for first, last in spans
    ]
    top = max(top_lines, default=1)
    sub = max(
        (
            wrapped_lines(column.heading, width - _CELL_PADDING, fit.size, bold=True)
            for column, width in zip(columns, fit.widths, strict=True)
            if column.group
        ),
        default=1,
    )
    whole = max(
        (
            wrapped_lines(column.heading, width - _CELL_PADDING, fit.size, bold=True)
            for column, width in zip(columns, fit.widths, strict=True)
            if not column.group
        ),
        default=1,
    )
    sub = max(sub, whole - top)
    sheet.row_dimensions[_HEADER_ROW].height = round(top * fit.size * _LINE_HEIGHT + 4, 1)
    sheet.row_dimensions[_HEADER_ROW + 1].height = round(sub * fit.size * _LINE_HEIGHT + 4, 1)


def write_header_cell(cell: Cell, text: str, font: Font | None = None) -> None:
    cell.value = text
    cell.font = font or Font(bold=True)
    cell.fill = _HEADER_FILL
    cell.alignment = _WRAP_CENTER
    cell.border = _BORDER


def _header(sheet: Worksheet, columns: list[Column], font: Font) -> None:
    """Group headings merged across their columns; other headings merged over both rows."""
    top, sub = _HEADER_ROW, _HEADER_ROW + 1
    for index, column in enumerate(columns, start=1):
        grouped = column.group is not None
        write_header_cell(
            sheet.cell(row=top, column=index), column.group_heading if grouped else column.heading, font
        )
        write_header_cell(sheet.cell(row=sub, column=index), column.heading if grouped else "", font)
    for first, last in group_spans(columns):
        sheet.merge_cells(start_row=top, start_column=first + 1, end_row=top, end_column=last + 1)
    for index, column in enumerate(columns, start=1):
        if column.group is None:
            sheet.merge_cells(start_row=top, start_column=index, end_row=sub, end_column=index)


class DataStyles:
    """The data cells' two styles (text; an amount with two decimals), made once per workbook
    through openpyxl's style properties and then copied cell to cell: each property assignment
    looks its style object up by hash in the workbook, which cost half of a 1,000-goal export.
    For cells that have no style of their own yet."""

    def __init__(self, font: Font | None = None) -> None:
        self._made: dict[bool, StyleArray] = {}
        self._font = font

    def apply(self, cell: Cell, amount: bool) -> None:
        made = self._made.get(amount)
        if made is not None:
            cell._style = copy(made)
            return
        cell.alignment = _WRAP_TOP
        cell.border = _BORDER
        if self._font is not None:
            cell.font = self._font
        if amount:
            cell.number_format = _AMOUNT_FORMAT
        self._made[amount] = copy(cell._style)


def style_data_row(
    cells: tuple[Cell, ...], amount_columns: Collection[int] = (), styles: DataStyles | None = None
) -> None:
    """Wrapped, top-aligned, bordered; amounts with two decimals; text starting with "="
    stays text rather than becoming a formula. `styles`: the workbook's, shared by its rows."""
    styles = styles or DataStyles()
    for index, cell in enumerate(cells):
        value = cell.value
        styles.apply(cell, index in amount_columns and isinstance(value, Decimal))
        if isinstance(value, str) and value.startswith("="):
            cell.data_type = "s"


def _page_setup(sheet: Worksheet) -> None:
    sheet.page_margins.left = sheet.page_margins.right = _MARGIN_INCHES
    sheet.page_margins.top = sheet.page_margins.bottom = 0.5
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = f"{_HEADER_ROW}:{_HEADER_ROW + 1}"
