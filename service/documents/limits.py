"""How much one import may cost: the decompressed size of each part of a DOCX/XLSX, the number of
rows, and the time. The caller sets them for the whole import (`bounded`); the readers below
check them where the work happens, so a file is refused before it is parsed (sizes), before its
rows become goals (rows), or as soon as its time is spent (time), each with its own code.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Final

from .errors import DocumentError, Text

DEFAULT_MAX_PART_BYTES: Final = 8 * 1024 * 1024
DEFAULT_MAX_ROWS: Final = 2000
DEFAULT_MAX_SECONDS: Final = 60.0
_MB: Final = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    max_part_bytes: int = DEFAULT_MAX_PART_BYTES
    max_rows: int = DEFAULT_MAX_ROWS
    seconds: float = DEFAULT_MAX_SECONDS
    deadline: float | None = None  # time.monotonic() after which the import stops


_DEFAULT: Final = Limits()
_current: ContextVar[Limits | None] = ContextVar("goalflow_import_limits", default=None)


def current() -> Limits:
    return _current.get() or _DEFAULT


@contextmanager
def bounded(*, max_part_bytes: int = DEFAULT_MAX_PART_BYTES, max_rows: int = DEFAULT_MAX_ROWS,
            seconds: float = DEFAULT_MAX_SECONDS) -> Iterator[Limits]:
    """Everything read and imported inside obeys these limits; the clock starts now."""
    limits = Limits(max_part_bytes, max_rows, seconds, time.monotonic() + seconds)
    token = _current.set(limits)
    try:
        yield limits
    finally:
        _current.reset(token)


def check_time() -> None:
    limits = current()
    if limits.deadline is not None and time.monotonic() > limits.deadline:
        raise DocumentError("too_slow", Text(
            f"Файлът не беше обработен за {limits.seconds:g} секунди и е отхвърлен; разделете го на по-малки.",
            f"The file was not processed within {limits.seconds:g} seconds and was refused; split it up.",
        ), seconds=limits.seconds)


def check_rows(count: int) -> None:
    limits = current()
    if count > limits.max_rows:
        raise DocumentError("too_many_rows", Text(
            f"Таблицата има {count:,} реда, а допустимото е до {limits.max_rows:,}.",
            f"The table has {count:,} rows; the limit is {limits.max_rows:,}.",
        ), rows=count, limit=limits.max_rows)


def part_too_large(name: str, size: int) -> DocumentError:
    limit = current().max_part_bytes
    size_mb, limit_mb = math.ceil(size / _MB), max(1, round(limit / _MB))
    return DocumentError("part_too_large", Text(
        f"Частта „{name}“ на файла се разархивира до {size_mb} MB, а допустимото е до {limit_mb} MB.",
        f"The part “{name}” of the file expands to {size_mb} MB; the limit is {limit_mb} MB.",
    ), part=name, size=size, limit=limit, size_mb=size_mb, limit_mb=limit_mb)
