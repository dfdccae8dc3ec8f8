"""Measuring text for print: column widths no narrower than a column's longest word, and how
many lines a wrapped cell takes.

Every export sets its table in Times New Roman; the measures come from a metric-compatible
font (Liberation Serif, which LibreOffice also substitutes for it), read with fontTools. Where
no such font is installed an average Cyrillic advance stands in, which errs on the wide side.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Final

FONT_NAME: Final = "Times New Roman"
_FONT_FILES: Final[dict[bool, tuple[str, ...]]] = {
    False: ("LiberationSerif-Regular.ttf", "times.ttf", "Times New Roman.ttf"),
    True: ("LiberationSerif-Bold.ttf", "timesbd.ttf", "Times New Roman Bold.ttf"),
}
_FONT_DIRS: Final = ("/usr/share/fonts", "/usr/local/share/fonts", "/Library/Fonts", "C:/Windows/Fonts")
_FALLBACK_EM: Final = 0.56  # a wide Cyrillic letter's advance, in em
# A word longer than this breaks anyway (a web address, a chain of codes): it sets no minimum.
_LONGEST_WORD: Final = 28
# A line may break at a space and after a hyphen or a slash ("Организационно-|техническа").
_WORDS_RE: Final = re.compile(r"[^\s\-/]+[\-/]?|[\-/]")


@cache
def _advances(bold: bool) -> tuple[dict[int, float], float] | None:
    """Advance width of each character in em, and the default; None when no font is found."""
    path = _font_path(bold)
    if path is None:
        return None
    from fontTools.ttLib import TTFont  # WeasyPrint's own dependency

    font = TTFont(str(path), lazy=True)
    units = font["head"].unitsPerEm
    metrics = font["hmtx"].metrics
    widths = {code: metrics[glyph][0] / units for code, glyph in font.getBestCmap().items()}
    return widths, widths.get(ord("н"), _FALLBACK_EM)


@cache
def _font_path(bold: bool) -> Path | None:
    for folder in map(Path, _FONT_DIRS):
        if not folder.is_dir():
            continue
        for name in _FONT_FILES[bold]:
            found = next(folder.rglob(name), None)
            if found:
                return found
    return None


def text_width(text: str, size: float, *, bold: bool = False) -> float:
    """The width of one line of `text` in points at `size` points."""
    advances = _advances(bold)
    if advances is None:
        return len(text) * _FALLBACK_EM * size
    widths, default = advances
    return sum(widths.get(ord(char), default) for char in text) * size


def longest_word(texts: Sequence[str], size: float, *, bold: bool = False) -> float:
    """The width of the widest word in `texts` (words longer than a usual word left out)."""
    return max(
        (
            text_width(word, size, bold=bold)
            for text in texts
            for word in _WORDS_RE.findall(text)
            if len(word) <= _LONGEST_WORD
        ),
        default=0.0,
    )


def column_widths(
    minimums: Sequence[float], weights: Sequence[float], usable: float
) -> list[float] | None:
    """Widths that give each column at least its minimum and share the rest by weight;
    None when the minimums alone are wider than the page."""
    spare = usable - sum(minimums)
    if spare < 0:
        return None
    total = sum(weights)
    # Room by weight, but a column whose minimum already exceeds its share keeps the minimum
    # and the others share what is left.
    fixed: set[int] = set()
    while True:
        free = usable - sum(minimums[i] for i in fixed)
        share = sum(weights[i] for i in range(len(weights)) if i not in fixed) or total
        widths = [minimums[i] if i in fixed else free * weights[i] / share for i in range(len(weights))]
        short = {i for i, width in enumerate(widths) if i not in fixed and width < minimums[i]}
        if not short:
            return widths
        fixed |= short


def wrapped_lines(text: str, width: float, size: float, *, bold: bool = False) -> int:
    """How many lines `text` takes in a column `width` points wide, wrapped at spaces (a word
    wider than the column is counted as broken across lines)."""
    space = text_width(" ", size, bold=bold)
    lines = 0
    for paragraph in text.split("\n"):
        lines += 1
        used = 0.0
        for word in paragraph.split():
            word_width = text_width(word, size, bold=bold)
            if used and used + space + word_width > width:
                lines += 1
                used = 0.0
            if word_width > width:  # broken: the full lines it fills, the rest goes on
                extra = math.ceil(word_width / width) - 1
                lines += extra
                word_width -= extra * width
            used += (space if used else 0.0) + word_width
    return max(lines, 1)
