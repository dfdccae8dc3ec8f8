"""The text above the table: the governor's approval block and the document title.

Read from whatever an importer found before the table (paragraphs, rows, extracted lines),
and written by the exporters in the same words, so a document survives a round trip.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Final

from .model import Kind, Lang, PlanDocument

_REPORT_RE = re.compile(r"\bотч[её]т\b|\breport\b", re.IGNORECASE)
_PLAN_RE = re.compile(r"\bцели на\b|^\s*цели\b|\bgoals of\b|^\s*goals\b", re.IGNORECASE | re.MULTILINE)
_YEAR_RE = re.compile(r"\b(?:за|for)\s+(20\d\d)\b", re.IGNORECASE)
_ADMINISTRATION_IN_TITLE_RE = re.compile(
    r"\b(?:целите на|цели на|goals of)\s+(.+?)\s+(?:за|for)\s+20\d\d\b", re.IGNORECASE
)
_ADMINISTRATION_LINE_RE = re.compile(
    r"\b((?:областна администрация|regional administration)\b.*?)(?:\s+(?:за|for)\s+20\d\d\b.*)?$",
    re.IGNORECASE,
)
_AMENDED_RE = re.compile(r"(?:актуализиран|amended)\s+(?:на|on)\s+\d{1,2}\.\d{1,2}\.\d{4}", re.IGNORECASE)
_APPROVE_RE = re.compile(r"УТВЪРЖДАВАМ|APPROVED", re.IGNORECASE)
_GOVERNOR_RE = re.compile(r"ОБЛАСТЕН\s+УПРАВИТЕЛ|REGIONAL\s+GOVERNOR", re.IGNORECASE)
_DATE_RE = re.compile(r"\b(\d{1,2})\.(\d{1,2})\.(\d{4})\b")
_NAME_RE = re.compile(r"[^\W\d_]{2,}(?:[\s.\-]+[^\W\d_]+){0,4}\.?")

_APPROVAL_WORDS: Final[dict[str, tuple[str, str]]] = {
    "bg": ("УТВЪРЖДАВАМ:", "ОБЛАСТЕН УПРАВИТЕЛ"),
    "en": ("APPROVED:", "REGIONAL GOVERNOR"),
}
_BLANK_NAME = "…………………………"  # left for a signature when no name is known


@dataclass(frozen=True)
class Preamble:
    kind: Kind | None
    year: int | None
    administration: str
    governor_name: str
    approved_on: date | None
    amended_on: date | None = None


def read_preamble(lines: Sequence[str], header_cells: Sequence[str] = ()) -> Preamble:
    """Kind, year, administration and approval found in the text before the table; the
    header is a fallback for the year ("Ежегодна цел (за 2023 г.)")."""
    text = "\n".join(line.strip() for line in lines if line.strip())
    kind: Kind | None = "report" if _REPORT_RE.search(text) else "plan" if _PLAN_RE.search(text) else None
    year = _find_year(text) or _find_year("\n".join(header_cells))
    governor_name, approved_on = _read_approval(text)
    amended = _AMENDED_RE.search(text)
    amended_on = _find_date(amended[0]) if amended else None
    return Preamble(kind, year, _find_administration(text), governor_name, approved_on, amended_on)


def _find_year(text: str) -> int | None:
    match = _YEAR_RE.search(text)
    return int(match[1]) if match else None


def _find_administration(text: str) -> str:
    if match := _ADMINISTRATION_IN_TITLE_RE.search(text):
        return match[1].strip()
    for line in text.splitlines():
        if match := _ADMINISTRATION_LINE_RE.search(line):
            return match[1].strip()
    return ""


def _read_approval(text: str) -> tuple[str, date | None]:
    """The name between "УТВЪРЖДАВАМ" and "ОБЛАСТЕН УПРАВИТЕЛ" (or on the line after it) and
    the first date below "УТВЪРЖДАВАМ". OCR leftovers such as "ти" or "05" are neither."""
    approve = _APPROVE_RE.search(text)
    if not approve:
        return "", None
    block = text[approve.end() :]
    title = _REPORT_RE.search(block) or _PLAN_RE.search(block)
    block = block[: title.start()] if title else block
    name = ""
    if governor := _GOVERNOR_RE.search(block):
        name = _as_name(block[: governor.start()])
        following = block[governor.end() :].splitlines()[1:2]
        name = name or (_as_name(following[0]) if following else "")
    return name, _find_date(block)


def _as_name(text: str) -> str:
    candidate = text.strip(" \t\n:,;-_.…")
    return candidate if _NAME_RE.fullmatch(candidate) else ""


def _find_date(text: str) -> date | None:
    for match in _DATE_RE.finditer(text):
        try:
            return date(int(match[3]), int(match[2]), int(match[1]))
        except ValueError:
            continue
    return None


_TITLES: Final[dict[tuple[str, str], tuple[str, str]]] = {
    # (with the administration's name, without it)
    ("bg", "plan"): ("Цели на {name}", "Цели"),
    ("bg", "report"): ("Отчет за изпълнението на целите на {name}", "Отчет за изпълнението на целите"),
    ("en", "plan"): ("Goals of {name}", "Goals"),
    ("en", "report"): (
        "Report on the implementation of the goals of {name}",
        "Report on the implementation of the goals",
    ),
}
_YEAR_SUFFIX: Final[dict[str, str]] = {"bg": " за {year} г.", "en": " for {year}"}


def document_title(document: PlanDocument, lang: Lang = "bg") -> str:
    """The title line: "Цели на <администрация> за YYYY г." for a plan, "Отчет за
    изпълнението на целите на <администрация> за YYYY г." for a report."""
    named, unnamed = _TITLES[(lang, document.kind)]
    name = document.administration.strip()
    title = named.format(name=name) if name else unnamed
    return title + (_YEAR_SUFFIX[lang].format(year=document.year) if document.year else "")


_AMENDED_WORDS: Final[dict[str, str]] = {"bg": "Актуализиран на {day}", "en": "Amended on {day}"}


def amendment_line(document: PlanDocument, lang: Lang = "bg") -> str:
    """Under the title of an amended plan (and of its report): "Актуализиран на 15.06.2023 г."."""
    if document.amended_on is None:
        return ""
    return _AMENDED_WORDS[lang].format(day=format_date(document.amended_on, lang))


def format_date(value: date, lang: Lang = "bg") -> str:
    text = value.strftime("%d.%m.%Y")
    return f"{text} г." if lang == "bg" else text


def approval_lines(document: PlanDocument, lang: Lang = "bg") -> list[tuple[str, bool]]:
    """The approval block as (line, bold): the verb, the name, the office, the date."""
    approve, office = _APPROVAL_WORDS[lang]
    lines = [(approve, True), (document.governor_name or _BLANK_NAME, False), (office, True)]
    if document.approved_on:
        lines.append((format_date(document.approved_on, lang), False))
    return lines
