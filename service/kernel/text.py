"""Control characters: refused where text comes in, removed where it goes out.

Tab, line feed and carriage return are text; every other C0 control (U+0000-U+001F), DEL
(U+007F) and the C1 controls (U+0080-U+009F) are not. XML 1.0 forbids most of them outright
(so a DOCX or XLSX holding one cannot be written), PostgreSQL keeps no NUL, and none of them
means anything in a goal. Clients are told which field held one (422); an imported cell is
cleaned, with a warning on its row; a document written from whatever is already stored drops them.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any, Final

from service.kernel.errors import GoalflowError

CONTROL: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# The same set as a JSON Schema pattern for the API's text fields (with and without a visible character).
NO_CONTROL_PATTERN: Final = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$"
SOME_TEXT_PATTERN: Final = (
    r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*"
    r"[^\s\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]"
    r"[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$"
)
CONTROL_PROBLEM: Final = "holds a control character (only tab, line feed and carriage return are allowed)"


def has_control(text: object) -> bool:
    return isinstance(text, str) and CONTROL.search(text) is not None


def without_control(text: str) -> str:
    return CONTROL.sub("", text)


def control_fields(values: Any, prefix: str = "") -> dict[str, str]:
    """{field path: problem} for every text in `values` (nested dicts and lists) holding a control character."""
    found: dict[str, str] = {}
    if isinstance(values, str):
        if has_control(values):
            found[prefix or "text"] = CONTROL_PROBLEM
    elif isinstance(values, Mapping):
        for key, value in values.items():
            found |= control_fields(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(values, list | tuple):
        for index, value in enumerate(values):
            found |= control_fields(value, f"{prefix}.{index}" if prefix else str(index))
    return found


def refuse_control(values: Any) -> None:
    """invalid_input naming every field that holds a control character."""
    found = control_fields(values)
    if found:
        raise GoalflowError("invalid_input", fields=found)


def printable(value: Any) -> Any:
    """`value` (text, or lists, tuples, dicts and dataclasses of it, nested) with every control character removed."""
    if isinstance(value, str):
        return without_control(value)
    if isinstance(value, list | tuple):
        return type(value)(printable(item) for item in value)
    if isinstance(value, dict):
        return {key: printable(item) for key, item in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.replace(value, **{
            f.name: printable(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init
        })
    return value
