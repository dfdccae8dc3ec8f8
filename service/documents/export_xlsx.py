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
from openpyxl.worksheet.worksheet import Worksheet

from service.text import printable

from .columns import FINANCING_AMOUNT
from .model import Lang, PlanDocument
from .preamble import approval_lines, document_title
from .rendering import Column, columns_for, goal_values, group_spans

_HEADER_ROW: Final = 4  # title, approval, a blank row, then the two header rows
_CHARS_PER_WEIGHT: Final = 12
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


def export_xlsx(document: PlanDocument, *, lang: Lang = "bg") -> bytes:
    """Title and approval above a two-row header; header frozen, auto filter, wrapped text."""
    document = printable(document)  # whatever is stored: XML cannot hold control characters
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _SHEET_TITLES[(lang, document.kind)]
    columns = columns_for(document, lang)
    last_column = get_column_letter(len(columns))
    amount_columns = {i for i, column in enumerate(columns) if column.field == FINANCING_AMOUNT}

    sheet.append([document_title(document, lang)])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.merge_cells(f"A1:{last_column}1")
    approve, *rest = (line for line, _ in approval_lines(document, lang))
    sheet.append([f"{approve} {', '.join(rest)}"])
    _header(sheet, columns)
    first_data_row = _HEADER_ROW + 2
    styles = DataStyles()
    numbers = range(1, len(columns) + 1)
    for row, goal in enumerate(document.goals, start=first_data_row):
        sheet.append(goal_values(goal, columns, lang))
        # The row's cells by address: sheet[sheet.max_row] scans every cell, once per goal.
        style_data_row(tuple(sheet.cell(row=row, column=c) for c in numbers), amount_columns, styles)

    sheet.freeze_panes = f"C{first_data_row}"  # header rows, number and title stay in view
    sheet.auto_filter.ref = f"A{_HEADER_ROW + 1}:{last_column}{max(sheet.max_row, first_data_row)}"
    _page_setup(sheet)
    for index, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.weight * _CHARS_PER_WEIGHT
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def write_header_cell(cell: Cell, text: str) -> None:
    cell.value = text
    cell.font = Font(bold=True)
    cell.fill = _HEADER_FILL
    cell.alignment = _WRAP_CENTER
    cell.border = _BORDER


def _header(sheet: Worksheet, columns: list[Column]) -> None:
    """Group headings merged across their columns; other headings merged over both rows."""
    top, sub = _HEADER_ROW, _HEADER_ROW + 1
    for index, column in enumerate(columns, start=1):
        grouped = column.group is not None
        write_header_cell(
            sheet.cell(row=top, column=index), column.group_heading if grouped else column.heading
        )
        write_header_cell(sheet.cell(row=sub, column=index), column.heading if grouped else "")
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

    def __init__(self) -> None:
        self._made: dict[bool, StyleArray] = {}

    def apply(self, cell: Cell, amount: bool) -> None:
        made = self._made.get(amount)
        if made is not None:
            cell._style = copy(made)
            return
        cell.alignment = _WRAP_TOP
        cell.border = _BORDER
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
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = f"{_HEADER_ROW}:{_HEADER_ROW + 1}"
