"""Who may call what: every /api/v1 endpoint of the application's own route list, for every role.

The list of endpoints comes from `app.url_map`, so a new endpoint without a line below fails
`test_every_endpoint_has_expectations`. Each line prepares, for each caller afresh, the object the
call acts on (a goal of directorate A, a request waiting for A's head, ...), calls the endpoint and
compares the status. head_b and expert_b are the other directorate: A's objects are not theirs to
see (404). root is the installation's administrator (no administration of their own).
"""

from __future__ import annotations

import io
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import pytest

from service.extensions import db
from tests.api.conftest import Api

PRINCIPALS = (
    "governor", "deputy", "secretary", "head_a", "head_b", "expert_a", "expert_b", "observer", "sysadmin", "root",
    "anonymous",
)
IN_ADMINISTRATION = PRINCIPALS[:9]


@dataclass
class Case:
    """One call: `prepare(m, who)` returns (path, json body, headers) for that caller."""

    prepare: Callable
    expected: dict[str, int]


def expect(default: int, *, anonymous: int = 401, **overrides: int) -> dict[str, int]:
    result = {p: default for p in PRINCIPALS}
    result["anonymous"] = anonymous
    result.update(overrides)
    return result


def readable(status: int = 200) -> dict[str, int]:
    """Everyone in the administration reads it; the installation's administrator sees no such object."""
    return expect(status, root=404)


def unit_a_readable(status: int = 200) -> dict[str, int]:
    """An object of directorate A: the other directorate does not know it exists."""
    return expect(status, head_b=404, expert_b=404, root=404)


# -- preparing objects ----------------------------------------------------------------------


class Maker:
    """Builds the objects a call needs, in the world of the running test."""

    def __init__(self, world):
        self.w = world
        self.years = itertools.count(2000)  # past years: their quarters have begun
        self.numbers = itertools.count(100)

    def plan(self, state: str = "draft"):
        from service.goals.models import Plan

        plan = Plan(administration_id=self.w.admin.id, year=next(self.years), currency="EUR", state=state)
        db.session.add(plan)
        db.session.commit()
        return plan

    def goal(self, *, state: str = "planned", plan=None, units=None):
        from service.goals.models import Goal, Indicator

        goal = Goal(plan=plan or self.w.plan, number=next(self.numbers), title="Цел", state=state, units=units or [self.w.a])
        goal.indicators = [Indicator(position=0, name="Индикатор", target=1)]
        db.session.add(goal)
        db.session.commit()
        return goal

    def request(self):
        """A request on a fresh goal of directorate A, waiting for A's head."""
        from service.approvals import service as approvals

        goal = self.goal()
        return approvals.request_transition(
            actor=self.w.expert_a, subject_type="goal", subject_id=goal.id, transition="start",
        )

    def report(self, *, submitted: bool = False):
        """A quarterly report of directorate A in a campaign of its own."""
        from service.progress import service as progress

        plan = self.plan("reporting")
        goal = self.goal(state="in_progress", plan=plan)
        campaign = progress.open_campaign(plan_id=plan.id, quarter=1, actor=self.w.secretary)
        report = next(r for r in campaign.reports if r.goal_id == goal.id)
        if submitted:
            progress.submit_report(actor=self.w.expert_a, report_id=report.id, achieved={str(goal.indicators[0].id): "1"})
        return report

    def substitution(self):
        from service.org import service as org

        return org.name_substitute(
            absent=self.w.head_b, substitute=self.w.head_a, starts_on=date.today(),
            ends_on=date.today() + timedelta(days=3), actor=self.w.head_b,
        )

    def email(self, who: str) -> str:
        return "root@test.bg" if who in ("root", "anonymous") else f"{who}@test.bg"


V1 = "/api/v1"


def path(p: str) -> Callable:
    return lambda m, who: (V1 + p.format(w=m.w), None, {})


def with_body(p: str, body: Callable) -> Callable:
    return lambda m, who: (V1 + p.format(w=m.w), body(m, who), {})


def substitute_body(m: Maker, who: str) -> dict:
    w = m.w
    others = {"governor": w.deputy, "deputy": w.governor, "secretary": w.governor}
    body = {"substitute_id": others.get(who, w.secretary).id, "starts_on": str(date.today()),
            "ends_on": str(date.today() + timedelta(days=5))}
    if who == "root":
        body["absent_id"] = w.head_a.id  # the installation's administrator names one for someone else
    return body


