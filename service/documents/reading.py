"""From the rows of any table-shaped source to a PlanDocument; the formats differ only in
how they produce the rows."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from . import limits
from .columns import (
    ACHIEVED,
    FINANCING_AMOUNT,
    PROGRESS,
    STATUS,
    Layout,
    find_header,
    is_column_numbering,
    is_goal_number,
    is_subheader,
    resolve_header,
)
from .errors import DocumentError, Text
from .model import Kind, PlanDocument
from .preamble import read_preamble
from .rows import build_goal, join_continuations

_EURO_YEAR = 2026  # Bulgaria adopted the euro on 1 January 2026


@dataclass
class RawTable:
    """Rows of cell texts, header included, and any text found before them."""

    rows: list[list[str]]
    preamble: list[str] = field(default_factory=list)
    # Cell counts carry meaning (extracted text, CSV), so short rows are repaired.
    ragged: bool = False
    # A line that does not start a numbered row continues the previous one (extracted text).
    continued_lines: bool = False


def has_header(rows: Sequence[Sequence[str]]) -> bool:
    return find_header(rows) is not None


def build_document(table: RawTable) -> PlanDocument:
    header_at = find_header(table.rows)
    if header_at is None:
        raise DocumentError("not_a_table")
    top = table.rows[header_at]
    body_at = header_at + 1
    sub: list[str] = []
    if body_at < len(table.rows) and is_subheader(table.rows[body_at]):
        sub = table.rows[body_at]
        body_at += 1
    if body_at < len(table.rows) and is_column_numbering(table.rows[body_at]):
        body_at += 1
    body = table.rows[body_at:]

    layout, warnings = resolve_header(top, sub, _data_width(body))
    if table.continued_lines:
        body = join_continuations(body, layout.width)
    body = [row for row in body if any(cell.strip() for cell in row)]
    if not body:
        raise DocumentError("empty")
    limits.check_rows(len(body))

    above = table.preamble + [" ".join(c.strip() for c in row if c.strip()) for row in table.rows[:header_at]]
    preamble = read_preamble(above, [*top, *sub])
    kind: Kind = preamble.kind or ("report" if any(map(layout.has, (STATUS, PROGRESS, ACHIEVED))) else "plan")
    if not layout.has(STATUS) and kind == "report":
        warnings.append(Text("Отчетът няма колона за статус.", "The report has no status column."))
    return PlanDocument(
        kind=kind,
        administration=preamble.administration,
        year=preamble.year,
        currency=_currency(layout, preamble.year),
        governor_name=preamble.governor_name,
        approved_on=preamble.approved_on,
        amended_on=preamble.amended_on,
        goals=[
            _timed(build_goal(position, row, layout, kind, ragged=table.ragged))
            for position, row in enumerate(body, start=1)
        ],
        warnings=warnings,
    )


def _timed(goal):
    limits.check_time()
    return goal


def _data_width(body: Sequence[Sequence[str]]) -> int:
    """The usual cell count of a data row, for a header that lost the span of its groups."""
    numbered = [len(row) for row in body if row and is_goal_number(row[0])]
    widths = numbered or [len(row) for row in body if any(cell.strip() for cell in row)]
    if not widths:
        return 0
    counts = Counter(widths)
    return max(widths, key=lambda width: (counts[width], width))


def _currency(layout: Layout, year: int | None) -> str:
    """As the amount's heading says; otherwise leva before the euro and euro since."""
    index = layout.index(FINANCING_AMOUNT)
    heading = layout.headings[index].lower() if index is not None else ""
    if re.search(r"евро|\beur\b|€", heading):
        return "EUR"
    if re.search(r"\bлв\b|\bлева\b|\bbgn\b", heading):
        return "BGN"
    return "EUR" if year and year >= _EURO_YEAR else "BGN"
