"""The columns of the official goals table: what they are called, and how a header is read.

Importers never rely on column positions: a header is found and each column recognised by
what its heading means, in Bulgarian or English, across a one- or two-row header.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from .errors import Text

NUMBER = "number"
TITLE = "title"
STRATEGIC_DOCUMENTS = "strategic_documents"
STRATEGIC_GOAL = "strategic_goal"
STRATEGIC_INDICATOR = "strategic_indicator"
INDICATOR = "indicator"
BASELINE = "baseline"
TARGET = "target"
ACHIEVED = "achieved"
FINANCING_AMOUNT = "financing_amount"
FINANCING_SOURCE = "financing_source"
ACTIVITIES = "activities"
UNITS = "units"
STATUS = "status"
PROGRESS = "progress_note"

# The order of the official document.
OFFICIAL_ORDER: Final[tuple[str, ...]] = (
    NUMBER, TITLE, STRATEGIC_DOCUMENTS, STRATEGIC_GOAL, STRATEGIC_INDICATOR, INDICATOR,
    BASELINE, TARGET, ACHIEVED, FINANCING_AMOUNT, FINANCING_SOURCE, ACTIVITIES, UNITS,
    STATUS, PROGRESS,
)  # fmt: skip
REPORT_ONLY: Final[frozenset[str]] = frozenset({ACHIEVED, STATUS, PROGRESS})
# The official form has 14 columns; these are in the model and the importers but are printed
# only when an export asks for them (the achieved values are told in the progress column).
EXTRA_COLUMNS: Final[frozenset[str]] = frozenset({ACHIEVED})

# Headings that span several columns; their columns are told apart by a second header row
# or, failing that, by position within the group.
GROUPS: Final[dict[str, tuple[str, ...]]] = {
    "link": (STRATEGIC_DOCUMENTS, STRATEGIC_GOAL, STRATEGIC_INDICATOR),
    "values": (BASELINE, TARGET, ACHIEVED),
    "financing": (FINANCING_AMOUNT, FINANCING_SOURCE),
}
# Extracted text keeps a group heading in one cell although it covers several columns;
# this is how many it covers then (the indicator values of a plan: baseline and target).
_COMPRESSED_SPAN: Final[dict[str, int]] = {"link": 3, "values": 2, "financing": 2}

# Checked in this order: several headings mention "ежегодната цел" or "изпълнение", so the
# specific ones come before the general ones.
_RULES: Final[tuple[tuple[str, tuple[str, ...]], ...]] = (
    (PROGRESS, (r"кратка информация", r"\bход(?:а)? на изпълнени", r"\bprogress\b")),
    (STATUS, (r"\bстатус", r"\bstatus\b")),
    (ACTIVITIES, (r"\bдейности", r"\bactivit")),
    (UNITS, (r"\bзвен", r"\bresponsible\b", r"\bunits?\b")),
    (STRATEGIC_INDICATOR, (r"индикатор\w* от стратегическ", r"\bинициатор", r"\bstrategic indicator")),
    (STRATEGIC_DOCUMENTS, (r"стратегически документ", r"\bstrategic documents?")),
    (STRATEGIC_GOAL, (r"стратегическа цел", r"\bstrategic (?:goal|objective)\b")),
    (BASELINE, (r"\bтекущ", r"\bcurrent\b", r"\bbaseline\b")),
    (TARGET, (r"\bцелев", r"\btarget\b")),
    (ACHIEVED, (r"\bпостигнат", r"\bфактическ", r"\bachieved\b", r"\bactual\b")),
    (FINANCING_SOURCE, (r"\bизточник", r"\bsource\b")),
    (FINANCING_AMOUNT, (r"\bразмер\b", r"\bсума\b", r"\bamount\b")),
    ("values", (r"\bстойност", r"\bvalues?\b")),
    ("financing", (r"\bфинансиране", r"\bfinancing\b", r"\bfunding\b")),
    (INDICATOR, (r"\bиндикатор", r"\bindicator")),
    ("link", (r"\bвръзка\b", r"\blink\b")),
    (TITLE, (r"ежегодна(?:та)? цел", r"\bцел\b", r"\bgoal\b", r"\btitle\b")),
    (NUMBER, (r"\bред\b", r"№", r"^no\.?$", r"\bnumber\b", r"^#$", r"^nr\.?$")),
)  # fmt: skip
_COMPILED: Final = tuple((key, re.compile("|".join(patterns), re.IGNORECASE)) for key, patterns in _RULES)

_MAX_HEADING_CHARS = 150  # longer cells are data, never headings
_HEADER_SEARCH_ROWS = 60


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def classify(text: str) -> str | None:
    """The field (or group) a heading names, or None."""
    text = normalise(text)
    if not text or len(text) > _MAX_HEADING_CHARS:
        return None
    return next((key for key, rule in _COMPILED if rule.search(text)), None)


def _as_field(key: str | None) -> str | None:
    """A group heading standing alone names the group's first column."""
    return GROUPS[key][0] if key in GROUPS else key


def _keys(row: Sequence[str]) -> set[str]:
    return {key for cell in row if (key := classify(cell))}


def find_header(rows: Sequence[Sequence[str]]) -> int | None:
    """Index of the first row that reads as the table header: it names the goal and at
    least two other columns."""
    for index, row in enumerate(rows[:_HEADER_SEARCH_ROWS]):
        keys = _keys(row)
        if TITLE in keys and len(keys) >= 3:
            return index
    return None


