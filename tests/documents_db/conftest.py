"""Documents through the database: import into a plan, export it, and read it back."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

HASKOVO = Path(__file__).resolve().parents[2] / "service" / "data" / "haskovo-2023-goals-report.txt"


@pytest.fixture(scope="session")
def haskovo_bytes() -> bytes:
    return HASKOVO.read_bytes()


@pytest.fixture
def haskovo_admin(ctx):
    """An administration with the two directorates and no plan yet, its chief secretary and a token."""
    from service.auth.service import issue_token
    from service.org import service as org
    from service.org.models import Role
    from tests.helpers import PASSWORD

    admin = org.create_administration(name="Областна администрация Хасково", slug="haskovo")
    units = [org.create_unit(administration=admin, code=code, name=f"Дирекция {code}") for code in ("АПОФУС", "АКРРДС")]
    secretary = org.create_user(
        email="secretary@haskovo.bg", name="Мария Секретарова", password=PASSWORD, administration=admin,
        roles=[(Role.CHIEF_SECRETARY, None)],
    )
    expert = org.create_user(
        email="expert@haskovo.bg", name="Иван Експертов", password=PASSWORD, administration=admin,
        roles=[(Role.EXPERT, units[0])],
    )
    return SimpleNamespace(
        admin=admin, units=units, secretary=secretary, expert=expert, password=PASSWORD,
        token=issue_token(user=secretary, name="tests")[1], expert_token=issue_token(user=expert, name="tests")[1],
    )


def goal_fields(goal) -> dict[str, Any]:
    """What a person entered in a goal, as stored; the import's own notes (warnings, review flag,
    source cells) describe an import rather than the goal."""
    from service.goals.documents import plain

    return {
        "number": goal.number, "title": goal.title, "strategic_documents": goal.strategic_documents,
        "strategic_goal": goal.strategic_goal, "strategic_indicator": goal.strategic_indicator,
        "financing_amount": plain(goal.financing_amount), "financing_currency": goal.financing_currency,
        "financing_source": goal.financing_source, "financing_not_applicable": goal.financing_not_applicable,
        "state": goal.state, "status_wording": goal.status_wording, "progress_note": goal.progress_note,
        "units": [u.code for u in goal.units],
        "indicators": [
            (i.name, i.unit, plain(i.baseline), i.baseline_text, plain(i.target), i.target_text, plain(i.achieved),
             i.achieved_text)
            for i in goal.indicators
        ],
        "activities": [a.title for a in goal.activities],
    }


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
