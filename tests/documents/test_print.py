"""The exports as a person sees them printed: each is converted to PDF by LibreOffice headless
(the PDF export is read as it is) and the PDF checked with poppler: every cell's text is on the
pages, word for word, no word broken where hyphenation would not break it, the pages are
landscape, and no two words overlap."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from xml.etree import ElementTree

import pytest

from service.documents import PlanDocument, export_docx, export_pdf, export_xlsx
from service.documents.columns import FINANCING_AMOUNT
from service.documents.rendering import columns_for, table_texts

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
pytestmark = pytest.mark.skipif(
    not SOFFICE or not shutil.which("pdftotext"), reason="LibreOffice and poppler-utils are needed"
)

EXPORTS: dict[str, Callable[..., bytes]] = {
    "docx": export_docx,
    "xlsx": export_xlsx,
    "pdf": export_pdf,
}  # CSV is data for other programs: it has no page setup and no wrapped cells to check


@dataclass(frozen=True)
class Word:
    page: int
    text: str
    box: tuple[float, float, float, float]


@dataclass
class Printed:
    pages: list[tuple[float, float]]  # width, height
    words: list[Word]
    lines: list[list[Word]]  # each line's words, as poppler groups them


def _to_pdf(data: bytes, fmt: str, folder: Path) -> Path:
    source = folder / f"export.{fmt}"
    source.write_bytes(data)
    if fmt == "pdf":
        return source
    # Its own profile: LibreOffice refuses to start while another instance holds a profile.
    profile = (folder / "profile").as_uri()
    subprocess.run(
        [SOFFICE, f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf", "--outdir",
         str(folder / "out"), str(source)],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    return folder / "out" / "export.pdf"


def _read(pdf: Path) -> Printed:
    xhtml = subprocess.run(
        ["pdftotext", "-bbox-layout", str(pdf), "-"], check=True, capture_output=True, timeout=60
    ).stdout
    root = ElementTree.fromstring(re.sub(rb"<!DOCTYPE[^>]*>", b"", xhtml))
    namespace = {"x": "http://www.w3.org/1999/xhtml"}
    printed = Printed([], [], [])
    for number, page in enumerate(root.iterfind(".//x:page", namespace), start=1):
        printed.pages.append((float(page.get("width")), float(page.get("height"))))
        for line in page.iterfind(".//x:line", namespace):
            words = []
            for element in line.iterfind("x:word", namespace):
                box = tuple(float(element.get(k)) for k in ("xMin", "yMin", "xMax", "yMax"))
                words.append(Word(number, element.text or "", box))
            printed.words += words
            printed.lines.append(words)
    return printed


_HYPHENS = ("-", "\u2010", "\u00ad")  # a hyphen, the typographic one, a soft one
# A line may break at a space and after a hyphen or a slash, so words are compared in those pieces.
_PIECES = re.compile(r"[^\s\-/\u2010]+[\-/\u2010]?|[\-/\u2010]")


def _pieces(text: str) -> list[str]:
    return _PIECES.findall(text.replace("\u2010", "-"))


def _digits(text: str) -> str:
    """An amount's digits: a spreadsheet prints "146 305,48" in the converter's locale."""
    return re.sub(r"\D", "", text)


def _printed_words(printed: Printed) -> set[str]:
    """Every word printed, in pieces, and the digits of each run of numbers on a line."""
    words = {piece for word in printed.words for piece in _pieces(word.text)}
    for line in printed.lines:
        run = ""
        for word in [*line, None]:
            if word is not None and re.fullmatch(r"[\d\s.,\u00a0]+", word.text):
                run += _digits(word.text)
                continue
            if run:
                words.add(run)
            run = ""
    return words


def _missing(expected: set[str], printed: set[str]) -> set[str]:
    """The expected words not printed whole nor split by hyphenation: its first part ending in
    a hyphen at the end of a line, the rest on the next (any word broken without a hyphen,
    "Дирек" / "ция", is missing)."""
    hyphenated = {word[:-1] for word in printed if len(word) > 1 and word.endswith(_HYPHENS)}
    return {
        word for word in expected - printed
        if not any(word[:i] in hyphenated and word[i:] in printed for i in range(1, len(word)))
    }  # fmt: skip


def _cell_words(document: PlanDocument, lang: str) -> set[str]:
    columns = columns_for(document, lang)
    texts = [column.heading for column in columns]
    for row in table_texts(document, columns, lang):
        for column, text in zip(columns, row, strict=True):
            amount = column.field == FINANCING_AMOUNT and re.fullmatch(r"[\d\s.,\u00a0]+", text)
            texts.append(_digits(text) if amount else text)
    return {piece for text in texts for piece in _pieces(text)}


def _overlaps(words: list[Word]) -> list[tuple[str, str]]:
    """Pairs of words on one page whose boxes intersect: side by side by more than rounding,
    one above the other by more than a third of a line (a box spans the font's whole ascent
    and descent, so the boxes of lines set solid touch by a point or so)."""
    found = []
    by_page: dict[int, list[Word]] = {}
    for word in words:
        by_page.setdefault(word.page, []).append(word)
    for page_words in by_page.values():
        page_words.sort(key=lambda w: w.box[0])
        for index, first in enumerate(page_words):
            for second in page_words[index + 1 :]:
                if second.box[0] >= first.box[2] - 0.3:
                    break
                overlap_x = min(first.box[2], second.box[2]) - max(first.box[0], second.box[0])
                overlap_y = min(first.box[3], second.box[3]) - max(first.box[1], second.box[1])
                height = min(first.box[3] - first.box[1], second.box[3] - second.box[1])
                if overlap_x > 0.3 and overlap_y > height / 3:
                    found.append((first.text, second.text))
    return found


@pytest.fixture
def signed_report(haskovo: PlanDocument) -> PlanDocument:
    haskovo.governor_name = "Стефан Иванов"
    haskovo.approved_on = date(2024, 2, 15)
    return haskovo


@pytest.mark.parametrize("fmt", EXPORTS)
def test_each_export_prints_every_word_on_landscape_pages_without_overlaps(
    signed_report: PlanDocument, fmt: str, tmp_path: Path
) -> None:
    printed = _read(_to_pdf(EXPORTS[fmt](signed_report), fmt, tmp_path))

    missing = _missing(_cell_words(signed_report, "bg"), _printed_words(printed))
    assert not missing, sorted(missing)[:20]
    assert _overlaps(printed.words) == [], _overlaps(printed.words)[:5]
    assert printed.pages and all(width > height for width, height in printed.pages)
    title = "Отчет за изпълнението на целите на Областна администрация на област Хасково за 2023 г."
    assert set(title.split()) <= {word.text for word in printed.words if word.page == 1}
    # The approval block stands at the top right, above the title.
    approve = next(word for word in printed.words if word.text.startswith("УТВЪРЖДАВАМ"))
    heading = next(word for word in printed.words if word.text == "Отчет")
    assert approve.page == 1 and approve.box[0] > printed.pages[0][0] / 2 and approve.box[1] < heading.box[1]


@pytest.mark.parametrize("fmt", ["docx", "xlsx"])
def test_the_header_rows_are_printed_on_every_page(signed_report: PlanDocument, fmt: str, tmp_path: Path) -> None:
    printed = _read(_to_pdf(EXPORTS[fmt](signed_report), fmt, tmp_path))
    assert len(printed.pages) > 1
    pages_with_heading = {word.page for word in printed.words if word.text == "Ежегодна"}
    assert pages_with_heading == set(range(1, len(printed.pages) + 1))


def test_a_word_broken_mid_word_fails_the_check() -> None:
    """The check itself: a column too narrow for its words is caught."""
    assert _missing({"Дирекция"}, {"Дирек", "ция"}) == {"Дирекция"}
    assert _missing({"Дирекция"}, {"Дирек\u2010", "ция"}) == set()
    assert _missing({"146305"}, _printed_words(Printed([], [], [[Word(1, "146", (0, 0, 9, 8)), Word(1, "305", (11, 0, 20, 8))]]))) == set()
    assert _overlaps([Word(1, "a", (0, 0, 10, 10)), Word(1, "b", (5, 5, 15, 15))]) == [("a", "b")]
