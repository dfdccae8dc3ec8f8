"""From the cells of one table row to a Goal, whatever format the row came from.

Nothing is dropped: a row that does not fit the header is repaired where the damage is a
known one, and otherwise imported as well as possible, with a warning, marked for review
and with its original cells kept.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from .columns import (
    ACHIEVED,
    ACTIVITIES,
    BASELINE,
    FINANCING_AMOUNT,
    FINANCING_SOURCE,
    INDICATOR,
    NUMBER,
    PROGRESS,
    STATUS,
    STRATEGIC_DOCUMENTS,
    STRATEGIC_GOAL,
    STRATEGIC_INDICATOR,
    TARGET,
    TITLE,
    UNITS,
    Layout,
    is_goal_number,
)
from .errors import Text
from .model import Goal, Indicator, Kind, status_to_state
from .values import NOT_APPLICABLE_WORDS, parse_amount, parse_quantity, split_list, split_units

_MERGED_NOT_APPLICABLE_RE = re.compile(
    r"(.*\S)\s+(" + "|".join(map(re.escape, sorted(NOT_APPLICABLE_WORDS, key=len, reverse=True))) + r")\.?",
    re.IGNORECASE | re.DOTALL,
)


def join_continuations(lines: Sequence[Sequence[str]], width: int) -> list[list[str]]:
    """Extracted text splits long rows over several lines: a line that does not start a
    numbered row continues the previous one (its first fragment ends the previous row's last
    cell, the rest are further cells). Blank lines carry nothing."""
    rows: list[list[str]] = []
    for cells in lines:
        if not any(cell.strip() for cell in cells):
            continue
        if not rows or _starts_row(cells) or _is_own_row(cells, rows[-1], width):
            rows.append(list(cells))
            continue
        last = rows[-1]
        last[-1] = " ".join(part for part in (last[-1].rstrip(), cells[0].strip()) if part)
        last.extend(cells[1:])
    return rows


def _starts_row(cells: Sequence[str]) -> bool:
    return len(cells) > 1 and is_goal_number(cells[0])


def _is_own_row(cells: Sequence[str], previous: Sequence[str], width: int) -> bool:
    """A full-width line after a full-width row is a row that lost its number, not a tail."""
    return len(cells) >= width - 1 and len(previous) >= width - 1


def fit_row(cells: Sequence[str], layout: Layout, *, ragged: bool) -> tuple[list[str], list[Text]]:
    """The row's cells aligned to the layout, and what had to be done to align them.

    `ragged` rows (extracted text, CSV) may miss cells; grid rows (DOCX, XLSX) may only end
    early because their last cells are empty."""
    fitted = [cell.strip() for cell in cells]
    notes: list[Text] = []
    if ragged and len(fitted) == layout.width - 1:
        notes += _restore_strategic_indicator(fitted, layout)
    notes += _split_merged_financing(fitted, layout)
    while len(fitted) > layout.width and not fitted[-1]:
        fitted.pop()
    if len(fitted) > layout.width:
        notes.append(
            Text(
                f"Редът има {len(fitted)} клетки, а таблицата {layout.width}; излишните са запазени в изходните клетки.",
                f"The row has {len(fitted)} cells, the table {layout.width}; the extra ones are kept with the source cells.",
            )
        )
    elif len(fitted) < layout.width and ragged:
        notes.append(
            Text(
                f"Редът има {len(fitted)} клетки, а таблицата {layout.width}; липсващите са оставени празни.",
                f"The row has {len(fitted)} cells, the table {layout.width}; the missing ones are left empty.",
            )
        )
    fitted += [""] * (layout.width - len(fitted))
    return fitted[: layout.width], notes


def _restore_strategic_indicator(cells: list[str], layout: Layout) -> list[Text]:
    """One cell short: the known damage is a missing strategic indicator, so the cell in its
    place is the goal's own indicator."""
    index = layout.index(STRATEGIC_INDICATOR)
    if index is None or not layout.has(INDICATOR):
        return []
    cells.insert(index, "")
    return [
        Text(
            "Липсва клетка: индикаторът от стратегически документ е приет за липсващ, а следващата клетка за индикатор на целта.",
            "A cell is missing: the strategic indicator is taken as absent and the next cell as the goal's indicator.",
        )
    ]


