"""The exported table, shared by every exporter: which columns, their headings, and each
goal's cell values. Headings are worded so that the importers recognise them again."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from . import layout
from .columns import (
    ACHIEVED,
    ACTIVITIES,
    BASELINE,
    EXTRA_COLUMNS,
    FINANCING_AMOUNT,
    FINANCING_SOURCE,
    GROUPS,
    INDICATOR,
    NUMBER,
    OFFICIAL_ORDER,
    PROGRESS,
    REPORT_ONLY,
    STATUS,
    STRATEGIC_DOCUMENTS,
    STRATEGIC_GOAL,
    STRATEGIC_INDICATOR,
    TARGET,
    TITLE,
    UNITS,
)
from .model import Goal, Indicator, Lang, PlanDocument, state_label
from .values import NOT_APPLICABLE_TEXT, canonical_number, format_amount, format_number, unit_label

Value = str | int | Decimal

_HEADINGS: Final[dict[str, tuple[str, str]]] = {
    NUMBER: ("Ред №", "No."),
    TITLE: ("Ежегодна цел{year}", "Annual goal{year}"),
    STRATEGIC_DOCUMENTS: ("Стратегически документ/и", "Strategic document(s)"),
    STRATEGIC_GOAL: ("Стратегическа цел", "Strategic goal"),
    STRATEGIC_INDICATOR: ("Индикатор от стратегически документ", "Strategic indicator"),
    INDICATOR: (
        "Индикатор за изпълнение на ежегодната цел (наименование)",
        "Performance indicator of the annual goal (name)",
    ),
    BASELINE: ("Текущо състояние", "Baseline (current state)"),
    TARGET: ("Целево състояние", "Target state"),
    ACHIEVED: ("Постигнато състояние", "Achieved state"),
    FINANCING_AMOUNT: ("Размер ({currency})", "Amount ({currency})"),
    FINANCING_SOURCE: ("Източник", "Source"),
    ACTIVITIES: (
        "Планирани дейности за постигане на ежегодната цел",
        "Planned activities to achieve the annual goal",
    ),
    UNITS: ("Отговорно звено", "Responsible unit"),
    STATUS: ("Статус на изпълнението", "Implementation status"),
    PROGRESS: (
        "Кратка информация за хода на изпълнение на ежегодната цел{year}",
        "Brief information on progress{year}",
    ),
}
_GROUP_HEADINGS: Final[dict[str, tuple[str, str]]] = {
    "link": (
        "Връзка на ежегодната цел със стратегически цели и документи",
        "Link of the annual goal to strategic goals and documents",
    ),
    "values": (
        "Стойности на индикатора за изпълнение на ежегодната цел",
        "Indicator values",
    ),
    "financing": ("Необходимо финансиране", "Required financing"),
}
# The page footer: "Страница 2 от 5".
PAGE_WORDS: Final[dict[str, tuple[str, str]]] = {"bg": ("Страница", "от"), "en": ("Page", "of")}
_CURRENCY_WORDS: Final[dict[str, tuple[str, str]]] = {
    "BGN": ("лв.", "BGN"),
    "EUR": ("евро", "EUR"),
}
# Relative column widths: free-text columns get the room.
_WEIGHTS: Final[dict[str, float]] = {
    NUMBER: 0.7, TITLE: 2.0, STRATEGIC_DOCUMENTS: 1.8, STRATEGIC_GOAL: 1.8,
    STRATEGIC_INDICATOR: 1.6, INDICATOR: 1.8, BASELINE: 1.2, TARGET: 1.2, ACHIEVED: 1.2,
    FINANCING_AMOUNT: 1.4, FINANCING_SOURCE: 1.0, ACTIVITIES: 2.0, UNITS: 1.0, STATUS: 1.0,
    PROGRESS: 2.4,
}  # fmt: skip


@dataclass(frozen=True)
class Column:
    field: str
    group: str | None
    heading: str  # under the group heading when grouped
    group_heading: str
    weight: float

    @property
    def full_heading(self) -> str:
        """The heading when the table has a single header row."""
        return f"{self.group_heading} – {self.heading}" if self.group else self.heading


def columns_for(document: PlanDocument, lang: Lang = "bg", extra_columns: Collection[str] = ()) -> list[Column]:
    """The 14 official columns in the official order (status and progress belong to a report
    only), and the extra columns asked for (the achieved value) in their place."""
    unknown = set(extra_columns) - EXTRA_COLUMNS
    if unknown:
        raise ValueError(f"not an extra column: {', '.join(sorted(unknown))}")
    language = 0 if lang == "bg" else 1
    year = ""
    if document.year:
        year = f" (за {document.year} г.)" if lang == "bg" else f" (for {document.year})"
    currency = _CURRENCY_WORDS.get(document.currency, (document.currency,) * 2)[language]
    columns = []
    for field in OFFICIAL_ORDER:
        if field in REPORT_ONLY and document.kind != "report":
            continue
        if field in EXTRA_COLUMNS and field not in extra_columns:
            continue
        group = next((key for key, members in GROUPS.items() if field in members), None)
        columns.append(
            Column(
                field=field,
                group=group,
                heading=_HEADINGS[field][language].format(year=year, currency=currency),
                group_heading=_GROUP_HEADINGS[group][language] if group else "",
                weight=_WEIGHTS[field],
            )
        )
    return columns


def group_spans(columns: list[Column]) -> list[tuple[int, int]]:
    """(first, last) column index of each run of columns under one group heading."""
    spans: list[tuple[int, int]] = []
    for index, column in enumerate(columns):
        if column.group and index > 0 and columns[index - 1].group == column.group:
            spans[-1] = (spans[-1][0], index)
        elif column.group:
            spans.append((index, index))
    return spans


def goal_values(goal: Goal, columns: list[Column], lang: Lang = "bg") -> list[Value]:
    """One value per column: numbers where the document has a plain number, text otherwise."""
    return [_VALUES[column.field](goal, lang) for column in columns]


def _financing(goal: Goal, lang: Lang) -> Value:
    if goal.financing_not_applicable:
        return NOT_APPLICABLE_TEXT[lang]
    return goal.financing_amount if goal.financing_amount is not None else ""


_VALUES: Final[dict[str, Callable[[Goal, Lang], Value]]] = {
    NUMBER: lambda goal, _: goal.number,
    TITLE: lambda goal, _: goal.title,
    STRATEGIC_DOCUMENTS: lambda goal, _: goal.strategic_documents,
    STRATEGIC_GOAL: lambda goal, _: goal.strategic_goal,
    STRATEGIC_INDICATOR: lambda goal, _: goal.strategic_indicator,
    INDICATOR: lambda goal, _: "\n".join(indicator.name for indicator in goal.indicators),
    BASELINE: lambda goal, _: _indicator_value(goal.indicators, BASELINE),
    TARGET: lambda goal, _: _indicator_value(goal.indicators, TARGET),
    ACHIEVED: lambda goal, _: _indicator_value(goal.indicators, ACHIEVED),
    FINANCING_AMOUNT: _financing,
    FINANCING_SOURCE: lambda goal, _: goal.financing_source,
    ACTIVITIES: lambda goal, _: "\n".join(goal.activities),
    UNITS: lambda goal, lang: units_text(goal.units, lang),
    STATUS: lambda goal, lang: goal.status_wording or state_label(goal.state, lang),
    PROGRESS: lambda goal, _: goal.progress_note,
}


_AND: Final[dict[str, str]] = {"bg": " и ", "en": " and "}


def units_text(units: list[str], lang: Lang = "bg") -> str:
    """The units in the order entered, as the form writes them: "Дирекция АКРРДС и Дирекция
    АПОФУС"; split_units reads them back."""
    labels = [unit_label(unit, lang) for unit in units]
    if len(labels) < 2:
        return "".join(labels)
    return ", ".join(labels[:-1]) + _AND[lang] + labels[-1]


