"""Files the importers refuse, each with its error code."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable

import pytest
from docx import Document
from openpyxl import Workbook

from service.documents import (
    DocumentError,
    PlanDocument,
    parse_csv,
    parse_document,
    parse_docx,
    parse_text,
    parse_xlsx,
)

_MIB = 1024 * 1024


def _error(parse: Callable[..., PlanDocument], data: bytes, **options: object) -> DocumentError:
    with pytest.raises(DocumentError) as raised:
        parse(data, **options)
    return raised.value


def _zip_of_zeros(marker: str, size: int) -> bytes:
    """A small archive that expands to `size` bytes of zeros, written in chunks so that the
    expanded bytes never sit in memory."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(marker, "<xml/>")
        with archive.open("payload.xml", "w") as member:
            chunk = bytes(_MIB)
            for _ in range(size // _MIB):
                member.write(chunk)
    return buffer.getvalue()


def _docx_bytes(*paragraphs: str) -> bytes:
    word = Document()
    for text in paragraphs:
        word.add_paragraph(text)
    buffer = io.BytesIO()
    word.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("data", [b"", b"   \r\n\t", b"\xef\xbb\xbf\n"])
@pytest.mark.parametrize("parse", [parse_document, parse_text, parse_csv])
def test_empty_input(parse: Callable[..., PlanDocument], data: bytes) -> None:
    assert _error(parse, data).code == "empty"


def test_header_without_goals_is_empty() -> None:
    data = "Ред №;Ежегодна цел;Отговорно звено\n;;\n".encode()
    assert _error(parse_document, data).code == "empty"


@pytest.mark.parametrize(
    ("parse", "data"),
    [
        (parse_document, "Протокол от заседание\nНяма таблица тук.\n".encode()),
        (parse_csv, "име,телефон\nИван,0888\n".encode()),
        (parse_text, b"a\tb\tc\n1\t2\t3\n"),
        (parse_docx, _docx_bytes("Цели на администрацията", "Само текст, без таблица.")),
    ],
)
def test_not_a_table(parse: Callable[..., PlanDocument], data: bytes) -> None:
    assert _error(parse, data).code == "not_a_table"


def test_spreadsheet_without_goals_table() -> None:
    workbook = Workbook()
    workbook.active.append(["Дата", "Сума"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert _error(parse_xlsx, buffer.getvalue()).code == "not_a_table"


@pytest.mark.parametrize("parse", [parse_document, parse_text])
def test_wrong_encoding_is_refused_not_garbled(
    parse: Callable[..., PlanDocument], haskovo_bytes: bytes
) -> None:
    dos_cyrillic = haskovo_bytes.decode().encode("cp866")  # neither UTF-8 nor windows-1251
    assert _error(parse, dos_cyrillic).code == "encoding"


def test_mojibake_is_an_encoding_error(haskovo_bytes: bytes) -> None:
    mojibake = haskovo_bytes.decode("latin-1").encode()  # UTF-8 read as Latin-1 and saved again
    assert _error(parse_document, mojibake).code == "encoding"


def test_windows_1251_is_read_when_it_yields_the_table(
    haskovo_bytes: bytes, haskovo: PlanDocument, content
) -> None:
    document = parse_document(haskovo_bytes.decode().encode("cp1251"))
    assert [content(goal) for goal in document.goals] == [content(goal) for goal in haskovo.goals]
    assert any("windows-1251" in warning.en for warning in document.warnings)


def test_too_large(haskovo_bytes: bytes) -> None:
    error = _error(parse_document, haskovo_bytes, max_bytes=1000)
    assert error.code == "too_large"
    assert "1,000" in error.message.en
    assert _error(parse_text, b"x" * (10 * _MIB + 1)).code == "too_large"  # the default limit


@pytest.mark.parametrize(
    ("name", "marker", "size", "parse"),
    [
        # 200 MiB of zeros in ~200 KB: over the total limit.
        ("plan.docx", "word/document.xml", 200 * _MIB, parse_docx),
        # 20 MiB in ~20 KB: under the total limit, but over 100:1.
        ("plan.xlsx", "xl/workbook.xml", 20 * _MIB, parse_xlsx),
    ],
)
def test_zip_bombs(name: str, marker: str, size: int, parse: Callable[..., PlanDocument]) -> None:
    bomb = _zip_of_zeros(marker, size)
    assert len(bomb) < _MIB
    assert _error(parse, bomb, filename=name).code == "zip_bomb"
    error = _error(parse_document, bomb, filename=name)
    assert error.code == "zip_bomb" and error.message.bg.startswith(f"{name}: ") and error.message.en.startswith(f"{name}: ")


def test_zip_with_too_many_members() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<xml/>")
        for index in range(1001):
            archive.writestr(f"m/{index}", "")
    assert _error(parse_document, buffer.getvalue()).code == "zip_bomb"


@pytest.mark.parametrize(
    "data",
    [
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512),  # Word/Excel 97-2003
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        b"PK\x03\x04 not really a zip",
    ],
)
def test_unsupported_formats(data: bytes) -> None:
    assert _error(parse_document, data).code == "unsupported"


def test_zip_that_is_neither_docx_nor_xlsx() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("content.xml", "<office:document/>")
    assert _error(parse_document, buffer.getvalue()).code == "unsupported"
    assert _error(parse_docx, buffer.getvalue()).code == "unsupported"


def test_error_messages_speak_both_languages() -> None:
    error = DocumentError("empty")
    assert "празен" in error.message.bg and "empty" in error.message.en and "empty" not in error.message.bg
    with pytest.raises(ValueError):
        DocumentError("no_such_code")
