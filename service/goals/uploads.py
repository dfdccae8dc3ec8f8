"""Uploaded files kept between a preview and its confirmation (or for a background import).

Each file lives in one folder, VAR_DIR/imports, under an opaque id this module generates. An id
that comes back from a client (a form, a cookie-backed session, a job row) is checked against
the exact shape generated here before it names a file: an absolute path, `..`, a slash or any
other string is simply no upload. Nothing a client sends is ever joined into a path.
"""

from __future__ import annotations

import os
import re
import secrets
import time
from pathlib import Path
from typing import Final

from service.kernel.common import settings

KEEP_SECONDS: Final = 24 * 3600  # an upload nobody confirmed is removed after a day
_ID_BYTES: Final = 24
UPLOAD_ID: Final = re.compile(r"[A-Za-z0-9_-]{32}")  # secrets.token_urlsafe(24): 32 characters


def folder() -> Path:
    path = Path(settings().VAR_DIR).resolve() / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def valid_id(upload_id: object) -> bool:
    return isinstance(upload_id, str) and UPLOAD_ID.fullmatch(upload_id) is not None


def _path(upload_id: object) -> Path | None:
    """The file of an id this module could have made; None for anything else."""
    if not valid_id(upload_id):
        return None
    return folder() / str(upload_id)


def save(data: bytes) -> str:
    """Keep `data` (readable by this process only) and answer its new id."""
    upload_id = secrets.token_urlsafe(_ID_BYTES)
    path = folder() / upload_id
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    return upload_id


def read(upload_id: object) -> bytes | None:
    path = _path(upload_id)
    if path is None or not path.is_file():
        return None
    return path.read_bytes()


def discard(upload_id: object) -> None:
    path = _path(upload_id)
    if path is not None:
        path.unlink(missing_ok=True)


def sweep(now: float | None = None) -> int:
    """Remove uploads older than KEEP_SECONDS; only files this module names are touched."""
    cutoff = (now or time.time()) - KEEP_SECONDS
    removed = 0
    for entry in folder().iterdir():
        if valid_id(entry.name) and entry.is_file() and entry.stat().st_mtime < cutoff:
            entry.unlink(missing_ok=True)
            removed += 1
    return removed
