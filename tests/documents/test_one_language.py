"""Every message and warning of an import is said once per language: a Bulgarian form in Cyrillic,
an English form in Latin letters, never the two joined into one string."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from service.documents import DocumentError, PlanDocument, Text, in_language, parse_text
from service.documents.errors import _MESSAGES, ERROR_CODES

ROOT = Path(__file__).resolve().parents[2]
# Where import messages are written: the document layer, and the import into a plan.
SOURCES = sorted((ROOT / "service" / "documents").glob("*.py")) + [ROOT / "service" / "goals" / "documents.py"]
CYRILLIC = re.compile("[\u0400-\u04ff]")
LATIN = re.compile("[A-Za-z]")
# Words a message quotes from the document (a heading, a status, a unit) stay as the document has them.
QUOTED = re.compile("„[^“]*“|“[^”]*”")
# Two halves joined: Cyrillic on one side of " / ", a Latin letter on the other.
JOINED = re.compile("[\u0400-\u04ff][^/]* / [^/]*[A-Za-z]|[A-Za-z][^/]* / [^/]*[\u0400-\u04ff]")


def assert_one_language_each(text: Text, where: str = "") -> None:
    bg, en = QUOTED.sub("", text.bg), QUOTED.sub("", text.en)
    assert CYRILLIC.search(bg), f"{where}: the Bulgarian form is not in Bulgarian: {text.bg!r}"
    assert LATIN.search(en) and not CYRILLIC.search(en), f"{where}: the English form is not in English: {text.en!r}"
    for form in (bg, en):
        assert not JOINED.search(form), f"{where}: two languages in one string: {form!r}"


def _literal(node: ast.expr) -> str | None:
    """The text a string or f-string argument always holds (what it fills in counts as a quote)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(part.value if isinstance(part, ast.Constant) else "“…”" for part in node.values)
    return None


def written_messages() -> list[tuple[str, Text]]:
    """Every Text(bg, en) written in the sources, with where it is."""
    found = []
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Text" and len(node.args) == 2:
                bg, en = map(_literal, node.args)
                if bg is not None and en is not None and QUOTED.sub("", bg + en).strip():  # not Text(f"{a}{b}", ...)
                    found.append((f"{path.relative_to(ROOT)}:{node.lineno}", Text(bg, en)))
    return found


def test_the_sources_write_every_message_in_both_languages_apart():
    messages = written_messages()
    assert len(messages) >= 40, "every message of the import is a Text"
    for where, text in messages:
        assert_one_language_each(text, where)


def test_no_source_joins_two_languages():
    for path in SOURCES:
        source = path.read_text(encoding="utf-8")
        assert "bilingual" not in source, path
        assert not re.search(r'\} / \{', source), f"{path}: a string joins two texts with ' / '"


@pytest.mark.parametrize("code", sorted(ERROR_CODES))
def test_each_refusal_has_its_words_in_each_language(code):
    error = DocumentError(code)
    assert error.message == _MESSAGES[code]
    assert_one_language_each(error.message, code)
    assert str(error) == error.message.en, "a log line gets one language"


def test_the_warnings_of_a_real_report_are_in_one_language_each(haskovo: PlanDocument):
    warnings = [*haskovo.warnings, *(w for goal in haskovo.goals for w in goal.warnings)]
    assert len(warnings) >= 5
    for warning in warnings:
        assert isinstance(warning, Text)
        assert_one_language_each(warning)


def test_a_refusal_names_the_file_in_each_language():
    with pytest.raises(DocumentError) as refused:
        parse_text(b"nothing to see here\n", filename="notes.txt")
    message = refused.value.message
    assert message.bg.startswith("notes.txt: Не е открита") and message.en.startswith("notes.txt: No goals table")
    assert_one_language_each(message)


def test_a_stored_message_comes_back_in_the_language_asked_for():
    text = Text("Целта няма наименование.", "The goal has no title.")
    assert text.stored() == {"bg": "Целта няма наименование.", "en": "The goal has no title."}
    assert Text.from_stored(text.stored()) == text
    assert in_language(text.stored(), "en") == "The goal has no title."
    assert in_language(text, "bg") == in_language(text, "fr") == "Целта няма наименование."
    assert str(text) == "The goal has no title."
