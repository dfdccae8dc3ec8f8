"""The quarterly summary sent to the governor: where each goal stands and which quarterly
reports are missing."""

from __future__ import annotations

import io
from collections import Counter
from dataclasses import dataclass, field
from typing import Final

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from service.kernel.text import printable

from .export_xlsx import DataStyles, style_data_row, write_header_cell
from .model import Lang, goal_states, state_label
from .values import unit_label

_ROMAN: Final = ("I", "II", "III", "IV")
_MISSING_FILL: Final = PatternFill("solid", fgColor="F8D7DA")
_HEADER_ROW: Final = 3
_COLUMNS: Final[dict[str, tuple[tuple[str, float], ...]]] = {
    # (heading, width in characters)
    "bg": (
        ("№", 6), ("Цел", 45), ("Отговорно звено", 18), ("Състояние", 20),
        ("Индикатори: постигнато спрямо целево", 40), ("Риск", 24), ("Тримесечен отчет", 22),
    ),
    "en": (
        ("No.", 6), ("Goal", 45), ("Responsible unit", 18), ("State", 20),
        ("Indicators: achieved vs target", 40), ("Risk", 24), ("Quarterly report", 22),
    ),
}  # fmt: skip
_WORDS: Final[dict[str, dict[str, str]]] = {
    "bg": {"missing": "липсва", "goals": "Общо цели", "missing_total": "Липсващи отчети", "sheet": "Справка"},
    "en": {
        "missing": "missing",
        "goals": "Goals in total",
        "missing_total": "Missing reports",
        "sheet": "Summary",
    },
}


@dataclass
class QuarterSummaryRow:
    number: int
    title: str
    units: list[str] = field(default_factory=list)
    state: str | None = None
    indicators: str = ""  # achieved against target, as words: "37 от 40 проверки"
    risk: str = ""
    report_status: str = ""  # e.g. "одобрен 03.04.2024"
    report_missing: bool = False


@dataclass
class QuarterSummary:
    administration: str
    year: int
    quarter: int
    rows: list[QuarterSummaryRow] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.quarter not in (1, 2, 3, 4):
            raise ValueError(f"quarter must be 1-4, not {self.quarter}")


def summary_title(summary: QuarterSummary, lang: Lang = "bg") -> str:
    if lang == "en":
        return (
            f"Quarterly summary of the goals of {summary.administration}: Q{summary.quarter} {summary.year}"
        )
    return (
        f"Тримесечна справка за изпълнението на целите на {summary.administration}: "
        f"{_ROMAN[summary.quarter - 1]} тримесечие на {summary.year} г."
    )


def export_quarter_summary_xlsx(summary: QuarterSummary, *, lang: Lang = "bg") -> bytes:
    """One row per goal, missing reports highlighted, totals by state below the table."""
    summary = printable(summary)  # whatever is stored: XML cannot hold control characters
    words = _WORDS[lang]
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = words["sheet"]
    sheet.append([summary_title(summary, lang)])
    sheet["A1"].font = Font(bold=True, size=13)
    for index, (heading, width) in enumerate(_COLUMNS[lang], start=1):
        write_header_cell(sheet.cell(row=_HEADER_ROW, column=index), heading)
        sheet.column_dimensions[get_column_letter(index)].width = width
    styles = DataStyles()
    numbers = range(1, len(_COLUMNS[lang]) + 1)
    for number, row in enumerate(summary.rows, start=_HEADER_ROW + 1):
        sheet.append(_row_values(row, lang))
        cells = tuple(sheet.cell(row=number, column=c) for c in numbers)  # not sheet[max_row]: a scan per row
        style_data_row(cells, styles=styles)
        if row.report_missing:
            for cell in cells:
                cell.fill = _MISSING_FILL
    last_row = max(sheet.max_row, _HEADER_ROW + 1)
    last_column = get_column_letter(len(_COLUMNS[lang]))
    sheet.freeze_panes = f"A{_HEADER_ROW + 1}"
    sheet.auto_filter.ref = f"A{_HEADER_ROW}:{last_column}{last_row}"
    sheet.append([])
    for label, count in _totals(summary, lang):
        sheet.append([None, label, count])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _row_values(row: QuarterSummaryRow, lang: Lang) -> list[str | int]:
    report = row.report_status or (_WORDS[lang]["missing"] if row.report_missing else "")
    return [
        row.number,
        row.title,
        "\n".join(unit_label(unit, lang) for unit in row.units),
        state_label(row.state, lang),
        row.indicators,
        row.risk,
        report,
    ]


def _totals(summary: QuarterSummary, lang: Lang) -> list[tuple[str, int]]:
    words = _WORDS[lang]
    states = Counter(row.state for row in summary.rows)
    return [
        (words["goals"], len(summary.rows)),
        *((state_label(state, lang), states[state]) for state in goal_states() if states.get(state)),
        (words["missing_total"], sum(row.report_missing for row in summary.rows)),
    ]
