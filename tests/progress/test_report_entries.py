"""The year fills the report: accepted quarterly reports draft each goal's report entry; the unit
edits and submits it, the heads approve, the chief secretary compiles, the governor's approval of
the report signs it, and a signed entry is frozen. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from service.approvals import service as approvals
from service.audit.service import verify
from service.documents import parse_document
from service.extensions import db
from service.goals import documents
from service.goals import report as entries
from service.kernel.errors import GoalflowError
from service.progress import service as progress


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 7, 0, tzinfo=UTC)


def accept_quarter(world, quarter: int, narrative: str, value: str, *, only=None):
    """Every report of the quarter submitted with `value` for each indicator and accepted."""
    opened = at(date(2023, 3 * quarter + 1, 3))
    campaign = progress.open_campaign(plan_id=world.plan.id, quarter=quarter, actor=world.secretary, now=opened)
    for report in campaign.reports:
        if only and (report.goal_id, report.unit_id) not in only:
            continue
        expert, head = (world.expert_a, world.head_a) if report.unit_id == world.a.id else (world.expert_b, world.head_b)
        progress.submit_report(actor=expert, report_id=report.id, now=opened,
                               achieved={str(i.id): value for i in report.goal.indicators},
                               narrative=f"{narrative} ({report.unit.code})")
        progress.accept_report(actor=head, report_id=report.id, now=opened)
    return campaign


def test_each_accepted_quarter_updates_the_draft_and_a_persons_edit_is_kept(world):
    accept_quarter(world, 1, "Проведени две заседания", "1", only={(world.g_a.id, world.a.id)})
    entry = entries.entry_of(world.g_a)
    assert entry.state == "draft"
    assert [v.achieved_text for v in entry.values] == ["1"]
    assert entry.narrative == "I тримесечие (АПОФУС): Проведени две заседания (АПОФУС)"

    accept_quarter(world, 2, "Докладът е приет", "2", only={(world.g_a.id, world.a.id)})
    db.session.refresh(entry)
    assert [v.achieved_text for v in entry.values] == ["2"], "the latest quarter's value"
    assert entry.narrative.splitlines() == [
        "I тримесечие (АПОФУС): Проведени две заседания (АПОФУС)",
        "II тримесечие (АПОФУС): Докладът е приет (АПОФУС)",
    ]
    entries.save_entry(actor=world.expert_a, goal_id=world.g_a.id, achieved={}, narrative="Целта е постигната.")
    accept_quarter(world, 3, "Трето тримесечие", "3", only={(world.g_a.id, world.a.id)})
    db.session.refresh(entry)
    assert entry.narrative.splitlines() == ["Целта е постигната.", "III тримесечие (АПОФУС): Трето тримесечие (АПОФУС)"]
    assert entries.entry_of(world.g_b) is None, "no quarter accepted for goal 3 yet"


def test_the_entry_goes_from_the_unit_through_the_heads_and_the_secretary_to_the_governors_signature(world):
    accept_quarter(world, 1, "Напредък", "1")
    world.plan.state = "reporting"
    db.session.commit()
    goal = world.g_ab  # two units: both heads approve
    achieved = {str(i.id): "4 бр." for i in goal.indicators}
    entry = entries.save_entry(actor=world.expert_b, goal_id=goal.id, achieved=achieved,
                               narrative="Стратегията е обновена и приета.")
    request = entries.request(actor=world.expert_b, goal_id=goal.id, transition="submit")
    assert request.status == "open" and entry.state == "draft"
    with pytest.raises(GoalflowError) as frozen:  # waiting for the heads: not edited under them
        entries.save_entry(actor=world.expert_b, goal_id=goal.id, achieved={}, narrative="Друго.")
    assert frozen.value.code == "report_entry_frozen"
    approvals.decide(actor=world.head_a, request_id=request.id, verdict="approve")
    assert entry.state == "draft", "both heads"
    approvals.decide(actor=world.head_b, request_id=request.id, verdict="approve")
    db.session.refresh(entry)
    assert entry.state == "approved"

    with pytest.raises(GoalflowError) as refused:
        entries.request(actor=world.head_a, goal_id=goal.id, transition="compile")
    assert refused.value.code == "not_a_requester"
    entries.request(actor=world.secretary, goal_id=goal.id, transition="compile")
    db.session.refresh(entry)
    assert entry.state == "compiled"
    assert goal.progress_note == "Стратегията е обновена и приета."
    assert [i.achieved_text for i in goal.indicators] == ["4 бр.", "4 бр."]
    exported = parse_document(documents.render(world.plan, fmt="docx", kind="report").data)
    row = next(g for g in exported.goals if g.number == goal.number)
    assert row.progress_note == "Стратегията е обновена и приета."

    approvals.request_transition(actor=world.secretary, subject_type="plan", subject_id=world.plan.id,
                                 transition="submit_report")
    sign_off = approvals.open_request("plan", world.plan.id)  # opened by the submission itself
    assert sign_off.transition == "approve_report"
    assert entry.state == "compiled", "submitting the report signs nothing"
    approvals.decide(actor=world.governor, request_id=sign_off.id, verdict="approve")
    db.session.refresh(entry)
    assert entry.state == "signed" and entry.signed_by_id == world.governor.id and entry.signed_at
    draft = entries.entry_of(world.g_a)
    assert draft.state == "draft", "only compiled entries are signed"

    for who, attempt in (
        (world.expert_b, lambda: entries.save_entry(actor=world.expert_b, goal_id=goal.id, achieved={}, narrative="x")),
        (world.secretary, lambda: entries.request(actor=world.secretary, goal_id=goal.id, transition="return",
                                                  reason="x")),
    ):
        with pytest.raises(GoalflowError) as exc:
            attempt()
        assert exc.value.code in ("report_entry_frozen", "transition_not_declared"), who
    db.session.refresh(entry)
    assert entry.state == "signed" and entry.narrative == "Стратегията е обновена и приета."
    assert verify().ok


def test_the_outcome_reason_and_returns(world):
    """Goal 7 of the Haskovo report: its completion reason is column 14's last line."""
    goal = world.g_a
    request = approvals.request_transition(
        actor=world.expert_a, subject_type="goal", subject_id=goal.id, transition="complete",
        reason="Проведено обществено обсъждане с участието на 40 души.",
        data={"achieved": {str(i.id): "1" for i in goal.indicators}},
    )
    approvals.decide(actor=world.head_a, request_id=request.id, verdict="approve")
    approvals.decide(actor=world.governor, request_id=request.id, verdict="approve")
    assert goal.state == "done"
    accept_quarter(world, 1, "Подготовка", "1", only={(world.g_ab.id, world.a.id)})
    world.plan.state = "reporting"
    db.session.commit()
    entry = entries.save_entry(actor=world.expert_a, goal_id=goal.id, achieved={}, narrative="")
    assert entries.composed_narrative(entry) == "Изпълнена: Проведено обществено обсъждане с участието на 40 души."

    with pytest.raises(GoalflowError) as incomplete:  # nothing to say in column 14
        entries.request(actor=world.expert_a, goal_id=goal.id, transition="submit")
    assert incomplete.value.code == "transition_data_invalid" and "narrative" in incomplete.value.fields
    entries.save_entry(actor=world.expert_a, goal_id=goal.id, achieved={},
                       narrative=entries.composed_narrative(entry))
    submitted = entries.request(actor=world.head_a, goal_id=goal.id, transition="submit")
    assert submitted.status == "approved", "the head who asks is the heads' stage"
    returned = entries.request(actor=world.secretary, goal_id=goal.id, transition="return", reason="Добавете броя.")
    assert returned.status == "approved"
    db.session.refresh(entry)
    assert entry.state == "draft"
    with pytest.raises(GoalflowError) as outsider:
        entries.save_entry(actor=world.expert_b, goal_id=goal.id, achieved={}, narrative="x")
    assert outsider.value.code in ("forbidden", "not_found")
    with pytest.raises(GoalflowError) as bad:
        entries.save_entry(actor=world.expert_a, goal_id=goal.id, achieved={"999999": "1"}, narrative="x")
    assert bad.value.code == "invalid_input" and "achieved.999999" in bad.value.fields


def test_the_heads_find_the_entry_in_their_approvals_inbox(world, client):
    from tests.web.test_pages import login

    accept_quarter(world, 1, "Напредък", "1", only={(world.g_ab.id, world.a.id)})
    entries.save_entry(actor=world.expert_a, goal_id=world.g_ab.id, achieved={}, narrative="Обновена.")
    request = entries.request(actor=world.expert_a, goal_id=world.g_ab.id, transition="submit")
    login(client, world.head_b, world.password)
    inbox = client.get("/approvals")
    assert inbox.status_code == 200 and f"/goals/{world.g_ab.id}/report-entry" in inbox.text
    page = client.get(f"/goals/{world.g_ab.id}/report-entry")
    assert page.status_code == 200 and f"/requests/{request.id}/approve" in page.text
