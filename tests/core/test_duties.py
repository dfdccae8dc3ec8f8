"""Separation of duties on accounts that already break it: a deciding role and the administrator
role on one account (given before the rule, or written into the database by hand) are found,
listed by the CLI, reported by /readyz as a warning and at start-up, and can be taken apart."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from service.audit.models import Event
from service.extensions import db
from service.kernel.errors import GoalflowError
from service.org import service as org
from service.org.models import Role, RoleAssignment


def hand_grant(user, role, unit=None):
    """Past the service and its rule, as an edit of the database would."""
    db.session.add(RoleAssignment(user_id=user.id, role=role, unit_id=unit.id if unit else None))
    db.session.commit()
    db.session.expire_all()


def test_no_account_conflicts_in_a_clean_world(world):
    assert org.conflicting_accounts(world.admin.id) == []
    assert org.count_conflicting_accounts() == 0


def test_conflicting_accounts_are_found_with_their_conflicting_roles(world):
    hand_grant(world.sysadmin, Role.GOVERNOR)
    hand_grant(world.head_a, Role.ADMIN)
    hand_grant(world.observer, Role.ADMIN)  # an observer beside the administrator decides nothing: no conflict

    found = org.conflicting_accounts(world.admin.id)
    assert [c.user.email for c in found] == [world.head_a.email, world.sysadmin.email]
    by_email = {c.user.email: sorted(str(r.role) for r in c.roles) for c in found}
    assert by_email == {world.head_a.email: ["admin", "head"], world.sysadmin.email: ["admin", "governor"]}
    assert org.count_conflicting_accounts() == 2
    assert org.conflicting_accounts(world.admin.id + 1000) == []


def test_removing_a_role_ends_the_conflict_and_is_audited(world):
    second = org.create_user(email="admin2@test.bg", name="Втори администратор", password=world.password,
                             administration=world.admin, roles=[(Role.ADMIN, None)])
    hand_grant(world.head_a, Role.ADMIN)
    [conflict] = org.conflicting_accounts(world.admin.id)
    admin_role = next(r for r in conflict.roles if r.role == Role.ADMIN)

    org.remove_role(actor=second, assignment_id=admin_role.id)

    db.session.expire_all()
    assert org.conflicting_accounts(world.admin.id) == []
    assert [str(r.role) for r in world.head_a.roles] == ["head"]
    event = db.session.scalars(select(Event).where(Event.action == "role_removed")).one()
    assert (event.subject_id, event.actor_id) == (world.head_a.id, second.id)
    assert event.before == {"role": "admin", "unit": None}


def test_nobody_removes_their_own_roles_nor_those_of_another_administration(world):
    hand_grant(world.sysadmin, Role.GOVERNOR)
    [conflict] = org.conflicting_accounts(world.admin.id)
    governor_role = next(r for r in conflict.roles if r.role == Role.GOVERNOR)
    with pytest.raises(GoalflowError) as own:
        org.remove_role(actor=world.sysadmin, assignment_id=governor_role.id)
    assert own.value.code == "own_roles"
    with pytest.raises(GoalflowError) as not_admin:
        org.remove_role(actor=world.governor, assignment_id=governor_role.id)
    assert not_admin.value.code == "forbidden"

    other = org.create_administration(name="Друга", slug="other")
    stranger = org.create_user(email="admin@other.bg", name="Чужд администратор", password=world.password,
                               administration=other, roles=[(Role.ADMIN, None)])
    with pytest.raises(GoalflowError) as foreign:
        org.remove_role(actor=stranger, assignment_id=governor_role.id)
    assert foreign.value.code == "not_found"
    db.session.expire_all()
    assert len(org.conflicting_accounts(world.admin.id)) == 1


def test_the_cli_lists_conflicting_accounts_and_fails_while_any_remain(world, ctx):
    runner = ctx.test_cli_runner()
    clean = runner.invoke(args=["conflicting-roles"])
    assert clean.exit_code == 0, clean.output
    assert "no account" in clean.output

    hand_grant(world.head_b, Role.ADMIN)
    listed = runner.invoke(args=["conflicting-roles"])
    assert listed.exit_code == 1
    assert world.head_b.email in listed.output and "head:АКРРДС" in listed.output and "admin" in listed.output
    assert "1 account(s)" in listed.output


def test_readyz_warns_of_conflicting_accounts_and_stays_ready(world, client, monkeypatch):
    import service.health

    monkeypatch.setattr(service.health, "_broker_ok", lambda: (True, "ok"))
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json["checks"]["separation_of_duties"] == "ok"

    hand_grant(world.sysadmin, Role.CHIEF_SECRETARY)
    hand_grant(world.head_a, Role.ADMIN)
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json["status"] == "ready"
    assert ready.json["checks"]["separation_of_duties"].startswith("warning: accounts hold")
    assert "2" not in ready.json["checks"]["separation_of_duties"], "an anonymous probe learns no count"


def test_start_up_logs_a_warning_for_conflicting_accounts(world, ctx):
    from service.health import warn_of_conflicting_roles

    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = records.append
    log = logging.getLogger("goalflow.duties")
    log.addHandler(handler)
    disabled = log.disabled
    log.disabled = False  # Alembic's fileConfig (another test app's migrations) disables loggers
    try:
        assert warn_of_conflicting_roles(ctx) == 0
        assert records == []
        hand_grant(world.governor, Role.ADMIN)
        assert warn_of_conflicting_roles(ctx) == 1
    finally:
        log.removeHandler(handler)
        log.disabled = disabled
    assert [r.levelno for r in records] == [logging.WARNING]
    assert "1 account(s)" in records[0].getMessage()
