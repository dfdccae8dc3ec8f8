"""Every word of the interface is in Bulgarian: the catalogue covers the sources and is compiled."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "service" / "translations" / "bg" / "LC_MESSAGES"


def test_every_string_of_the_sources_is_translated_and_compiled(tmp_path):
    template = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", "-k", "_l",
         "-k", "lazy_gettext", "-o", str(template), "."],
        cwd=ROOT, check=True, capture_output=True,
    )
    wanted = {m.id for m in read_po(template.open("rb")) if m.id}
    with (CATALOG / "messages.po").open("rb") as f:
        po = {m.id: m for m in read_po(f) if m.id}
    missing = sorted(str(i) for i in wanted if i not in po or not po[i].string or po[i].fuzzy)
    assert not missing, f"run `make translations` and translate: {missing[:20]}"
    with (CATALOG / "messages.mo").open("rb") as f:
        mo = {m.id: m.string for m in read_mo(f) if m.id}
    stale = sorted(str(i) for i in wanted if mo.get(i) != po[i].string)
    assert not stale, f"messages.mo is older than messages.po: run `make translations` ({stale[:5]})"


def test_placeholders_survive_translation():
    with (CATALOG / "messages.po").open("rb") as f:
        for message in read_po(f):
            if not message.id or not isinstance(message.id, str):
                continue
            for token in ("%(", "%%"):
                assert message.id.count(token) == message.string.count(token), message.id