def _split_merged_financing(cells: list[str], layout: Layout) -> list[Text]:
    """In "1 неприложимо" the value before the financing column swallowed the financing cell."""
    index = layout.index(FINANCING_AMOUNT)
    if not index or index >= len(cells) or parse_amount(cells[index]).valid:
        return []
    merged = _MERGED_NOT_APPLICABLE_RE.fullmatch(cells[index - 1])
    if not merged:
        return []
    cells[index - 1 : index] = [merged[1], merged[2]]
    return [
        Text(
            f"Клетката „{merged[0]}“ е разделена на стойност „{merged[1]}“ и финансиране „{merged[2]}“.",
            f"The cell “{merged[0]}” was split into the value “{merged[1]}” and the financing “{merged[2]}”.",
        )
    ]


def build_goal(position: int, cells: Sequence[str], layout: Layout, kind: Kind, *, ragged: bool) -> Goal:
    """The goal in one table row; `position` (1-based) numbers a goal that has no number."""
    fitted, notes = fit_row(cells, layout, ragged=ragged)

    def cell(field: str) -> str:
        index = layout.index(field)
        return fitted[index] if index is not None else ""

    number = _number(cell(NUMBER), position, notes)
    if not cell(TITLE):
        notes.append(Text("Целта няма наименование.", "The goal has no title."))
    amount = parse_amount(cell(FINANCING_AMOUNT))
    if not amount.valid:
        notes.append(
            Text(
                f"Финансирането „{cell(FINANCING_AMOUNT)}“ не е число.",
                f"The financing “{cell(FINANCING_AMOUNT)}” is not a number.",
            )
        )
    state = _state(cell(STATUS), layout.has(STATUS), kind, notes)
    return Goal(
        number=number,
        title=cell(TITLE),
        strategic_documents=cell(STRATEGIC_DOCUMENTS),
        strategic_goal=cell(STRATEGIC_GOAL),
        strategic_indicator=cell(STRATEGIC_INDICATOR),
        indicators=_indicators(cell),
        financing_amount=amount.value,
        financing_not_applicable=amount.not_applicable,
        financing_source=cell(FINANCING_SOURCE),
        activities=split_list(cell(ACTIVITIES)),
        units=split_units(cell(UNITS)),
        status_wording=cell(STATUS),
        state=state,
        progress_note=cell(PROGRESS),
        warnings=notes,
        needs_review=bool(notes),
        source_cells=list(cells),
    )


def _number(text: str, position: int, notes: list[Text]) -> int:
    if is_goal_number(text):
        return int(re.sub(r"\D", "", text))
    notes.append(
        Text(
            f"Целта няма пореден номер („{text}“); дадено ѝ е № {position} по място в таблицата.",
            f"The goal has no number (“{text}”); it was given No. {position} by its place in the table.",
        )
    )
    return position


def _indicators(cell: Callable[[str], str]) -> list[Indicator]:
    """The indicator cells as one Indicator; several indicators written in one cell stay
    together in its wording."""
    name, baseline_text, target_text, achieved_text = (
        cell(f) for f in (INDICATOR, BASELINE, TARGET, ACHIEVED)
    )
    if not any((name, baseline_text, target_text, achieved_text)):
        return []
    baseline, baseline_unit = parse_quantity(baseline_text)
    target, target_unit = parse_quantity(target_text)
    achieved, achieved_unit = parse_quantity(achieved_text)
    return [
        Indicator(
            name=name,
            unit=target_unit or baseline_unit or achieved_unit,
            baseline=baseline,
            baseline_text=baseline_text,
            target=target,
            target_text=target_text,
            achieved=achieved,
            achieved_text=achieved_text,
        )
    ]


def _state(wording: str, has_status: bool, kind: Kind, notes: list[Text]) -> str | None:
    """A plan's goals are planned unless said otherwise; a report must say."""
    if not wording:
        if kind == "plan":
            return "planned"
        if has_status:
            notes.append(Text("Липсва статус на изпълнението.", "The status is missing."))
        return None
    state = status_to_state(wording)
    if state is None:
        notes.append(
            Text(
                f"Непознат статус „{wording}“; изберете състояние ръчно.",
                f"Unknown status “{wording}”; choose the state by hand.",
            )
        )
    return state
