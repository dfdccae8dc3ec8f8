"""The goals table as CSV: one header row with the full column names, UTF-8 with a BOM so
that Excel opens the Cyrillic text correctly."""

from __future__ import annotations

import csv
import io
from collections.abc import Collection

from service.kernel.text import printable

from .model import Lang, PlanDocument
from .rendering import as_text, columns_for, goal_values
from .values import protect_formula


def export_csv(
    document: PlanDocument, *, lang: Lang = "bg", delimiter: str = ";", extra_columns: Collection[str] = ()
) -> bytes:
    """ ";" by default: the list separator of Excel in Bulgarian, and amounts written with a
    decimal comma then need no quoting."""
    document = printable(document)  # a file for people and spreadsheets: no control characters
    columns = columns_for(document, lang, extra_columns)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow([column.full_heading for column in columns])
    for goal in document.goals:
        values = goal_values(goal, columns, lang)
        writer.writerow(
            [
                protect_formula(as_text(value, column.field, for_reading=False))
                for column, value in zip(columns, values, strict=True)
            ]
        )
    return buffer.getvalue().encode("utf-8-sig")
