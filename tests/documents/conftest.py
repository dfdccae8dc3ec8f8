"""Shared fixtures for the document layer: the real Haskovo 2023 report and a small plan."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from service.documents import Goal, Indicator, PlanDocument, parse_text

HASKOVO_PATH = Path(__file__).resolve().parents[2] / "service" / "data" / "haskovo-2023-goals-report.txt"

# What a person entered; warnings, review marks and source cells describe the import instead.
_IMPORT_NOTES = ("warnings", "needs_review", "source_cells")


def goal_content(goal: Goal) -> dict[str, Any]:
    fields = dataclasses.asdict(goal)
    for name in _IMPORT_NOTES:
        fields.pop(name)
    return fields


@pytest.fixture(scope="session")
def haskovo_bytes() -> bytes:
    return HASKOVO_PATH.read_bytes()


@pytest.fixture
def haskovo(haskovo_bytes: bytes) -> PlanDocument:
    return parse_text(haskovo_bytes, filename=HASKOVO_PATH.name)


@pytest.fixture
def content() -> Callable[[Goal], dict[str, Any]]:
    return goal_content


@pytest.fixture
def small_plan() -> PlanDocument:
    """A plan as the application would build it, with a governor and an approval date."""
    return PlanDocument(
        kind="plan",
        administration="Областна администрация на област Хасково",
        year=2024,
        governor_name="Иван Петров",
        approved_on=date(2024, 1, 12),
        goals=[
            Goal(
                number=1,
                title="Подобряване на административното обслужване",
                strategic_documents="Стратегия за развитие на държавната администрация",
                strategic_goal="Качествено обслужване",
                strategic_indicator="Удовлетвореност на потребителите",
                indicators=[
                    Indicator(
                        name="Проведени анкети",
                        unit="бр",
                        baseline=Decimal("0"),
                        baseline_text="0",
                        target=Decimal("4"),
                        target_text="4 бр",
                    )
                ],
                financing_amount=Decimal("1500.50"),
                financing_source="Национален бюджет",
                activities=["Анкета сред потребителите", "Анализ на резултатите"],
                units=["АПОФУС"],
                state="planned",
            ),
            Goal(
                number=2,
                title="Опазване на околната среда",
                financing_not_applicable=True,
                units=["Политически кабинет", "АКРРДС"],
                state="planned",
            ),
        ],
    )
