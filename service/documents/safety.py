"""Checks made before any parser sees the bytes: size, zip bombs, format and encoding.

Encoding policy: text and CSV must be UTF-8 (a BOM is fine; UTF-16 with a BOM, as Excel's
"Unicode text" writes it, is accepted too). Bulgarian Windows still saves CSV as
windows-1251, so bytes that are not UTF-8 are tried as windows-1251 - but that reading is
kept only if it yields a recognisable goals table, since any byte sequence decodes as
windows-1251 and a wrong guess would otherwise pass as mojibake. Everything else is refused
with the "encoding" error.
"""

from __future__ import annotations

import codecs
import io
import re
import zipfile
import zlib
from dataclasses import dataclass
from typing import Final, Literal

from . import limits
from .errors import DocumentError, Text

DEFAULT_MAX_BYTES: Final = 10 * 1024 * 1024
DEFAULT_MAX_UNZIPPED_BYTES: Final = 100 * 1024 * 1024
MAX_ZIP_MEMBERS: Final = 1000
MAX_COMPRESSION_RATIO: Final = 100
# Small members (styles, relationships) compress far better than 100:1 in honest files.
_RATIO_CHECKED_FROM: Final = 1024 * 1024
_CHUNK: Final = 64 * 1024

Format = Literal["docx", "xlsx", "text", "csv"]

_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Word 97-2003 .doc, Excel 97-2003 .xls
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_BLANK_BYTES = b" \t\r\n\x0b\x0c" + codecs.BOM_UTF8


def check_bytes(data: bytes, max_bytes: int) -> None:
    """Refuse what is too large to read or has nothing in it."""
    if len(data) > max_bytes:
        raise DocumentError(
            "too_large",
            Text(
                f"Файлът е {len(data):,} байта, а допустимото е до {max_bytes:,}.",
                f"The file is {len(data):,} bytes; the limit is {max_bytes:,}.",
            ),
        )
    if not data.strip(_BLANK_BYTES):
        raise DocumentError("empty")


def _damaged_archive() -> DocumentError:
    return DocumentError("unsupported", Text("Архивът е повреден.", "The archive is damaged."))


def check_zip(
    data: bytes, *, max_unzipped_bytes: int = DEFAULT_MAX_UNZIPPED_BYTES, read_through: bool = False
) -> set[str]:
    """Member names of a zip whose central directory promises nothing dangerous: no more members,
    total size, size of any one part (limits.current()) or compression ratio than allowed.

    `read_through` then decompresses every member in small chunks, counting what actually comes
    out, before any parser sees it: a member larger than the limit is refused as soon as the
    count passes it, and one that does not match what it declared (zipfile stops at the declared
    size and checks the CRC) is refused as damaged. Memory stays at one chunk."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            _check_declared(members, max_unzipped_bytes)
            if read_through:
                for member in members:
                    _read_through(archive, member)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, zlib.error, NotImplementedError,
            RuntimeError) as error:  # RuntimeError: an encrypted member
        raise _damaged_archive() from error
    return {member.filename for member in members}


def _check_declared(members: list[zipfile.ZipInfo], max_unzipped_bytes: int) -> None:
    if len(members) > MAX_ZIP_MEMBERS:
        raise DocumentError("zip_bomb")
    if sum(member.file_size for member in members) > max_unzipped_bytes:
        raise DocumentError("zip_bomb")
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size >= _RATIO_CHECKED_FROM and ratio > MAX_COMPRESSION_RATIO:
            raise DocumentError("zip_bomb")
        if member.file_size > limits.current().max_part_bytes:
            raise limits.part_too_large(member.filename, member.file_size)


def _read_through(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> None:
    size, limit = 0, limits.current().max_part_bytes
    with archive.open(member) as stream:
        while chunk := stream.read(_CHUNK):
            size += len(chunk)
            if size > limit:
                raise limits.part_too_large(member.filename, size)
            limits.check_time()
    if size != member.file_size:
        raise _damaged_archive()


def detect_format(data: bytes, *, max_unzipped_bytes: int = DEFAULT_MAX_UNZIPPED_BYTES) -> Format:
    """By content, never by file name."""
    if data.startswith(b"PK"):
        names = check_zip(data, max_unzipped_bytes=max_unzipped_bytes)
        if "word/document.xml" in names:
            return "docx"
        if "xl/workbook.xml" in names:
            return "xlsx"
        raise DocumentError("unsupported")
    reject_binary(data)
    return "text" if "\t" in decode_text(data).text else "csv"


def reject_binary(data: bytes) -> None:
    if data.startswith(_OLE2_MAGIC):
        raise DocumentError(
            "unsupported",
            Text(
                "Форматът Word/Excel 97-2003 не се поддържа; запишете файла като .docx или .xlsx.",
                "Word/Excel 97-2003 files are not supported; save the file as .docx or .xlsx.",
            ),
        )
    if data.startswith(b"%PDF"):
        raise DocumentError(
            "unsupported",
            Text(
                "PDF не може да бъде импортиран; използвайте изходния DOCX или XLSX.",
                "A PDF cannot be imported; use the source DOCX or XLSX.",
            ),
        )
    if b"\x00" in data and not data.startswith(_UTF16_BOMS):
        raise DocumentError("unsupported")


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str

    @property
    def is_guess(self) -> bool:
        """Decoded as windows-1251: to be trusted only if a goals table shows up."""
        return self.encoding == "cp1251"


def decode_text(data: bytes) -> Decoded:
    """The text, following the module's encoding policy."""
    if data.startswith(_UTF16_BOMS):
        try:
            return Decoded(data.decode("utf-16"), "utf-16")
        except UnicodeDecodeError as error:
            raise DocumentError("encoding") from error
    try:
        return Decoded(data.decode("utf-8-sig"), "utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return Decoded(data.decode("cp1251"), "cp1251")
    except UnicodeDecodeError as error:
        raise DocumentError("encoding") from error


def looks_like_mojibake(text: str) -> bool:
    """UTF-8 Cyrillic read as Latin-1 and saved again: "Ð•Ð¶ÐµÐ³Ð¾Ð´Ð½Ð°" instead of "Ежегодна"."""
    garbled = len(re.findall(r"[ÐÑ]", text))
    cyrillic = len(re.findall(r"[\u0400-\u04ff]", text))
    return garbled >= 3 and garbled > cyrillic
