"""What a client can send that Python takes and the database cannot: numbers beyond the keys'
integer range and JSON text holding a lone surrogate (valid JSON, not encodable as UTF-8). Both
are refused where they come in, as a clear 404, 400 or an absent value, never an error deep down."""

from __future__ import annotations

import json
import re
from typing import Final

from flask import Flask, abort, request
from werkzeug.routing import IntegerConverter

MAX_ID: Final = 2**31 - 1  # the database's integer keys
_DIGITS: Final = re.compile(r"[0-9]{1,10}")
_SURROGATE_ESCAPE: Final = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def parse_id(value: str | None) -> int | None:
    """A key typed into a form or a query string: ASCII digits within the keys' range, else None."""
    value = (value or "").strip()
    if not _DIGITS.fullmatch(value):
        return None
    number = int(value)
    return number if number <= MAX_ID else None


class KeyConverter(IntegerConverter):
    """`<int:...>` in a path, bounded by the keys' range: a larger number is a 404, not an overflow."""

    def __init__(self, map, *args, **kwargs) -> None:  # noqa: A002 - werkzeug's own parameter name
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def _refuse_unencodable_json() -> None:
    # Only a body that spells a surrogate escape can hold a lone one; a valid pair decodes to one character.
    if not request.is_json or not _SURROGATE_ESCAPE.search(request.get_data(cache=True)):
        return
    body = request.get_json(silent=True)
    try:
        json.dumps(body, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        abort(400, description="The JSON body holds text that is not valid Unicode (a lone surrogate).")


def install(app: Flask) -> None:
    """Before any blueprint: the converter binds when routes are added."""
    app.url_map.converters["int"] = KeyConverter
    app.before_request(_refuse_unencodable_json)
