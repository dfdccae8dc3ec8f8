"""Importers: bytes of a goals document in any supported format to a PlanDocument.

Each format only turns its bytes into rows of cell texts (see reading.RawTable); finding the
header, reading the columns and building the goals is shared.
"""

from __future__ import annotations

import csv
import io
import itertools
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from zipfile import BadZipFile

from docx import Document as open_docx
from docx.document import Document as WordDocument
from docx.opc.exceptions import PackageNotFoundError
from docx.table import Table
from lxml.etree import XMLSyntaxError
from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from . import limits
from .errors import DocumentError, Text
from .model import PlanDocument
from .reading import RawTable, build_document, has_header
from .safety import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_UNZIPPED_BYTES,
    Decoded,
    check_bytes,
    check_zip,
    decode_text,
    detect_format,
    looks_like_mojibake,
    reject_binary,
)
from .values import format_number, unprotect_formula

# Spreadsheets may claim far more columns than the goals table needs; rows beyond the limit
# (a few more for the title and header) refuse the file rather than being left out unseen.
_MAX_SHEET_COLUMNS = 64
_ROWS_ABOVE_TABLE = 50
_BROKEN_PACKAGE_ERRORS = (
    BadZipFile,
    zlib.error,
    EOFError,
    KeyError,
    ValueError,
    XMLSyntaxError,
    PackageNotFoundError,
    InvalidFileException,
)


@contextmanager
def _about(filename: str) -> Iterator[None]:
    """Name the file in the message of any error raised while reading it."""
    try:
        yield
    except DocumentError as error:
        if not filename:
            raise
        raise DocumentError(error.code, error.message.prefixed(f"{filename}: "), **error.params) from error


def parse_document(
    data: bytes,
    filename: str = "",
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_unzipped_bytes: int = DEFAULT_MAX_UNZIPPED_BYTES,
) -> PlanDocument:
    """Any supported format, told apart by content: a zip with word/document.xml is DOCX, one
    with xl/workbook.xml is XLSX; text with tabs is the extracted-text form, other text CSV."""
    with _about(filename):
        check_bytes(data, max_bytes)
        kind = detect_format(data, max_unzipped_bytes=max_unzipped_bytes)
    if kind in ("docx", "xlsx"):
        package_parser = parse_docx if kind == "docx" else parse_xlsx
        return package_parser(
            data, filename=filename, max_bytes=max_bytes, max_unzipped_bytes=max_unzipped_bytes
        )
    text_parser = parse_text if kind == "text" else parse_csv
    return text_parser(data, filename=filename, max_bytes=max_bytes)


def parse_text(data: bytes, *, filename: str = "", max_bytes: int = DEFAULT_MAX_BYTES) -> PlanDocument:
    """Tab-separated text extracted from a signed document (rows may be split over lines)."""
    with _about(filename):
        decoded = _decode(data, max_bytes)
        _check_lines(decoded.text)
        rows = [line.split("\t") for line in decoded.text.splitlines()]
        return _build_decoded(decoded, RawTable(rows, ragged=True, continued_lines=True))


def parse_csv(data: bytes, *, filename: str = "", max_bytes: int = DEFAULT_MAX_BYTES) -> PlanDocument:
    """CSV separated by "," or ";" (sniffed; the other one is tried if no header shows up)."""
    with _about(filename):
        decoded = _decode(data, max_bytes)
        _check_lines(decoded.text)
        first, second = _delimiters(decoded.text)
        table = _csv_table(decoded.text, first)
        if not has_header(table.rows):
            table = _csv_table(decoded.text, second)
        return _build_decoded(decoded, table)


def parse_docx(
    data: bytes,
    *,
    filename: str = "",
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_unzipped_bytes: int = DEFAULT_MAX_UNZIPPED_BYTES,
) -> PlanDocument:
    """The goals table of a Word document; text before it is the approval block and title."""
    with _about(filename):
        _check_package(data, max_bytes, max_unzipped_bytes, "word/document.xml")
        try:
            table = _docx_table(open_docx(io.BytesIO(data)))
        except _BROKEN_PACKAGE_ERRORS as error:
            raise _damaged() from error
        return build_document(table)


def parse_xlsx(
    data: bytes,
    *,
    filename: str = "",
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_unzipped_bytes: int = DEFAULT_MAX_UNZIPPED_BYTES,
) -> PlanDocument:
    """The first worksheet that holds a goals table; rows above the header are its title."""
    with _about(filename):
        _check_package(data, max_bytes, max_unzipped_bytes, "xl/workbook.xml")
        try:
            rows = _xlsx_rows(data)
        except _BROKEN_PACKAGE_ERRORS as error:
            raise _damaged() from error
        return build_document(RawTable(rows))