def _indicator_value(indicators: list[Indicator], field: str) -> Value:
    texts = [_indicator_text(indicator, field) for indicator in indicators]
    if len(texts) == 1:
        number = canonical_number(texts[0])
        return texts[0] if number is None else number
    return "\n".join(texts)


def _indicator_text(indicator: Indicator, field: str) -> str:
    text: str = getattr(indicator, f"{field}_text")
    number: Decimal | None = getattr(indicator, field)
    if text or number is None:
        return text
    return " ".join(part for part in (format_number(number), indicator.unit) if part)


def as_text(value: Value, field: str, *, for_reading: bool = True) -> str:
    """A value as text; amounts get grouped thousands and two decimals when people read them,
    and stay plain for machines (CSV)."""
    if isinstance(value, Decimal):
        if field == FINANCING_AMOUNT and for_reading:
            return format_amount(value)
        return format_number(value)
    return str(value)


@dataclass(frozen=True)
class TableFit:
    """A table's font size and column widths (points) for a given page width."""

    size: float
    widths: list[float]


_FONT_SIZES: Final = (8.0, 7.5, 7.0, 6.5, 6.0)
_SPARE: Final = 1.06


def fit_table(
    columns: list[Column], rows: list[list[str]], usable: float, *, padding: float, sizes: tuple[float, ...] = _FONT_SIZES
) -> TableFit:
    """The largest of `sizes` at which every column is at least as wide as its longest word
    (headings in bold), the spare room shared by the columns' weights. Failing that, the
    smallest size with widths by weight alone (the longest words then hyphenate)."""
    weights = [column.weight for column in columns]
    for size in sizes:
        # A word is measured with a little room to spare: renderers' kerning and rounding differ.
        minimums = [
            max(
                layout.longest_word([column.heading], size, bold=True),
                layout.longest_word([row[index] for row in rows], size),
            )
            * _SPARE
            + padding
            for index, column in enumerate(columns)
        ]
        widths = layout.column_widths(minimums, weights, usable)
        if widths is not None:
            return TableFit(size, widths)
    total = sum(weights)
    return TableFit(sizes[-1], [usable * weight / total for weight in weights])


def table_texts(document: PlanDocument, columns: list[Column], lang: Lang = "bg") -> list[list[str]]:
    """Every data cell as the reader sees it, row by row."""
    return [
        [as_text(value, column.field) for column, value in zip(columns, goal_values(goal, columns, lang), strict=True)]
        for goal in document.goals
    ]
