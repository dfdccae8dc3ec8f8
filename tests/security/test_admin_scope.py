"""An administrator works on their own administration only.

Two administrations side by side, each with its people, units, substitutes, a campaign, emails in
the outbox (one failed) and its audit chain. The administrator of the first walks every
administration page and every API endpoint, with the second administration's ids wherever an id
is taken, and neither sees (no address of the second appears in any answer) nor changes anything
of the second. A last check makes sure the walk covered every page and endpoint the app has.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from flask import request_finished
from sqlalchemy import func, select, update

from service.approvals import service as approvals
from service.audit.models import Event
from service.auth.service import issue_token
from service.extensions import db
from service.goals.models import ImportJob
from service.kernel.errors import GoalflowError
from service.notifications import service as outbox
from service.notifications.models import FAILED, Notification
from service.org import service as org
from service.org.models import Substitution, Unit, User
from service.progress import service as progress
from tests.security.conftest import csrf_of, sign_in

THEIRS = "@two.bg"  # every address of the second administration ends so


@pytest.fixture
def scene(two):
    one, other = two
    for w in (one, other):
        w.substitution = org.name_substitute(
            absent=w.head_a, substitute=w.head_b, starts_on=date.today(), ends_on=date.today() + timedelta(days=5),
            actor=w.sysadmin,
        )  # queues an email to head_b
        w.campaign = progress.open_campaign(plan_id=w.plan.id, quarter=1)  # queues emails to the units
        w.request = approvals.request_transition(
            actor=w.expert_a, subject_type="goal", subject_id=w.g_a.id, transition="drop", reason="no funds",
        )  # queues emails to the heads
    failed = db.session.scalars(select(Notification).where(Notification.email.like(f"%{THEIRS}"))).first()
    failed.status, failed.last_error = FAILED, "550 mailbox unavailable"
    other.failed_id, other.message_id = failed.id, failed.id
    other.message_ids = db.session.scalars(select(Notification.id).where(Notification.email.like(f"%{THEIRS}"))).all()
    other.job = ImportJob(administration_id=other.admin.id, actor_id=other.secretary.id, filename="plan.docx",
                          status="done", result={"created": 1})
    db.session.add(other.job)
    db.session.commit()
    one.token = issue_token(user=one.sysadmin, name="scope")[1]
    return one, other


@pytest.fixture
def walked(app):
    """(method, rule) of every request answered while the test runs."""
    seen: set[tuple[str, str]] = set()

    def note(sender, response, **_):
        from flask import request

        if request.url_rule is not None:
            seen.add((request.method, request.url_rule.rule))

    request_finished.connect(note, app)
    yield seen
    request_finished.disconnect(note, app)


def unchanged(other) -> dict:
    """What the second administration holds, to compare before and after the walk."""
    db.session.expire_all()
    return {
        "users": sorted((u.email, u.name, u.active, u.locale, tuple(sorted(str(r.role) for r in u.roles)))
                        for u in db.session.scalars(select(User).where(User.administration_id == other.admin.id))),
        "units": sorted((u.code, u.name, u.kind, u.parent_id)
                        for u in db.session.scalars(select(Unit).where(Unit.administration_id == other.admin.id))),
        "substitutions": sorted((s.id, s.cancelled) for s in db.session.scalars(
            select(Substitution).where(Substitution.absent_id == other.head_a.id))),
        "outbox": sorted(db.session.execute(select(Notification.id, Notification.status, Notification.attempts)
                                            .where(Notification.id.in_(other.message_ids))).all()),
        "campaign": db.session.get(type(other.campaign), other.campaign.id).status,
        "request": db.session.get(type(other.request), other.request.id).status,
        "goal": (other.g_a.title, other.g_a.state),
        "names": (other.admin.name, other.admin.official_name, other.admin.mail_from_name,
                  other.admin.mail_from_address),
        "signing_identities": sorted((u.id, u.signing_identity or "") for u in db.session.scalars(
            select(User).where(User.administration_id == other.admin.id))),
        "plan": (other.plan.state, len(other.plan.goals)),
        "administration": db.session.get(type(other.admin), other.admin.id).name,
        "events": db.session.scalar(select(func.count()).select_from(Event).where(Event.chain_id == other.admin.id)),
    }


def blind(answer, what: str) -> None:
    """Nothing of the second administration in this answer."""
    assert answer.status_code < 500, f"{what}: {answer.status_code}"
    assert THEIRS not in answer.get_data(as_text=True), f"{what} shows the other administration's people"


def refused(answer, what: str) -> None:
    assert answer.status_code in (403, 404, 422), f"{what}: {answer.status_code} {answer.get_data(as_text=True)[:200]}"
    blind(answer, what)


def test_pages_show_and_change_nothing_of_another_administration(client, scene, walked):
    one, other = scene
    before = unchanged(other)
    sign_in(client, one.sysadmin, one.password)
    page = client.get("/admin")
    csrf = csrf_of(page.text)

    def post(path, **data):
        return client.post(path, data={"csrf_token": csrf, **data})

    blind(page, "people and units")
    assert "@one.bg" in page.text
    blind(client.get("/admin/substitutes"), "substitutes")
    for status in ("", "pending", "sent", "failed"):
        listing = client.get(f"/admin/outbox?status={status}")
        blind(listing, f"outbox {status!r}")
        assert "@one.bg" in listing.text or status in ("sent", "failed")
    assert "550 mailbox unavailable" not in client.get("/admin/outbox?status=failed").text
    for message_id in other.message_ids:
        refused(client.get(f"/admin/outbox/{message_id}"), f"message {message_id}")
    mine = db.session.scalars(select(Notification.id).where(Notification.email.like("%@one.bg"))).first()
    assert client.get(f"/admin/outbox/{mine}").status_code == 200, "my own messages stay readable"
    retried = post("/admin/outbox/retry")
    assert retried.status_code == 302

    # the second chain is broken; my check is about mine
    db.session.execute(update(Event).where(Event.chain_id == other.admin.id, Event.seq == 2).values(reason="forged"))
    db.session.commit()
    check = client.get("/admin/audit?check=1")
    blind(check, "audit check")
    assert 'data-ok="yes"' in check.text, "my chain is intact; the other one's is not mine to check"
    assert client.get("/admin/audit").status_code == 200

    refused(post("/admin/users", email="new@one.bg", name="New", password="long enough 1", role="head",
                 unit_id=str(other.a.id)), "a person in another administration's unit")
    refused(post("/admin/roles", user_id=str(other.expert_a.id), role="observer"), "a role for another's person")
    refused(post("/admin/roles", user_id=str(one.expert_a.id), role="head", unit_id=str(other.a.id)),
            "a role in another's unit")
    for what in ("disable", "enable"):
        refused(post(f"/admin/users/{other.expert_a.id}/{what}"), f"{what} another's person")
    refused(post(f"/admin/roles/{other.expert_a.roles[0].id}/remove"), "remove a role of another's person")
    refused(post("/admin/units", code="X", name="Отдел X", kind="department", parent_id=str(other.a.id)),
            "a unit under another's unit")
    refused(post("/admin/substitutes", absent_id=str(other.head_a.id), substitute_id=str(other.head_b.id),
                 starts_on="01.01.2030", ends_on="02.01.2030"), "a substitute for another's person")
    refused(post("/admin/substitutes", absent_id=str(one.head_a.id), substitute_id=str(other.head_b.id),
                 starts_on="01.01.2030", ends_on="02.01.2030"), "another's person as my substitute")
    refused(post(f"/admin/substitutes/{other.substitution.id}/cancel"), "cancel another's substitution")
    refused(post(f"/admin/people/{other.governor.id}/signing-identity", signing_identity="PNOBG-8001010000"),
            "the signing identity of another's governor")
    blind(post("/admin/sender", mail_from_name="Едно", mail_from_address="noreply@one.bg"), "my own sender")
    blind(post("/admin/administration", name="Едно", official_name="Областна администрация на област Едно"),
          "my own administration's names")

    refused(client.get(f"/progress/campaigns/{other.campaign.id}"), "another's campaign board")
    refused(post("/progress/campaigns", plan_id=str(other.plan.id), quarter="2"), "open another's campaign")
    refused(client.get(f"/plans/{other.plan.id}"), "another's plan")
    refused(client.get(f"/goals/{other.g_a.id}"), "another's goal")

    assert unchanged(other) == before, "the other administration is untouched"
    db.session.expire_all()
    assert db.session.get(Notification, other.failed_id).status == FAILED, "retry left another's failed email alone"


def test_api_shows_and_changes_nothing_of_another_administration(client, scene, walked):
    one, other = scene
    before = unchanged(other)
    auth = {"Authorization": f"Bearer {one.token}"}

    def call(method, path, body=None):
        return client.open(path, method=method, headers={**auth, "If-Match": "*"}, json=body)

    for path in ("/api/v1/administrations", "/api/v1/units", f"/api/v1/units?administration_id={other.admin.id}",
                 "/api/v1/users", "/api/v1/substitutes", "/api/v1/campaigns", "/api/v1/progress-reports",
                 "/api/v1/plans", "/api/v1/goals", "/api/v1/approvals", "/api/v1/me", "/api/v1/auth/tokens"):
        answer = call("GET", path)
        assert answer.status_code == 200, path
        blind(answer, path)
        ids = {item.get("id") for item in _items(answer.json)}
        assert not ids & _their_ids(other, path), f"{path} lists the other administration's objects"

    refused(call("POST", "/api/v1/administrations", {"name": "Трета"}), "a new administration")
    refused(call("GET", f"/api/v1/administrations/{other.admin.id}"), "another administration")
    refused(call("PATCH", f"/api/v1/administrations/{other.admin.id}", {"name": "Превзета"}), "rename another")
    refused(call("POST", "/api/v1/units", {"administration_id": other.admin.id, "code": "X", "name": "X",
                                           "kind": "directorate"}), "a unit in another administration")
    refused(call("POST", "/api/v1/units", {"code": "X", "name": "X", "kind": "department",
                                           "parent_id": other.a.id}), "a unit under another's unit")
    refused(call("GET", f"/api/v1/units/{other.a.id}"), "another's unit")
    refused(call("PATCH", f"/api/v1/units/{other.a.id}", {"name": "Превзета"}), "rename another's unit")
    refused(call("PATCH", f"/api/v1/units/{one.a.id}", {"parent_id": other.a.id}), "my unit under another's")
    refused(call("POST", "/api/v1/users", {"administration_id": other.admin.id, "email": "x@x.bg", "name": "X",
                                           "password": "long enough 1", "roles": []}), "a person in another")
    refused(call("POST", "/api/v1/users", {"email": "y@one.bg", "name": "Y", "password": "long enough 1",
                                           "roles": [{"role": "head", "unit_id": other.a.id}]}),
            "a person heading another's unit")
    refused(call("GET", f"/api/v1/users/{other.expert_a.id}"), "another's person")
    refused(call("PATCH", f"/api/v1/users/{other.expert_a.id}", {"active": False}), "disable another's person")
    refused(call("PATCH", f"/api/v1/users/{one.expert_a.id}", {"roles": [{"role": "head", "unit_id": other.a.id}]}),
            "my person heading another's unit")
    refused(call("POST", "/api/v1/substitutes", {"absent_id": other.head_a.id, "substitute_id": other.head_b.id,
                                                 "starts_on": "2030-01-01", "ends_on": "2030-01-02"}),
            "a substitute for another's person")
    refused(call("DELETE", f"/api/v1/substitutes/{other.substitution.id}"), "cancel another's substitution")
    refused(call("GET", f"/api/v1/campaigns/{other.campaign.id}"), "another's campaign")
    refused(call("POST", "/api/v1/campaigns", {"plan_id": other.plan.id, "quarter": 2}), "open another's campaign")
    refused(call("POST", f"/api/v1/campaigns/{other.campaign.id}/close"), "close another's campaign")
    report = other.campaign.reports[0]
    refused(call("GET", f"/api/v1/progress-reports/{report.id}"), "another's progress report")
    for action in ("submit", "accept", "return"):
        refused(call("POST", f"/api/v1/progress-reports/{report.id}/{action}",
                     {"achieved": {}, "narrative": "", "reason": "x", "comment": ""}), f"{action} another's report")
    refused(call("GET", f"/api/v1/plans/{other.plan.id}"), "another's plan")
    refused(call("GET", f"/api/v1/plans/{other.plan.id}/export?format=csv"), "export another's plan")
    refused(call("GET", f"/api/v1/import-jobs/{other.job.id}"), "another's import")
    refused(call("POST", f"/api/v1/plans/{other.plan.id}/goals", {"title": "x"}), "a goal in another's plan")
    refused(call("POST", f"/api/v1/plans/{other.plan.id}/transitions", {"transition": "submit_report"}),
            "move another's plan")
    refused(call("GET", f"/api/v1/plans/{other.plan.id}/goals"), "another's plan's goals")
    refused(call("GET", f"/api/v1/plans/{other.plan.id}/transitions"), "another's plan's transitions")
    refused(call("GET", f"/api/v1/goals/{other.g_a.id}"), "another's goal")
    refused(call("GET", f"/api/v1/goals/{other.g_a.id}/events"), "another's goal's timeline")
    refused(call("GET", f"/api/v1/goals/{other.g_a.id}/transitions"), "another's goal's transitions")
    refused(call("POST", f"/api/v1/goals/{other.g_b.id}/transitions", {"transition": "start"}), "move another's goal")
    refused(call("GET", f"/api/v1/approvals/{other.request.id}"), "another's request")
    for action in ("approve", "reject", "withdraw"):
        refused(call("POST", f"/api/v1/approvals/{other.request.id}/{action}", {"comment": "x"}),
                f"{action} another's request")
    refused(call("PATCH", f"/api/v1/goals/{other.g_a.id}", {"title": "x"}), "edit another's goal")
    for path in ("for-signing", "signature", "signed.pdf"):
        refused(call("GET", f"/api/v1/plans/{other.plan.id}/report/{path}"), f"another's report {path}")
    refused(call("POST", f"/api/v1/plans/{other.plan.id}/report/signature"), "sign another's report")
    assert unchanged(other) == before, "the other administration is untouched"


def test_the_outbox_service_counts_and_acts_within_the_administration(scene):
    one, other = scene
    mine = db.session.scalar(select(func.count()).select_from(Notification).where(Notification.email.like("%@one.bg")))
    listing = outbox.list_outbox(actor=one.sysadmin, per_page=100)
    assert listing.total == mine == sum(listing.counts.values()) and listing.counts[FAILED] == 0
    assert all(n.email.endswith("@one.bg") for n in listing.items)
    assert outbox.retry_failed(ids=[other.failed_id], actor=one.sysadmin) == 0
    with pytest.raises(GoalflowError) as refused_read:
        outbox.read_message(other.failed_id, actor=one.sysadmin)
    assert refused_read.value.code == "not_found"
    with pytest.raises(GoalflowError) as not_admin:
        outbox.list_outbox(actor=one.secretary)
    assert not_admin.value.code == "forbidden"
    everyone = outbox.list_outbox(per_page=100)  # the operator at the command line: the whole installation
    assert everyone.total > listing.total and everyone.counts[FAILED] == 1
    assert outbox.retry_failed(ids=[other.failed_id], actor=other.sysadmin) == 1


def _items(body) -> list[dict]:
    if isinstance(body, list):
        return [b for b in body if isinstance(b, dict)]
    if isinstance(body, dict) and isinstance(body.get("items"), list):
        return [b for b in body["items"] if isinstance(b, dict)]
    return [body] if isinstance(body, dict) else []


def _their_ids(other, path: str) -> set[int]:
    kind = path.split("?")[0].rsplit("/", 1)[-1]
    ids = {
        "administrations": {other.admin.id},
        "units": {other.a.id, other.b.id},
        "users": {u.id for u in db.session.scalars(select(User).where(User.administration_id == other.admin.id))},
        "substitutes": {other.substitution.id},
        "campaigns": {other.campaign.id},
        "progress-reports": {r.id for r in other.campaign.reports},
        "plans": {other.plan.id},
        "goals": {other.g_a.id, other.g_ab.id, other.g_b.id},
    }
    return ids.get(kind, set())


def test_the_walk_covers_every_administration_page_and_endpoint(app, client, scene, walked):
    """Run both walks and compare what they reached with what the app serves: a new page or
    endpoint must join the walk above."""
    test_pages_show_and_change_nothing_of_another_administration(client, scene, walked)
    client.post("/logout", data={"csrf_token": csrf_of(client.get("/account").text)})
    test_api_shows_and_changes_nothing_of_another_administration(client, scene, walked)
    served = {
        (method, rule.rule) for rule in app.url_map.iter_rules() for method in rule.methods - {"HEAD", "OPTIONS"}
        if rule.rule.startswith("/admin") or (rule.rule.startswith("/api/v1/") and not _outside(rule.rule, method))
    }
    assert served - walked == set(), json.dumps(sorted(served - walked), ensure_ascii=False)


def _outside(rule: str, method: str) -> bool:
    """Endpoints about the caller alone (their sign-in, tokens, password) or no object at all."""
    return rule.startswith(("/api/v1/auth", "/api/v1/me", "/api/v1/health", "/api/v1/openapi")) or (
        rule, method) in {("/api/v1/plans/import", "POST"), ("/api/v1/plans", "POST")}
