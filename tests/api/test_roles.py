"""Separation of duties in the roles themselves: no deciding role beside the administrator's on
one account, nobody changes their own roles, and every grant of a deciding role is recorded and
emailed to the governor and the chief secretary."""

from __future__ import annotations

from sqlalchemy import select

from service.audit.models import Event as AuditEvent
from service.extensions import db
from service.notifications.models import Notification
from service.org.models import Role


def grants():
    """Grants made by a person (those of the world's set-up are the installation's own)."""
    return db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "deciding_role_granted", AuditEvent.actor_id.is_not(None))
        .order_by(AuditEvent.id)
    ).all()


def grant_mail():
    return db.session.scalars(
        select(Notification).where(Notification.kind == "deciding_role_granted").order_by(Notification.id)
    ).all()


def test_an_administrator_cannot_make_himself_governor(world, as_):
    before = len(grants())
    r = as_("sysadmin").patch(f"/api/v1/users/{world.sysadmin.id}",
                              json={"roles": [{"role": "admin"}, {"role": "governor"}]})
    assert r.status_code == 403 and r.json["code"] == "own_roles"
    r = as_("sysadmin").patch(f"/api/v1/users/{world.sysadmin.id}", json={"roles": [{"role": "observer"}]})
    assert r.status_code == 403 and r.json["code"] == "own_roles"
    db.session.expire_all()
    assert [str(x.role) for x in world.sysadmin.roles] == ["admin"]
    assert len(grants()) == before == 0 and grant_mail() == []
    # The world's own set-up recorded its deciding roles, as the installation's (no actor).
    setup = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "deciding_role_granted")).all()
    assert sorted(e.after["role"] for e in setup) == ["chief_secretary", "deputy_governor", "governor", "head", "head"]


def test_a_deciding_role_and_the_administrator_role_never_share_an_account(world, as_):
    admin = as_("sysadmin")
    for role in ("governor", "deputy_governor", "chief_secretary"):
        r = admin.patch(f"/api/v1/users/{world.observer.id}", json={"roles": [{"role": "admin"}, {"role": role}]})
        assert r.status_code == 422 and r.json["code"] == "roles_conflict", (role, r.json)
    r = admin.patch(f"/api/v1/users/{world.expert_a.id}",
                    json={"roles": [{"role": "admin"}, {"role": "head", "unit_id": world.a.id}]})
    assert r.status_code == 422 and r.json["code"] == "roles_conflict"
    # A head cannot be made an administrator either, nor a new account be created with both.
    r = admin.patch(f"/api/v1/users/{world.head_a.id}",
                    json={"roles": [{"role": "head", "unit_id": world.a.id}, {"role": "admin"}]})
    assert r.status_code == 422
    r = admin.post("/api/v1/users", json={"email": "both@test.bg", "name": "Двама", "password": "dlouhé heslo",
                                          "roles": [{"role": "admin"}, {"role": "governor"}]})
    assert r.status_code == 422 and r.json["code"] == "roles_conflict"
    assert admin.get("/api/v1/users?per_page=100").json["total"] == 9  # nothing half-made
    db.session.expire_all()
    assert [str(x.role) for x in world.head_a.roles] == ["head"]
    # Roles that decide nothing may sit beside the administrator's.
    ok = admin.patch(f"/api/v1/users/{world.observer.id}", json={"roles": [{"role": "admin"}, {"role": "observer"}]})
    assert ok.status_code == 200, ok.json


def test_every_grant_of_a_deciding_role_is_recorded_and_emailed(world, as_):
    r = as_("sysadmin").patch(f"/api/v1/users/{world.expert_b.id}", json={
        "roles": [{"role": "expert", "unit_id": world.b.id}, {"role": "head", "unit_id": world.a.id}]})
    assert r.status_code == 200, r.json
    (event,) = grants()
    assert (event.actor_id, event.subject_id) == (world.sysadmin.id, world.expert_b.id)
    assert event.after["role"] == "head" and event.after["unit"] == "АПОФУС"
    mail = grant_mail()
    assert sorted(n.email for n in mail) == ["governor@test.bg", "secretary@test.bg"]
    body = mail[0].body_text
    assert "Sysadmin даде на Expert B (expert_b@test.bg) ролята „Директор“ в АПОФУС" in body
    assert "Директор – Expert B" in mail[0].subject

    # Keeping a role is no new grant; a role that decides nothing is recorded as a change only.
    as_("sysadmin").patch(f"/api/v1/users/{world.expert_b.id}", json={
        "roles": [{"role": "head", "unit_id": world.a.id}, {"role": "observer"}]})
    assert len(grants()) == 1 and len(grant_mail()) == 2

    # A new account with a deciding role, and a role added on the people page, count as grants too.
    made = as_("sysadmin").post("/api/v1/users", json={
        "email": "deputy2@test.bg", "name": "Втори заместник", "password": "dlouhé heslo",
        "roles": [{"role": "deputy_governor"}]})
    assert made.status_code == 201
    assert [g.after["role"] for g in grants()] == ["head", "deputy_governor"]
    assert len(grant_mail()) == 4


def test_the_rules_hold_below_the_entry_points(world):
    from service.kernel.errors import GoalflowError
    from service.org import service as org

    for call in (
        lambda: org.assign_role(user=world.sysadmin, role=Role.GOVERNOR, unit=None, actor=world.sysadmin),
        lambda: org.assign_role(user=world.governor, role=Role.ADMIN, unit=None),
        lambda: org.create_user(email="x@test.bg", name="X", password="dlouhé heslo", administration=world.admin,
                                roles=[(Role.CHIEF_SECRETARY, None), (Role.ADMIN, None)]),
    ):
        try:
            call()
        except GoalflowError as exc:
            assert exc.code in ("own_roles", "roles_conflict")
        else:
            raise AssertionError("allowed")
    db.session.expire_all()
    assert [str(x.role) for x in world.governor.roles] == ["governor"]
