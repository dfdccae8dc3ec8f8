"""The reminder sweep on SQLite and PostgreSQL, with time moved by time-machine."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import event, select

from service.approvals import service as approvals
from service.extensions import db
from service.goals.models import Goal
from service.notifications.models import Notification
from service.notifications.reminders import sweep
from service.notifications.workdays import add_working_days, is_working_day, working_days_after
from service.org import service as org
from service.progress import service as progress
from tests.helpers import achieved_for

SOFIA = ZoneInfo("Europe/Sofia")


def morning(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 9, 0, tzinfo=SOFIA)


def sweep_on(day: date, times: int = 3) -> None:
    with time_machine.travel(morning(day), tick=False):
        for _ in range(times):
            sweep()


def messages(kind: str | None = None) -> list[Notification]:
    query = select(Notification).order_by(Notification.id)
    if kind:
        query = query.where(Notification.kind == kind)
    return list(db.session.scalars(query))


def test_working_days_follow_bulgarian_holidays():
    assert not is_working_day(date(2023, 4, 14))  # Orthodox Good Friday
    assert not is_working_day(date(2023, 4, 17))  # Orthodox Easter Monday (Western Easter was 10 April)
    assert is_working_day(date(2023, 4, 10))
    assert not is_working_day(date(2023, 3, 3))  # Liberation Day
    assert add_working_days(date(2023, 4, 12), 3) == date(2023, 4, 19)
    assert working_days_after(date(2023, 4, 12), date(2023, 4, 19)) == 3


def test_goal_deadline_reminders_30_14_7_1_days_before_then_weekly_each_once(world):
    world.g_a.deadline = date(2023, 6, 30)
    db.session.commit()
    expected = {
        date(2023, 5, 31): "d-30", date(2023, 6, 1): None, date(2023, 6, 16): "d-14", date(2023, 6, 20): None,
        date(2023, 6, 23): "d-7", date(2023, 6, 29): "d-1", date(2023, 6, 30): None, date(2023, 7, 1): "overdue-1",
        date(2023, 7, 5): None, date(2023, 7, 8): "overdue-2", date(2023, 7, 15): "overdue-3",
    }
    seen = []
    for day, moment in expected.items():
        before = len(messages())
        sweep_on(day)
        new = messages()[before:]
        if moment is None:
            assert new == [], day
            continue
        assert {n.email for n in new} == {"head_a@test.bg", "expert_a@test.bg"}, day
        assert len(new) == 2, day  # three sweeps, each reminder once
        seen.append(moment)
    assert seen == [m for m in expected.values() if m]
    soon = [n for n in messages("deadline_soon") if n.email == "expert_a@test.bg"]
    assert soon[-1].subject == "Наближава срок (30.06.2023): цел 1"
    assert "утре" in soon[-1].body_text and f"/goals/{world.g_a.id}" in soon[-1].link
    overdue = [n for n in messages("deadline_overdue") if n.email == "expert_a@test.bg"]
    assert "преди 8 дни" in overdue[1].body_text


def test_a_missed_reminder_day_is_caught_up_once(world):
    world.g_a.deadline = date(2023, 6, 30)
    db.session.commit()
    sweep_on(date(2023, 6, 25))  # the worker was down on the 23rd and 24th
    assert [n.body_text.split(":")[1].strip()[:9] for n in messages() if n.email == "head_a@test.bg"] == ["след 5 дн"]
    sweep_on(date(2023, 6, 26))
    assert len(messages()) == 2


def test_without_a_deadline_goals_and_activities_are_due_at_the_end_of_the_year(world):
    sweep_on(date(2023, 12, 1))
    per_kind = Counter((n.subject_type, n.subject_id) for n in messages("deadline_soon"))
    goals = {world.g_a.id: 2, world.g_ab.id: 4, world.g_b.id: 2}  # each unit's expert and head
    assert {k: v for k, v in per_kind.items() if k[0] == "goal"} == {("goal", g): n for g, n in goals.items()}
    activity_of = {g.id: g.activities[0].id for g in (world.g_a, world.g_ab, world.g_b)}
    assert {k: v for k, v in per_kind.items() if k[0] == "activity"} == {
        ("activity", activity_of[g]): n for g, n in goals.items()
    }
    activity_note = next(n for n in messages("deadline_soon") if n.subject_type == "activity")
    assert "дейността „Дейност" in activity_note.body_text


def test_finished_goals_and_done_activities_are_not_reminded(world):
    world.g_a.state = "done"
    for goal in (world.g_ab, world.g_b):
        goal.activities[0].done = True
    db.session.commit()
    sweep_on(date(2023, 12, 1))
    subjects = {(n.subject_type, n.subject_id) for n in messages()}
    assert subjects == {("goal", world.g_ab.id), ("goal", world.g_b.id)}


def test_a_substitute_receives_what_the_absent_person_would(world):
    world.g_a.deadline = date(2023, 6, 30)
    db.session.commit()
    with time_machine.travel(morning(date(2023, 6, 20)), tick=False):
        org.name_substitute(
            absent=world.head_a, substitute=world.head_b, starts_on=date(2023, 6, 21), ends_on=date(2023, 6, 28),
            actor=world.head_a,
        )
    sweep_on(date(2023, 6, 23))
    told = {(n.email, n.on_behalf_of_id) for n in messages("deadline_soon")}
    assert told == {("head_a@test.bg", None), ("expert_a@test.bg", None), ("head_b@test.bg", world.head_a.id)}
    to_head_b = next(n for n in messages("deadline_soon") if n.email == "head_b@test.bg")
    assert "като заместник на Head A" in to_head_b.body_text


def test_waiting_approvals_are_reminded_after_3_working_days_and_escalated_after_5(world):
    with time_machine.travel(morning(date(2023, 4, 12)), tick=False):  # Wednesday before Orthodox Easter
        request = approvals.request_transition(
            actor=world.expert_a, subject_type="goal", subject_id=world.g_a.id, transition="complete",
            data=achieved_for(world.g_a),
        )
    for day in (date(2023, 4, 13), date(2023, 4, 17), date(2023, 4, 18)):  # 1 working day, holiday, 2
        sweep_on(day)
        assert messages("approval_reminder") == [], day
    sweep_on(date(2023, 4, 19))  # the third working day
    (reminder,) = messages("approval_reminder")
    assert reminder.email == "head_a@test.bg" and reminder.subject_id == request.id
    assert "от 12.04.2023 (3 работни дни)" in reminder.body_text
    sweep_on(date(2023, 4, 20))
    assert messages("approval_escalated") == []
    sweep_on(date(2023, 4, 21))  # the fifth
    (escalation,) = messages("approval_escalated")
    assert escalation.email == "secretary@test.bg" and "Head A" in escalation.body_text
    sweep_on(date(2023, 4, 24))
    assert len(messages("approval_reminder")) == 1 and len(messages("approval_escalated")) == 1

    # the heads approve: the governor's stage starts its own count
    with time_machine.travel(morning(date(2023, 4, 24)), tick=False):
        approvals.decide(actor=world.head_a, request_id=request.id, verdict="approve")
    sweep_on(date(2023, 4, 27))
    assert [n.email for n in messages("approval_reminder")] == ["head_a@test.bg", "governor@test.bg"]


def test_a_decided_request_is_not_reminded(world):
    with time_machine.travel(morning(date(2023, 4, 3)), tick=False):
        request = approvals.request_transition(
            actor=world.expert_b, subject_type="goal", subject_id=world.g_b.id, transition="start",
        )
        approvals.withdraw(actor=world.expert_b, request_id=request.id)
    sweep_on(date(2023, 4, 20))
    assert messages("approval_reminder") == []


def test_quarterly_report_reminders_on_opening_before_due_on_due_then_every_2_working_days(world):
    with time_machine.travel(morning(date(2023, 4, 3)), tick=False):
        campaign = progress.open_due_campaigns()[0]
    assert campaign.due_on == date(2023, 4, 19)
    with time_machine.travel(morning(date(2023, 4, 10)), tick=False):  # unit a reports everything
        for report in campaign.reports:
            if report.unit_id == world.a.id:
                goal = db.session.get(Goal, report.goal_id)
                progress.submit_report(actor=world.expert_a, report_id=report.id, achieved=achieved_for(goal)["achieved"])

    def reminders():
        return [(n.email, n.subject) for n in messages("campaign_reminder")]

    sweep_on(date(2023, 4, 15))
    assert reminders() == []
    sweep_on(date(2023, 4, 16))  # three days before
    assert {e for e, _ in reminders()} == {"head_b@test.bg", "expert_b@test.bg"}
    assert reminders()[0][1] == "Срокът за тримесечните отчети изтича на 19.04.2023"
    sweep_on(date(2023, 4, 18))
    assert len(reminders()) == 2
    sweep_on(date(2023, 4, 19))
    assert len(reminders()) == 4 and reminders()[-1][1] == "Днес изтича срокът за тримесечните отчети"
    sweep_on(date(2023, 4, 20))
    assert len(reminders()) == 4 and messages("campaign_escalated") == []
    sweep_on(date(2023, 4, 21))  # two working days late
    assert len(reminders()) == 6 and "Просрочени" in reminders()[-1][1]
    (escalation,) = messages("campaign_escalated")
    assert escalation.email == "secretary@test.bg" and "2. Цел 2 (АКРРДС)" in escalation.body_text
    sweep_on(date(2023, 4, 24))
    assert len(reminders()) == 6
    sweep_on(date(2023, 4, 25))
    assert len(reminders()) == 8 and len(messages("campaign_escalated")) == 1
    assert "Цел 1" not in reminders()[-1][1]
    # unit a's reports were submitted but not accepted: its head is reminded at the same moments
    reviews = messages("campaign_review_reminder")
    assert [n.email for n in reviews] == ["head_a@test.bg"] * 4  # before, on the day, two overdue
    assert "1. Цел 1\n2. Цел 2" in reviews[0].body_text


def test_two_sweeps_at_the_same_moment_queue_each_reminder_once(world, ctx):
    world.g_a.deadline = date(2023, 6, 30)
    db.session.commit()
    with time_machine.travel(morning(date(2023, 4, 12)), tick=False):
        approvals.request_transition(actor=world.expert_b, subject_type="goal", subject_id=world.g_b.id, transition="start")
    barrier, errors = threading.Barrier(2), []

    def run():
        with ctx.app_context():
            try:
                barrier.wait()
                sweep()
            except Exception as exc:  # reported below
                errors.append(exc)
            finally:
                db.session.remove()

    with time_machine.travel(morning(date(2023, 6, 23)), tick=False):
        threads = [threading.Thread(target=run) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    assert errors == []
    kinds = Counter(n.kind for n in messages())
    assert kinds == {"approval_needed": 1, "deadline_soon": 2, "approval_reminder": 1, "approval_escalated": 1}


@pytest.mark.parametrize("goals", [3, 300])
def test_a_sweep_loads_only_what_is_due_however_many_goals_there_are(world, goals):
    """The sweep asks for today's deadline windows: 300 goals not due cost what 3 do."""
    for number in range(10, 10 + goals):
        db.session.add(Goal(plan=world.plan, number=number, title=f"Цел {number}", state="in_progress",
                            deadline=date(2023, 9, 30), units=[world.a]))
    world.g_a.deadline = date(2023, 6, 9)  # the only one due: 30 days after the sweep
    db.session.commit()
    statements, loaded = [], []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    def load(goal, context, *attrs):  # a new object, or one this session knew (refreshed)
        loaded.append(goal.number)

    event.listen(db.engine, "before_cursor_execute", count)
    event.listen(Goal, "load", load)
    event.listen(Goal, "refresh", load)
    try:
        sweep_on(date(2023, 5, 10), times=1)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
        event.remove(Goal, "load", load)
        event.remove(Goal, "refresh", load)
    assert loaded == [1]
    assert {n.kind for n in messages()} == {"deadline_soon"}
    assert len(statements) <= 40, statements  # a few queries, plus the two reminders' own