def goal_edit(m: Maker, who: str):
    goal = m.goal(plan=m.plan("draft"))
    return f"{V1}/goals/{goal.id}", {"title": "Редакция"}, {"If-Match": f'"{goal.version}"'}


def goal_in_draft(m: Maker, who: str):
    plan = m.plan("draft")
    return f"{V1}/plans/{plan.id}/goals", {"number": 1, "title": "Нова", "unit_ids": [m.w.a.id]}, {}


def plan_submit(m: Maker, who: str):
    plan = m.plan("draft")
    m.goal(plan=plan)
    return f"{V1}/plans/{plan.id}/transitions", {"transition": "submit"}, {}


def goal_start(m: Maker, who: str):
    return f"{V1}/goals/{m.goal().id}/transitions", {"transition": "start"}, {}


def on_request(action: str, body: dict | None = None) -> Callable:
    return lambda m, who: (f"{V1}/approvals/{m.request().id}{action}", body, {})


def on_report(action: str, body: dict | None = None, *, submitted: bool = False) -> Callable:
    def prepare(m: Maker, who: str):
        report = m.report(submitted=submitted)
        payload = body
        if action == "/submit":
            payload = {"achieved": {str(report.goal.indicators[0].id): "1"}}
        return f"{V1}/progress-reports/{report.id}{action}", payload, {}

    return prepare


def campaign(action: str = "") -> Callable:
    return lambda m, who: (f"{V1}/campaigns/{m.report().campaign_id}{action}", None, {})


def revoke_governors_token(m: Maker, who: str):
    from service.auth.service import issue_token

    token, _ = issue_token(user=m.w.governor, name="to revoke")
    return f"{V1}/auth/tokens/{token.id}", None, {}


class Multipart(dict):
    """A form body with a file, instead of JSON."""


def import_report(m: Maker, who: str):
    from service.demo import HASKOVO_REPORT

    m.w.plan.year = 1999  # the document's year (2023) has no plan yet: a dry run answers all its goals
    db.session.commit()
    upload = (io.BytesIO(HASKOVO_REPORT.read_bytes()), HASKOVO_REPORT.name)
    return f"{V1}/plans/import?dry_run=true", Multipart(file=upload), {}


def secretarys_import_job(m: Maker, who: str):
    from service.goals.models import ImportJob

    job = ImportJob(administration_id=m.w.admin.id, actor_id=m.w.secretary.id, filename="plan.docx", status="queued")
    db.session.add(job)
    db.session.commit()
    return f"{V1}/import-jobs/{job.id}", None, {}


def admins(status: int, others: int = 403, **extra: int) -> dict[str, int]:
    return expect(others, sysadmin=status, root=status, **extra)