def _decode(data: bytes, max_bytes: int) -> Decoded:
    check_bytes(data, max_bytes)
    reject_binary(data)
    decoded = decode_text(data)
    if not decoded.text.strip():
        raise DocumentError("empty")
    return decoded


# Extracted text wraps a goal's row over several lines: a document may have this many lines per row.
_LINES_PER_ROW = 40


def _check_lines(text: str) -> None:
    """Refuse a text with far more lines than the row limit allows, before splitting it into cells."""
    lines = text.count("\n") + 1
    if lines > limits.current().max_rows * _LINES_PER_ROW:
        limits.check_rows(lines // _LINES_PER_ROW)


def _build_decoded(decoded: Decoded, table: RawTable) -> PlanDocument:
    """A table that cannot be found in text read by a guess, or in mojibake, is an encoding
    problem rather than a missing table."""
    if not has_header(table.rows) and (decoded.is_guess or looks_like_mojibake(decoded.text)):
        raise DocumentError("encoding")
    document = build_document(table)
    if decoded.is_guess:
        document.warnings.append(
            Text(
                "Файлът не е в UTF-8 и е прочетен като windows-1251; проверете текста.",
                "The file is not UTF-8 and was read as windows-1251; check the text.",
            )
        )
    return document


def _delimiters(text: str) -> tuple[str, str]:
    sample = "\n".join(text.splitlines()[:50])
    try:
        first = csv.Sniffer().sniff(sample, delimiters=",;").delimiter
    except csv.Error:
        first = ";" if sample.count(";") >= sample.count(",") else ","
    return (first, "," if first == ";" else ";")


def _csv_table(text: str, delimiter: str) -> RawTable:
    try:
        rows = [
            list(map(unprotect_formula, row)) for row in csv.reader(io.StringIO(text), delimiter=delimiter)
        ]
    except csv.Error as error:
        raise DocumentError("not_a_table") from error
    return RawTable(rows, ragged=True)


def _check_package(data: bytes, max_bytes: int, max_unzipped_bytes: int, required: str) -> None:
    check_bytes(data, max_bytes)
    if required not in check_zip(data, max_unzipped_bytes=max_unzipped_bytes, read_through=True):
        raise DocumentError("unsupported")


def _damaged() -> DocumentError:
    return DocumentError(
        "unsupported", Text("Файлът е повреден или непълен.", "The file is damaged or incomplete.")
    )


def _docx_table(document: WordDocument) -> RawTable:
    """The first table with a goals header, with the tables that continue it (same width) and
    everything before it as the preamble (approval blocks are often laid out in a table)."""
    preamble: list[str] = []
    found: list[list[str]] | None = None
    for item in document.iter_inner_content():
        limits.check_time()
        if not isinstance(item, Table):
            if found is None:
                preamble.append(item.text)
            continue
        rows = _docx_rows(item)
        if found is None and has_header(rows):
            found = rows
        elif found is None:
            preamble.extend(cell for row in rows for cell in dict.fromkeys(row))
        elif rows and len(rows[0]) == len(found[0]):
            # A continuation table may repeat the header (and column numbering) rows.
            found.extend(row for row in rows if row not in found[:3])
    if found is None:
        raise DocumentError("not_a_table")
    return RawTable(found, preamble)


def _docx_rows(table: Table) -> list[list[str]]:
    """python-docx repeats a merged cell once per grid column it covers (and a vertically
    merged cell in every row), which is how a merged header reads here."""
    return [
        [""] * row.grid_cols_before + [cell.text for cell in row.cells] + [""] * row.grid_cols_after
        for row in table.rows
    ]


def _xlsx_rows(data: bytes) -> list[list[str]]:
    """The rows of the first worksheet with a goals header. Read-only mode streams the sheet;
    merged cells read as one value and empty cells, which the header reading expects."""
    workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        for sheet in workbook.worksheets:
            cells = sheet.iter_rows(max_col=_MAX_SHEET_COLUMNS, values_only=True)
            cap = limits.current().max_rows + _ROWS_ABOVE_TABLE
            rows = []
            for row in itertools.islice(cells, cap + 1):
                limits.check_time()
                rows.append([_spreadsheet_text(value) for value in row])
            if len(rows) > cap and any(rows[-1]):
                limits.check_rows(len(rows))
            if has_header(rows):
                return rows
    finally:
        workbook.close()
    raise DocumentError("not_a_table")


def _spreadsheet_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, (int, float, Decimal)):
        return format_number(Decimal(str(value)))
    if isinstance(value, (date, datetime)):
        return value.strftime("%d.%m.%Y")
    return str(value)
