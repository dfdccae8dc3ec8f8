"""The goals table as PDF, rendered from HTML by WeasyPrint with nothing fetched from outside."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Collection
from concurrent.futures import ProcessPoolExecutor
from decimal import Decimal
from html import escape
from typing import Final

from service.kernel.text import printable

from .columns import FINANCING_AMOUNT
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

# Times New Roman as in the Word export (fontconfig gives the metric-compatible Liberation
# Serif where it is missing), so that the same column widths hold.
_CSS: Final = """
@page {
  size: A4 landscape;
  margin: 12mm 10mm 14mm 10mm;
  @bottom-center {
    content: "%(page)s " counter(page) " %(of)s " counter(pages);
    font: 8pt "Times New Roman", "Liberation Serif", serif;
  }
}
body { font-family: "Times New Roman", "Liberation Serif", serif; font-size: %(size)spt; }
.approval { width: 70mm; margin-left: auto; font-size: 10pt; }
.approval p { margin: 0; }
.approval .strong { font-weight: bold; }
h1 { text-align: center; font-size: 11pt; margin: 4mm 0; }
.amended { text-align: center; font-size: 9pt; margin: -2mm 0 3mm; }
table { width: 100%%; border-collapse: collapse; table-layout: fixed; }
thead { display: table-header-group; }
th, td { border: 0.5pt solid #000; padding: 1.5pt %(padding)spt; vertical-align: top;
         overflow-wrap: break-word; hyphens: auto; }
th { background: #e8e8e8; text-align: center; vertical-align: middle; }
/* An amount never breaks inside the number ("146 305,48" stays on one line). */
td.amount { white-space: nowrap; overflow-wrap: normal; hyphens: manual; text-align: right; }
"""


_USABLE_WIDTH: Final = (297 - 20) / 25.4 * 72  # points between the page's side margins
_PADDING: Final = 2.0  # points on each side of a cell's text


def export_pdf(document: PlanDocument, *, lang: Lang = "bg", extra_columns: Collection[str] = (),
               pdf_variant: str | None = None) -> bytes:
    """A4 landscape, table header repeated on every page, "Страница N от M" at the foot.

    Laid out in a short-lived child process: WeasyPrint's layout of a large plan takes hundreds
    of megabytes, which a long-lived web or worker process would keep after the PDF is sent; the
    child gives them back to the system when it ends. A process that may not have children (a
    daemonic pool process) lays it out itself.

    `pdf_variant`: WeasyPrint's, e.g. "pdf/a-3b" for the copy that is signed and archived."""
    document = printable(document)  # whatever is stored: XML cannot hold control characters
    html = _html(document, lang, columns_for(document, lang, extra_columns))
    args = (html,) if pdf_variant is None else (html, pdf_variant)
    if _may_not_fork():
        return _layout(*args)
    with ProcessPoolExecutor(
        max_workers=1, mp_context=multiprocessing.get_context("fork"), initializer=_in_child
    ) as child:
        return child.submit(_layout, *args).result()


def _may_not_fork() -> bool:
    """A daemonic process (a multiprocessing or a Celery pool process) may not have children."""
    if multiprocessing.current_process().daemon:
        return True
    try:
        from billiard import current_process  # Celery's pool processes are billiard's
    except ImportError:
        return False
    return bool(current_process().daemon)


# What the layout's child process runs first. The document layer knows nothing of the
# process that forked it: the service adds what its inherited resources need (the child must
# leave the parent's database connections alone).
CHILD_SETUP: list[Callable[[], None]] = []


def _in_child() -> None:
    for setup in CHILD_SETUP:
        setup()


def _layout(html: str, pdf_variant: str | None = None) -> bytes:
    # An empty protocol list refuses every URL: the document embeds no external resources.
    # Imported here: WeasyPrint takes a while to import and some 30 MB, which every web and
    # worker process would otherwise pay for a PDF few of them ever render.
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    fetcher = URLFetcher(allowed_protocols=())
    return HTML(string=html, url_fetcher=fetcher).write_pdf(pdf_variant=pdf_variant)


def _html(document: PlanDocument, lang: Lang, columns: list[Column]) -> str:
    page, of = PAGE_WORDS[lang]
    # Less the borders' half points, so that the widths add up to the table's.
    fit = fit_table(
        columns, table_texts(document, columns, lang), _USABLE_WIDTH - len(columns), padding=2 * _PADDING + 1
    )
    approval = "".join(
        f'<p class="{"strong" if bold else ""}">{escape(line)}</p>'
        for line, bold in approval_lines(document, lang)
    )
    amended = amendment_line(document, lang)
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
        f"<title>{escape(document_title(document, lang))}</title>"
        f"<style>{_CSS % {'page': page, 'of': of, 'size': fit.size, 'padding': _PADDING}}</style></head><body>"
        f'<div class="approval">{approval}</div>'
        f"<h1>{escape(document_title(document, lang))}</h1>"
        f"{f'<p class=amended>{escape(amended)}</p>' if amended else ''}"
        f"<table>{_colgroup(fit.widths)}{_thead(columns)}{_tbody(document, columns, lang)}</table>"
        "</body></html>"
    )


def _colgroup(widths: list[float]) -> str:
    total = sum(widths)
    return "<colgroup>" + "".join(f'<col style="width:{100 * w / total:.2f}%">' for w in widths) + "</colgroup>"


def _thead(columns: list[Column]) -> str:
    """Two rows: groups span their columns, every other heading spans both rows."""
    spans = dict(group_spans(columns))
    top, sub = [], []
    for index, column in enumerate(columns):
        if column.group is None:
            top.append(f'<th rowspan="2">{escape(column.heading)}</th>')
            continue
        if index in spans:
            top.append(f'<th colspan="{spans[index] - index + 1}">{escape(column.group_heading)}</th>')
        sub.append(f"<th>{escape(column.heading)}</th>")
    return f"<thead><tr>{''.join(top)}</tr><tr>{''.join(sub)}</tr></thead>"


def _tbody(document: PlanDocument, columns: list[Column], lang: Lang) -> str:
    rows = []
    for goal in document.goals:
        values = goal_values(goal, columns, lang)
        cells = (
            _cell(as_text(value, column.field), amount=column.field == FINANCING_AMOUNT and isinstance(value, Decimal))
            for column, value in zip(columns, values, strict=True)
        )
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return f"<tbody>{''.join(rows)}</tbody>"


def _cell(text: str, *, amount: bool = False) -> str:
    opening = '<td class="amount">' if amount else "<td>"
    return f"{opening}{escape(text).replace(chr(10), '<br>')}</td>"