# Every endpoint: its cases. Statuses not named follow the `expect` default.
MATRIX: dict[str, list[Case]] = {
    # tokens and my account: everyone signed in, for themselves
    "POST /api/v1/auth/tokens": [Case(
        lambda m, who: (f"{V1}/auth/tokens", {"email": m.email("governor" if who == "anonymous" else who),
                                              "password": m.w.password}, {}),
        expect(201, anonymous=201),
    )],
    "GET /api/v1/auth/tokens": [Case(path("/auth/tokens"), expect(200))],
    "DELETE /api/v1/auth/tokens/{token_id}": [Case(revoke_governors_token, expect(404, governor=204))],
    "POST /api/v1/auth/logout": [Case(path("/auth/logout"), expect(204))],
    "GET /api/v1/me": [Case(path("/me"), expect(200))],
    "POST /api/v1/me/password": [Case(
        with_body("/me/password", lambda m, who: {"current_password": m.w.password, "new_password": "a new secret!"}),
        expect(204),
    )],
    # the organisation: read inside, managed by the administrator
    "GET /api/v1/administrations": [Case(path("/administrations"), expect(200))],
    "POST /api/v1/administrations": [Case(
        with_body("/administrations", lambda m, who: {"name": f"Областна администрация {who}", "slug": f"x-{who.replace('_', '-')}"}),
        expect(403, root=201),
    )],
    "GET /api/v1/administrations/{administration_id}": [
        Case(path("/administrations/{w.admin.id}"), expect(200)),
    ],
    "PATCH /api/v1/administrations/{administration_id}": [Case(
        with_body("/administrations/{w.admin.id}", lambda m, who: {"name": "Ново име"}), admins(200),
    )],
    "GET /api/v1/units": [Case(path("/units"), expect(200))],
    "POST /api/v1/units": [Case(
        with_body("/units", lambda m, who: {"code": f"U-{who}", "name": "Отдел", "administration_id": m.w.admin.id}),
        admins(201),
    )],
    "GET /api/v1/units/{unit_id}": [Case(path("/units/{w.b.id}"), expect(200))],
    "PATCH /api/v1/units/{unit_id}": [Case(with_body("/units/{w.b.id}", lambda m, who: {"name": "Дирекция Б"}), admins(200))],
    "GET /api/v1/users": [Case(path("/users"), expect(200))],
    "POST /api/v1/users": [Case(
        with_body("/users", lambda m, who: {
            "email": f"new-{who}@test.bg", "name": "Нов", "password": "long enough", "administration_id": m.w.admin.id,
            "roles": [{"role": "expert", "unit_id": m.w.a.id}],
        }),
        admins(201),
    )],
    "GET /api/v1/users/{user_id}": [Case(path("/users/{w.expert_b.id}"), expect(200))],
    "PATCH /api/v1/users/{user_id}": [Case(with_body("/users/{w.expert_b.id}", lambda m, who: {"name": "Друго име"}), admins(200))],
    "GET /api/v1/substitutes": [Case(path("/substitutes"), expect(200))],
    "POST /api/v1/substitutes": [Case(with_body("/substitutes", substitute_body), expect(201, observer=403))],
    "DELETE /api/v1/substitutes/{substitution_id}": [Case(
        lambda m, who: (f"{V1}/substitutes/{m.substitution().id}", None, {}),
        expect(404, head_b=204, sysadmin=204, root=204, head_a=403),
    )],
    # plans
    "GET /api/v1/plans": [Case(path("/plans"), expect(200))],
    "POST /api/v1/plans": [Case(
        lambda m, who: (f"{V1}/plans", {"year": next(m.years)}, {}), expect(403, secretary=201, sysadmin=201),
    )],
    "GET /api/v1/plans/{plan_id}": [Case(path("/plans/{w.plan.id}"), readable())],
    "GET /api/v1/plans/{plan_id}/goals": [Case(path("/plans/{w.plan.id}/goals"), readable())],
    "POST /api/v1/plans/{plan_id}/goals": [Case(
        goal_in_draft, expect(403, secretary=201, head_a=201, expert_a=201, root=404),
    )],
    "GET /api/v1/plans/{plan_id}/transitions": [Case(path("/plans/{w.plan.id}/transitions"), readable())],
    "POST /api/v1/plans/{plan_id}/transitions": [Case(plan_submit, expect(403, secretary=201, root=404))],
    "POST /api/v1/plans/import": [Case(import_report, expect(403, secretary=200, sysadmin=200))],
    "GET /api/v1/plans/{plan_id}/export": [Case(path("/plans/{w.plan.id}/export?format=csv"), readable())],
    # the governor's signed report (no report submitted in this world: nothing to sign or show yet)
    "GET /api/v1/plans/{plan_id}/report/for-signing": [Case(path("/plans/{w.plan.id}/report/for-signing"),
                                                            readable(409))],
    "POST /api/v1/plans/{plan_id}/report/signature": [Case(with_body("/plans/{w.plan.id}/report/signature",
                                                                     lambda m, who: {}), expect(422))],  # no file
    "GET /api/v1/plans/{plan_id}/report/signature": [Case(path("/plans/{w.plan.id}/report/signature"),
                                                          readable(404))],
    "GET /api/v1/plans/{plan_id}/report/signed.pdf": [Case(path("/plans/{w.plan.id}/report/signed.pdf"),
                                                           readable(404))],
    "GET /api/v1/import-jobs/{job_id}": [Case(secretarys_import_job, expect(404, secretary=200))],  # its starter's
    # goals
    "GET /api/v1/goals": [Case(path("/goals"), expect(200))],
    "GET /api/v1/goals/{goal_id}": [
        Case(path("/goals/{w.g_a.id}"), unit_a_readable()),
        Case(path("/goals/{w.g_b.id}"), expect(200, head_a=404, expert_a=404, root=404)),
    ],
    "PATCH /api/v1/goals/{goal_id}": [Case(
        goal_edit, expect(403, secretary=200, head_a=200, expert_a=200, head_b=404, expert_b=404, root=404),
    )],
    "GET /api/v1/goals/{goal_id}/transitions": [Case(path("/goals/{w.g_a.id}/transitions"), unit_a_readable())],
    "POST /api/v1/goals/{goal_id}/transitions": [Case(
        goal_start,
        expect(403, governor=201, secretary=201, head_a=201, expert_a=201, head_b=404, expert_b=404, root=404),
    )],
    "GET /api/v1/goals/{goal_id}/events": [Case(path("/goals/{w.g_a.id}/events"), unit_a_readable())],
    # approvals: only the head of the goal's unit decides its start
    "GET /api/v1/approvals": [Case(path("/approvals?status=pending&mine=true"), expect(200))],
    "GET /api/v1/approvals/{request_id}": [Case(on_request(""), unit_a_readable())],
    "POST /api/v1/approvals/{request_id}/approve": [Case(
        on_request("/approve", {}), expect(403, head_a=200, head_b=404, expert_b=404, root=404),
    )],
    "POST /api/v1/approvals/{request_id}/reject": [Case(
        on_request("/reject", {"comment": "Не"}), expect(403, head_a=200, head_b=404, expert_b=404, root=404),
    )],
    "POST /api/v1/approvals/{request_id}/withdraw": [Case(
        on_request("/withdraw", {}), expect(403, expert_a=200, head_b=404, expert_b=404, root=404),
    )],
    # quarterly progress
    "GET /api/v1/campaigns": [Case(path("/campaigns"), expect(200))],
    "POST /api/v1/campaigns": [Case(
        lambda m, who: (f"{V1}/campaigns", {"plan_id": m.plan("reporting").id, "quarter": 1}, {}),
        expect(403, secretary=201, root=404),
    )],
    "GET /api/v1/campaigns/{campaign_id}": [Case(campaign(), readable())],
    "POST /api/v1/campaigns/{campaign_id}/close": [Case(campaign("/close"), expect(403, secretary=200, root=404))],
    "GET /api/v1/progress-reports": [Case(path("/progress-reports"), expect(200))],
    "GET /api/v1/progress-reports/{report_id}": [Case(on_report(""), unit_a_readable())],
    "POST /api/v1/progress-reports/{report_id}/submit": [Case(
        on_report("/submit"), expect(403, expert_a=200, head_a=200, head_b=404, expert_b=404, root=404),
    )],
    "POST /api/v1/progress-reports/{report_id}/accept": [Case(
        on_report("/accept", {}, submitted=True), expect(403, head_a=200, head_b=404, expert_b=404, root=404),
    )],
    "POST /api/v1/progress-reports/{report_id}/return": [Case(
        on_report("/return", {"reason": "Още"}, submitted=True), expect(403, head_a=200, head_b=404, expert_b=404, root=404),
    )],
}

