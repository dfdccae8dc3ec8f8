"""Reading and writing single cell values: numbers, amounts, units, lists.

Bulgarian documents write "146 305,48": a decimal comma and spaces (often no-break spaces)
between thousands. Everything here is shared by all importers and exporters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from .model import Lang

_SPACES = "[ \u00a0\u202f]"
_NUMBER_RE = re.compile(
    rf"""
    (?P<sign>[-+\u2212]?)
    (?P<whole>\d{{1,3}}(?:{_SPACES}\d{{3}})+|\d+)
    (?:[.,](?P<frac>\d+))?
    (?:{_SPACES}*(?P<unit>[^\W\d_]{{1,10}}\.?|%|€))?
    """,
    re.VERBOSE,
)

NOT_APPLICABLE_WORDS: Final[frozenset[str]] = frozenset(
    {"неприложимо", "не е приложимо", "неприложим", "n/a", "not applicable"}
)
_CURRENCY_UNITS: Final[frozenset[str]] = frozenset({"лв", "лв.", "bgn", "eur", "евро", "€"})

NOT_APPLICABLE_TEXT: Final[dict[str, str]] = {"bg": "неприложимо", "en": "not applicable"}

# The two directorates of every regional administration, by code and full name.
DIRECTORATES: Final[dict[str, str]] = {
    "АПОФУС": "Административно-правно обслужване, финанси и управление на собствеността",
    "АКРРДС": "Административен контрол, регионално развитие и държавна собственост",
}
_DIRECTORATE_WORD: Final[dict[str, str]] = {"bg": "Дирекция", "en": "Directorate"}


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def is_not_applicable(text: str) -> bool:
    return _squash(text).rstrip(".") in NOT_APPLICABLE_WORDS


def parse_quantity(text: str) -> tuple[Decimal | None, str]:
    """A cell that is one number with an optional unit ("2 бр", "1,5", "146 305,48 лв.")
    gives (number, unit); any other wording gives (None, "")."""
    match = _NUMBER_RE.fullmatch(text.strip())
    if not match or (match["unit"] and is_not_applicable(match["unit"])):
        return None, ""
    sign = "-" if match["sign"] in ("-", "\u2212") else ""
    whole = re.sub(_SPACES, "", match["whole"])
    frac = f".{match['frac']}" if match["frac"] else ""
    number = Decimal(f"{sign}{whole}{frac}")  # the pattern lets only digits through
    return number, (match["unit"] or "").rstrip(".")


def format_number(value: Decimal, *, group: bool = False) -> str:
    """Bulgarian notation: decimal comma; with group=True a no-break space between thousands."""
    text = f"{value:f}"
    sign, text = ("-", text[1:]) if text.startswith("-") else ("", text)
    whole, _, frac = text.partition(".")
    if group:
        whole = f"{int(whole):,}".replace(",", "\u00a0")
    return sign + whole + (f",{frac}" if frac else "")


def format_amount(value: Decimal) -> str:
    """An amount for people to read: grouped thousands and two decimals."""
    return format_number(value.quantize(Decimal("0.01")), group=True)


def canonical_number(text: str) -> Decimal | None:
    """The number when `text` is exactly how format_number writes it, so that storing the
    number instead of the text (e.g. as a spreadsheet number) loses no wording."""
    number, unit = parse_quantity(text)
    if number is None or unit or format_number(number) != text:
        return None
    return number


@dataclass(frozen=True)
class Amount:
    value: Decimal | None
    not_applicable: bool
    valid: bool


def parse_amount(text: str) -> Amount:
    """Financing: a number with an optional currency, "неприложимо", or nothing."""
    if not text.strip():
        return Amount(None, False, True)
    if is_not_applicable(text):
        return Amount(None, True, True)
    number, unit = parse_quantity(text)
    if number is not None and (not unit or unit.lower() in _CURRENCY_UNITS):
        return Amount(number, False, True)
    return Amount(None, False, False)


def split_list(text: str) -> list[str]:
    """Activities and similar lists: one item per line or per ";", bullets dropped."""
    items = (re.sub(r"^[•\-–—*]\s+", "", part.strip()) for part in re.split(r"[;\n]", text))
    return [item for item in items if item]


# A responsible-unit cell may name several units: "Дирекция АПОФУС Дирекция АКРРДС",
# "Дирекция АКРРДС и Дирекция АПОФУС", "АПОФУС, АКРРДС", one per line ...
_UNIT_WORD = r"(?i:дирекци[яи]|отдел|сектор|политически\s+кабинет|directorate|department)"
_UNIT_PREFIX = r"(?i:дирекци[яи]|отдел|сектор|directorate|department)"
_ABBREVIATION = r"[A-ZА-Я]{2,}\b"
_UNIT_SPLIT_RE = re.compile(
    rf"\s*[;\n]\s*"
    rf"|\s*(?:,|\s(?:и|and))\s+(?={_UNIT_WORD}|{_ABBREVIATION})"
    rf"|\s+(?={_UNIT_WORD})"
)
_UNIT_CODE_RE = re.compile(rf"(?:{_UNIT_PREFIX}\s+)?[„“\"'«]?([A-ZА-Я]{{2,}})[”“\"'»]?")
_QUOTES = "[„“”\"'«»]?"


def _codes_for_full_names(text: str) -> str:
    for code, name in DIRECTORATES.items():
        pattern = _QUOTES + r"\s+".join(map(re.escape, name.split())) + _QUOTES
        text = re.sub(pattern, code, text, flags=re.IGNORECASE)
    return text


def split_units(text: str) -> list[str]:
    """Unit codes named in a cell, in order, without repeats; a unit without an
    abbreviation keeps its full name."""
    units: list[str] = []
    for raw in _UNIT_SPLIT_RE.split(_codes_for_full_names(text)):
        part = raw.strip().strip(".,").strip()
        if not part:
            continue
        match = _UNIT_CODE_RE.fullmatch(part)
        unit = match[1] if match else part
        if unit not in units:
            units.append(unit)
    return units


def unit_label(unit: str, lang: Lang = "bg") -> str:
    """How a unit is written in an exported document; split_units reads it back."""
    return f"{_DIRECTORATE_WORD[lang]} {unit}" if unit in DIRECTORATES else unit


# Spreadsheet programs run a CSV cell that starts like a formula; a leading apostrophe keeps
# it text, and the CSV importer removes the apostrophe again.
_FORMULA_STARTS: Final[tuple[str, ...]] = ("=", "+", "-", "@", "\t", "\r")


def protect_formula(text: str) -> str:
    if text.startswith(_FORMULA_STARTS) and parse_quantity(text)[0] is None:
        return f"'{text}"
    return text


def unprotect_formula(text: str) -> str:
    return text[1:] if text.startswith("'") and text[1:].startswith(_FORMULA_STARTS) else text
