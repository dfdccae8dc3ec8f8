"""The one exception the document layer raises for files it refuses to read."""

from __future__ import annotations

from typing import Final


def bilingual(bg: str, en: str) -> str:
    """Messages and warnings carry both languages, Bulgarian first."""
    return f"{bg} / {en}"


_MESSAGES: Final[dict[str, str]] = {
    "empty": bilingual("Файлът е празен или не съдържа цели.", "The file is empty or holds no goals."),
    "not_a_table": bilingual(
        "Не е открита таблица с цели: липсва заглавен ред с колони като „Ред №“ и „Ежегодна цел“.",
        "No goals table found: no header row with columns such as “No.” and “Annual goal”.",
    ),
    "encoding": bilingual(
        "Текстът не е в UTF-8 и не може да бъде разчетен надеждно. Запишете файла като UTF-8.",
        "The text is not UTF-8 and cannot be read reliably. Save the file as UTF-8.",
    ),
    "too_large": bilingual("Файлът е твърде голям.", "The file is too large."),
    "zip_bomb": bilingual(
        "Архивът се разархивира до недопустимо голям обем и е отхвърлен.",
        "The archive expands to an unacceptable size and was refused.",
    ),
    "part_too_large": bilingual(
        "Част от файла се разархивира до недопустимо голям обем.",
        "A part of the file expands to an unacceptable size.",
    ),
    "too_many_rows": bilingual("Таблицата има твърде много редове.", "The table has too many rows."),
    "too_slow": bilingual(
        "Файлът не беше обработен в допустимото време.", "The file was not processed within the time allowed.",
    ),
    "unsupported": bilingual(
        "Форматът не се поддържа: използвайте DOCX, XLSX, CSV или текст с табулации.",
        "Unsupported format: use DOCX, XLSX, CSV or tab-separated text.",
    ),
}

ERROR_CODES: Final[frozenset[str]] = frozenset(_MESSAGES)


class DocumentError(Exception):
    """A file that cannot be imported; `code` is stable, `message` is for people."""

    def __init__(self, code: str, message: str = "", **params: object) -> None:
        if code not in ERROR_CODES:
            raise ValueError(f"unknown document error code: {code!r}")
        self.code = code
        self.message = message or _MESSAGES[code]
        self.params = params  # the numbers behind the message (a limit, a size), for clients
        super().__init__(self.message)

    def __repr__(self) -> str:
        return f"DocumentError({self.code!r}, {self.message!r})"