def is_goal_number(text: str) -> bool:
    return re.fullmatch(r"\d{1,4}\s*[.)]?", text.strip()) is not None


def is_subheader(row: Sequence[str]) -> bool:
    """A second header row: short headings, and no goal number where a data row has one."""
    cells = [cell for cell in row if cell.strip()]
    return (
        bool(cells)
        and not is_goal_number(cells[0])
        and all(len(cell) <= _MAX_HEADING_CHARS for cell in cells)
        and bool(_keys(cells))
    )


def is_column_numbering(row: Sequence[str]) -> bool:
    """Official templates often number the columns 1, 2, 3 ... under the header."""
    cells = [cell.strip() for cell in row if cell.strip()]
    return len(cells) >= 3 and cells == [str(n) for n in range(1, len(cells) + 1)]


@dataclass(frozen=True)
class Layout:
    """What each column holds; None for a column the table has but the model does not."""

    fields: tuple[str | None, ...]
    headings: tuple[str, ...]

    @property
    def width(self) -> int:
        return len(self.fields)

    def index(self, name: str) -> int | None:
        return self.fields.index(name) if name in self.fields else None

    def has(self, name: str) -> bool:
        return name in self.fields


def resolve_header(top: Sequence[str], sub: Sequence[str], data_width: int) -> tuple[Layout, list[Text]]:
    """Read a one- or two-row header (`sub` may be empty) into a Layout, with warnings."""
    width = max(len(top), len(sub))
    top_row = [cell.strip() for cell in top] + [""] * (width - len(top))
    sub_row = [cell.strip() for cell in sub] + [""] * (width - len(sub))
    warnings = _expand_compressed_groups(top_row, sub_row, data_width)
    used = _used_width(top_row, sub_row)
    top_row, sub_row = top_row[:used], sub_row[:used]
    fields = _assign_fields(top_row, sub_row)
    headings = tuple(
        " ".join(dict.fromkeys(t for t in pair if t)) for pair in zip(top_row, sub_row, strict=True)
    )
    warnings += _drop_repeats_and_note_unknown(fields, headings)
    return Layout(tuple(fields), headings), warnings


def _used_width(top: list[str], sub: list[str]) -> int:
    filled = [i for i, (t, s) in enumerate(zip(top, sub, strict=True)) if t or s]
    return filled[-1] + 1 if filled else 0


def _expand_compressed_groups(top: list[str], sub: list[str], data_width: int) -> list[Text]:
    """Widen group headings that lost their merge, while the header is narrower than the data."""
    warnings: list[Text] = []
    deficit = data_width - _used_width(top, sub)
    index = 0
    while deficit > 0 and index < len(top):
        key = classify(top[index])
        if key in GROUPS and _is_compressed(top, sub, index, key):
            extra = min(deficit, _COMPRESSED_SPAN[key] - 1)
            top[index + 1 : index + 1] = [top[index]] * extra
            sub[index + 1 : index + 1] = [""] * extra
            deficit -= extra
            warnings.append(
                Text(
                    f"Заглавието „{top[index]}“ е разпределено по позиция на {extra + 1} колони.",
                    f"The heading “{top[index]}” was spread over {extra + 1} columns by position.",
                )
            )
            index += extra
        index += 1
    return warnings


def _is_compressed(top: list[str], sub: list[str], index: int, group: str) -> bool:
    followed_by_own_cell = index + 1 >= len(top) or top[index + 1] not in ("", top[index])
    named_elsewhere = bool(set(GROUPS[group]) & _keys(top + sub))
    return not sub[index] and followed_by_own_cell and not named_elsewhere


def _assign_fields(top: list[str], sub: list[str]) -> list[str | None]:
    """A second-row heading wins; otherwise a column under a group heading takes the group's
    member at its position; otherwise the top heading names the column."""
    fields: list[str | None] = []
    group: str | None = None
    group_start = 0
    own: str | None = None
    for index, (heading, subheading) in enumerate(zip(top, sub, strict=True)):
        repeated = index > 0 and heading == top[index - 1]  # a merged cell, read once per column
        if heading and not repeated:
            key = classify(heading)
            group, group_start = (key, index) if key in GROUPS else (None, index)
            own = None if key in GROUPS else key
        elif not heading and group is None:
            own = None
        # The same text below is the heading's own cell merged down, not a sub-heading.
        field = _as_field(classify(subheading)) if subheading and subheading != heading else None
        if field is None:
            field = _member(group, index - group_start) if group else own
        fields.append(field)
    return fields


def _member(group: str, position: int) -> str | None:
    members = GROUPS[group]
    return members[position] if position < len(members) else None


def _drop_repeats_and_note_unknown(fields: list[str | None], headings: tuple[str, ...]) -> list[Text]:
    """A field is read from its first column only; other columns are only kept as source cells."""
    warnings: list[Text] = []
    seen: set[str] = set()
    for index, field in enumerate(fields):
        if field is not None and field not in seen:
            seen.add(field)
            continue
        fields[index] = None
        if headings[index]:
            warnings.append(_ignored_column(headings[index], repeated=field is not None))
    return warnings


def _ignored_column(heading: str, *, repeated: bool) -> Text:
    if repeated:
        reason_bg, reason_en = "повтаря друга колона", "repeats another column"
    else:
        reason_bg, reason_en = "не е разпозната", "was not recognised"
    return Text(
        f"Колоната „{heading}“ {reason_bg}; клетките ѝ са запазени само като изходни клетки.",
        f"Column “{heading}” {reason_en}; its cells are kept only as source cells.",
    )
