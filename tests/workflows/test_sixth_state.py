"""A sixth state is a definition change: a copy of goal.yaml with a "suspended" state, loaded in
place of the shipped one, moves through the one path and shows on the pages, in the documents
and in the reminders with no change to the code."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

import workflows.engine
from service.approvals import service as approvals
from service.goals import documents
from service.kernel.workflow_registry import workflow_for
from service.notifications import reminders
from service.notifications.models import Notification
from tests.web.test_pages import login

SUSPENDED = {"bg": "Временно спряна", "en": "Suspended for now"}
HEADS_THEN_GOVERNOR = [
    {"name": "heads", "approvers": {"role": "head", "scope": "responsible_units"}, "rule": "all_of",
     "requester_counts": True},
    {"name": "governor", "approvers": {"role": "governor"}, "rule": "any_of", "requester_counts": True},
]


@pytest.fixture
def six_states(tmp_path, monkeypatch):
    definitions = tmp_path / "workflows"
    shutil.copytree(Path(workflows.engine.__file__).parent, definitions, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    goal = yaml.safe_load((definitions / "goal.yaml").read_text(encoding="utf-8"))
    goal["states"]["suspended"] = SUSPENDED
    goal["groups"]["active"].append("suspended")  # still worked on: reported on, reminded
    requesters = goal["transitions"]["drop"]["requesters"]
    goal["transitions"]["suspend"] = {
        "label": {"bg": "Спиране", "en": "Suspend"}, "from": ["in_progress"], "to": "suspended",
        "reason": "required", "requesters": requesters, "stages": HEADS_THEN_GOVERNOR,
    }
    goal["transitions"]["resume"] = {
        "label": {"bg": "Възобновяване", "en": "Resume"}, "from": ["suspended"], "to": "in_progress",
        "requesters": requesters, "stages": HEADS_THEN_GOVERNOR[:1],
    }
    (definitions / "goal.yaml").write_text(yaml.safe_dump(goal, allow_unicode=True), encoding="utf-8")
    monkeypatch.setattr(workflows.engine, "DEFINITIONS_DIR", definitions)
    assert list(workflow_for("goal").states)[-1] == "suspended"
    return definitions


def test_a_sixth_state_needs_no_code(six_states, world, client):
    # the one path moves a goal into it, through the declared chain
    req = approvals.request_transition(actor=world.expert_a, subject_type="goal", subject_id=world.g_a.id,
                                       transition="suspend", reason="Чака финансиране")
    approvals.decide(actor=world.head_a, request_id=req.id, verdict="approve")
    approvals.decide(actor=world.governor, request_id=req.id, verdict="approve")
    assert world.g_a.state == "suspended"
    assert [t.name for t in approvals.allowed_transitions(world.expert_a, "goal", world.g_a)] == ["resume"]

    # the pages name it and filter by it
    login(client, world.governor, world.password)
    goal_page = client.get(f"/goals/{world.g_a.id}")
    assert goal_page.status_code == 200 and SUSPENDED["bg"] in goal_page.text
    plan_page = client.get(f"/plans/{world.plan.id}?state=suspended")
    assert plan_page.status_code == 200 and 'value="suspended"' in plan_page.text
    assert world.g_a.title in plan_page.text and world.g_b.title not in plan_page.text
    home = client.get("/")
    assert home.status_code == 200 and SUSPENDED["bg"] in home.text

    # the documents say it in both languages
    for lang in ("bg", "en"):
        export = documents.export_plan(world.governor, world.plan.id, fmt="csv", kind="report", lang=lang)
        assert SUSPENDED[lang] in export.data.decode("utf-8-sig")

    # and the reminders treat it as the definition's group says: still worked on
    reminders.sweep(now=datetime(2023, 12, 30, 9, tzinfo=UTC))
    soon = db_notifications("deadline_soon")
    assert {n.subject_id for n in soon} >= {world.g_a.activities[0].id}
    assert date(2023, 12, 31) == world.g_a.activities[0].deadline


def db_notifications(kind: str) -> list[Notification]:
    from service.extensions import db

    return list(db.session.scalars(select(Notification).where(Notification.kind == kind)))