RULE_VARIABLE = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


def api_endpoints(app) -> set[str]:
    """'METHOD /path/{var}' for every rule under /api/v1, as the application routes them."""
    found = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            found.add(method + " " + RULE_VARIABLE.sub(r"{\1}", rule.rule))
    return found


def test_every_endpoint_has_expectations(app):
    routed = api_endpoints(app)
    assert routed - MATRIX.keys() == set(), "endpoints with no line in MATRIX"
    assert MATRIX.keys() - routed == set(), "lines in MATRIX for endpoints that do not exist"


@pytest.fixture
def callers(world, tokens, client) -> dict[str, Api]:
    from service.auth.service import issue_token
    from service.org import service as org
    from service.org.models import Role

    root = org.create_user(email="root@test.bg", name="Root", password=world.password, administration=None,
                           roles=[(Role.ADMIN, None)])
    result = {who: Api(client, getattr(tokens, who)) for who in IN_ADMINISTRATION}
    result["root"] = Api(client, issue_token(user=root)[1])
    result["anonymous"] = Api(client, None)
    return result


@pytest.mark.parametrize("endpoint", sorted(MATRIX))
def test_endpoint_for_every_role(endpoint, world, callers):
    method = endpoint.split(" ", 1)[0]
    maker = Maker(world)
    wrong = []
    for number, case in enumerate(MATRIX[endpoint]):
        assert set(case.expected) == set(PRINCIPALS)
        for who in PRINCIPALS:
            url, body, headers = case.prepare(maker, who)
            if isinstance(body, Multipart):
                response = callers[who](method, url, data=dict(body), headers=headers, content_type="multipart/form-data")
            else:
                response = callers[who](method, url, json=body, headers=headers)
            if response.status_code != case.expected[who]:
                wrong.append(f"case {number}, {who}: {response.status_code} (expected {case.expected[who]}) "
                             f"{(response.get_json(silent=True) or {}).get('code', '')}")
            if response.status_code >= 400:
                assert response.mimetype == "application/problem+json", (who, response.data[:200])
    assert not wrong, f"{endpoint}:\n" + "\n".join(wrong)
