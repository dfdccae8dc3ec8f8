"""The neutral form of a goals document: every importer produces it, every exporter reads it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Final, Literal

from workflows import declared_states

from .errors import Text

Kind = Literal["plan", "report"]
Lang = Literal["bg", "en"]

# A goal's states and their labels are the goal workflow's (workflows/goal.yaml), read from the
# definition itself: these are the ones declared when the module loaded (the importers'
# vocabulary); `goal_states()` and `state_label()` read the definitions in use.
def goal_states() -> dict[str, dict[str, str]]:
    """state -> its labels, in definition order."""
    return declared_states("goal")


STATES: Final[tuple[str, ...]] = tuple(goal_states())
STATE_LABELS: Final[dict[str, dict[str, str]]] = {
    lang: {state: labels[lang] for state, labels in goal_states().items()} for lang in ("bg", "en")
}

# Wordings seen in documents (normalised: lower case, single spaces, no trailing punctuation).
_STATUS_WORDS: Final[dict[str, str]] = {
    **{label.lower(): state for labels in STATE_LABELS.values() for state, label in labels.items()},
    "планирано": "planned",
    "предстои": "planned",
    "not started": "planned",
    "в процес": "in_progress",
    "в изпълнение": "in_progress",
    "в процес на изпълнение": "in_progress",
    "изпълнява се": "in_progress",
    "in_progress": "in_progress",
    "ongoing": "in_progress",
    "изпълнено": "done",
    "изпълнена изцяло": "done",
    "completed": "done",
    "achieved": "done",
    "неизпълнено": "not_done",
    "not_done": "not_done",
    "not achieved": "not_done",
    "failed": "not_done",
    "отпаднало": "dropped",
    "отменена": "dropped",
    "cancelled": "dropped",
    "canceled": "dropped",
    "withdrawn": "dropped",
}


def status_to_state(wording: str) -> str | None:
    """Map a document's status wording to a state; None when the wording is unknown."""
    key = re.sub(r"\s+", " ", wording).strip().strip(".;:!").strip().lower()
    return _STATUS_WORDS.get(key)


def state_label(state: str | None, lang: Lang = "bg") -> str:
    return goal_states().get(state or "", {}).get(lang, "")


@dataclass
class Indicator:
    """One indicator of a goal; numbers are parsed where the cell is a plain quantity,
    the *_text fields keep the document's wording."""

    name: str
    unit: str = ""
    baseline: Decimal | None = None
    baseline_text: str = ""
    target: Decimal | None = None
    target_text: str = ""
    achieved: Decimal | None = None
    achieved_text: str = ""


@dataclass
class Goal:
    number: int
    title: str
    strategic_documents: str = ""
    strategic_goal: str = ""
    strategic_indicator: str = ""
    indicators: list[Indicator] = field(default_factory=list)
    financing_amount: Decimal | None = None
    financing_not_applicable: bool = False
    financing_source: str = ""
    activities: list[str] = field(default_factory=list)
    # Unit codes such as "АПОФУС"; a unit without an abbreviation keeps its full name.
    units: list[str] = field(default_factory=list)
    status_wording: str = ""
    state: str | None = None
    progress_note: str = ""
    warnings: list[Text] = field(default_factory=list)
    needs_review: bool = False
    # The row's cells as found in the source, so nothing is lost when a row did not fit.
    source_cells: list[str] = field(default_factory=list)


@dataclass
class PlanDocument:
    kind: Kind
    administration: str = ""
    year: int | None = None
    currency: str = "BGN"
    governor_name: str = ""
    approved_on: date | None = None
    amended_on: date | None = None  # an amended plan's latest version ("актуализиран на …")
    goals: list[Goal] = field(default_factory=list)
    warnings: list[Text] = field(default_factory=list)
