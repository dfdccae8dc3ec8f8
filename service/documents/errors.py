"""The words of the document layer, and the one exception it raises for files it refuses to read.

Every message and warning is a `Text`: its Bulgarian and its English form, kept apart. Whoever shows
one picks the reader's language (`in_language`); whoever stores one keeps both (`Text.stored`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

LANGS: Final = ("bg", "en")


@dataclass(frozen=True)
class Text:
    """A message in Bulgarian and in English, never joined into one string."""

    bg: str
    en: str

    def in_(self, lang: str) -> str:
        """The message in `lang` ("bg" or "en"); Bulgarian for anything else."""
        return self.en if lang == "en" else self.bg

    def prefixed(self, prefix: str) -> Text:
        """The same message after `prefix` (a file's name), in both languages."""
        return Text(f"{prefix}{self.bg}", f"{prefix}{self.en}")

    def stored(self) -> dict[str, str]:
        """As the database and an import job keep it: {"bg": ..., "en": ...}."""
        return {"bg": self.bg, "en": self.en}

    @classmethod
    def from_stored(cls, value: object) -> Text:
        """A stored message back: {"bg": ..., "en": ...}, or a Text; any other text is the same in both."""
        if isinstance(value, Text):
            return value
        if isinstance(value, Mapping):
            bg, en = str(value.get("bg") or value.get("en") or ""), str(value.get("en") or value.get("bg") or "")
            return cls(bg, en)
        return cls(str(value), str(value))

    def __str__(self) -> str:  # in a log or a traceback: the English, as GoalflowError's str
        return self.en


def in_language(value: object, lang: str) -> str:
    """A message (a Text, or one as stored) in the reader's language."""
    return Text.from_stored(value).in_(lang)


_MESSAGES: Final[dict[str, Text]] = {
    "empty": Text("Файлът е празен или не съдържа цели.", "The file is empty or holds no goals."),
    "not_a_table": Text(
        "Не е открита таблица с цели: липсва заглавен ред с колони като „Ред №“ и „Ежегодна цел“.",
        "No goals table found: no header row with columns such as “No.” and “Annual goal”.",
    ),
    "encoding": Text(
        "Текстът не е в UTF-8 и не може да бъде разчетен надеждно. Запишете файла като UTF-8.",
        "The text is not UTF-8 and cannot be read reliably. Save the file as UTF-8.",
    ),
    "too_large": Text("Файлът е твърде голям.", "The file is too large."),
    "zip_bomb": Text(
        "Архивът се разархивира до недопустимо голям обем и е отхвърлен.",
        "The archive expands to an unacceptable size and was refused.",
    ),
    "part_too_large": Text(
        "Част от файла се разархивира до недопустимо голям обем.",
        "A part of the file expands to an unacceptable size.",
    ),
    "too_many_rows": Text("Таблицата има твърде много редове.", "The table has too many rows."),
    "too_slow": Text(
        "Файлът не беше обработен в допустимото време.", "The file was not processed within the time allowed.",
    ),
    "unsupported": Text(
        "Форматът не се поддържа: използвайте DOCX, XLSX, CSV или текст с табулации.",
        "Unsupported format: use DOCX, XLSX, CSV or tab-separated text.",
    ),
}

ERROR_CODES: Final[frozenset[str]] = frozenset(_MESSAGES)


class DocumentError(Exception):
    """A file that cannot be imported; `code` is stable, `message` is for people (in both languages)."""

    def __init__(self, code: str, message: Text | None = None, **params: object) -> None:
        if code not in ERROR_CODES:
            raise ValueError(f"unknown document error code: {code!r}")
        self.code = code
        self.message = message or _MESSAGES[code]
        self.params = params  # the numbers behind the message (a limit, a size), for clients
        super().__init__(self.message.en)

    def __repr__(self) -> str:
        return f"DocumentError({self.code!r}, {self.message.en!r})"
