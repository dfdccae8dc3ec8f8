"""The production shape, running: docker-compose.yml's processes natively (deploy/prod_local.py)
against the local PostgreSQL and Redis, two gunicorn workers, two Celery workers, one beat and
an SMTP sink. A goal is completed over the HTTP API through its approval chain, and the emails
arrive, each exactly once."""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter

import psycopg
import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families

from deploy.prod_local import Child, ProdLocal
from tests.conftest import PG_ADMIN_URL, pg_answers, service_missing

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")
PASSWORD = "e2e correct horse battery"
# Run as `docker compose run --rm migrate python -c ...` would: the app from the environment.
SETUP = """
import json, sys
from datetime import date
from service.app import create_app
app = create_app()
with app.app_context():
    from service.extensions import db
    from service.goals.models import Activity, Goal, Indicator, Plan
    from service.org import service as org
    from service.org.models import Role
    admin = org.create_administration(name="Областна администрация Хасково", slug="haskovo")
    unit = org.create_unit(administration=admin, code="АПОФУС", name="Дирекция АПОФУС")
    people = {}
    for key, role, in_unit in (("expert", Role.EXPERT, True), ("head", Role.HEAD, True), ("governor", Role.GOVERNOR, False)):
        user = org.create_user(email=f"{key}@haskovo.bg", name=key.title(), password=sys.argv[1],
                               administration=admin, roles=[(role, unit if in_unit else None)])
        people[key] = user.email
    plan = Plan(administration_id=admin.id, year=2023, currency="BGN", state="reporting")
    goal = Goal(plan=plan, number=1, title="Цифровизация на услугите", state="in_progress", units=[unit])
    goal.indicators = [Indicator(position=0, name="Електронни услуги", target=10, target_text="10", baseline_text="2")]
    goal.activities = [Activity(position=0, title="Внедряване", deadline=date(2023, 12, 31))]
    db.session.add_all([plan, goal])
    db.session.commit()
    print(json.dumps({"goal": goal.id, "indicator": goal.indicators[0].id, "people": people}))
"""


def redis_answers() -> bool:
    try:
        return redis.Redis.from_url(REDIS_URL, socket_timeout=3).ping()
    except redis.RedisError:
        return False


@pytest.fixture(scope="module")
def prod(tmp_path_factory):
    if not pg_answers():
        service_missing("PostgreSQL at " + PG_ADMIN_URL)
    if not redis_answers():
        service_missing("Redis at " + REDIS_URL)
    with ProdLocal(pg_admin_url=PG_ADMIN_URL, redis_url=REDIS_URL, redis_db=13,
                   run_dir=tmp_path_factory.mktemp("prod-local")) as running:
        yield running


def call(prod: ProdLocal, method: str, path: str, body: dict | None = None, *, token: str | None = None,
         request_id: str | None = None) -> tuple[int, dict, dict]:
    headers = {"Accept": "application/json"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if request_id:
        headers["X-Request-ID"] = request_id
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(prod.base_url + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            raw, status, response_headers = response.read(), response.status, dict(response.headers)
    except urllib.error.HTTPError as exc:
        raw, status, response_headers = exc.read(), exc.code, dict(exc.headers)
    return status, (json.loads(raw) if raw.strip().startswith(b"{") else {"raw": raw.decode()}), response_headers


def scrape(url: str, token: str | None = None) -> dict[tuple[str, tuple], float]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as response:
        text = response.read().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def outbox(prod: ProdLocal) -> dict[str, int]:
    with psycopg.connect(PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + prod.database) as conn:
        return dict(conn.execute("SELECT status, count(*) FROM notifications GROUP BY status").fetchall())


def test_a_goal_is_completed_through_its_approvals_and_everyone_is_told(prod):
    made = prod.run(["python", "-c", SETUP, PASSWORD])
    assert made.returncode == 0, made.stderr
    world = json.loads(made.stdout.strip().splitlines()[-1])
    tokens = {}
    for key, email in world["people"].items():
        status, body, _ = call(prod, "POST", "/api/v1/auth/tokens", {"email": email, "password": PASSWORD})
        assert status == 201, body
        tokens[key] = body["token"]

    trace = f"e2e-{uuid.uuid4().hex[:12]}"
    status, request, headers = call(
        prod, "POST", f"/api/v1/goals/{world['goal']}/transitions",
        {"transition": "complete", "reason": "Всички услуги са електронни",
         "achieved": {str(world["indicator"]): "12"}},
        token=tokens["expert"], request_id=trace,
    )
    assert status == 201, request
    assert headers["X-Request-ID"] == trace
    status, body, _ = call(prod, "POST", f"/api/v1/approvals/{request['id']}/approve", {}, token=tokens["head"])
    assert status == 200, body
    status, body, _ = call(prod, "POST", f"/api/v1/approvals/{request['id']}/approve", {"comment": "Одобрявам"},
                           token=tokens["governor"])
    assert status == 200 and body["status"] == "approved", body
    status, goal, _ = call(prod, "GET", f"/api/v1/goals/{world['goal']}", token=tokens["expert"])
    assert status == 200 and goal["state"] == "done", goal
    # Deciding twice (a second click, a second process) changes nothing.
    status, body, _ = call(prod, "POST", f"/api/v1/approvals/{request['id']}/approve", {}, token=tokens["governor"])
    assert status == 409, body

    # The workers deliver the outbox; two of them never send one message twice.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        rows = outbox(prod)
        if rows and set(rows) == {"sent"} and len(prod.sink.messages) >= rows["sent"]:
            break
        time.sleep(0.5)
    rows = outbox(prod)
    assert set(rows) == {"sent"}, rows
    time.sleep(1)  # a duplicate, if any, would arrive now
    messages = prod.sink.messages
    assert len(messages) == rows["sent"]
    assert len({m["Message-ID"] for m in messages}) == len(messages)
    to = Counter(m["To"].addresses[0].addr_spec for m in messages)
    people = world["people"]
    assert to[people["head"]] >= 1 and to[people["governor"]] >= 1  # asked to approve, one stage each
    assert to[people["expert"]] >= 1  # told of the outcome
    for message in messages:
        body = message.get_body(("plain",)).get_content()
        assert "https://goalflow.localhost/" in body  # links use BASE_URL from the environment
        assert message["Subject"]

    # Metrics: the web processes' counters, the database's outbox, the workers' deliveries.
    web = scrape(prod.base_url + "/metrics", prod.dotenv["METRICS_TOKEN"])
    assert web[("goalflow_transitions_applied_total", (("subject_type", "goal"), ("transition", "complete")))] == 1
    assert web[("goalflow_outbox_backlog", ())] == 0
    assert web[("goalflow_outbox_messages", (("status", "sent"),))] == len(messages)
    asked = [value for (name, labels), value in web.items()
             if name == "goalflow_http_requests_total" and dict(labels)["endpoint"].startswith("/api/v1/goals/")
             and dict(labels)["endpoint"].endswith("/transitions") and dict(labels)["status"] == "201"]
    assert asked == [1]  # counted once, whichever of the two gunicorn workers answered
    delivered = sum(
        scrape(f"http://127.0.0.1:{w.extra['metrics_port']}/metrics").get(
            ("goalflow_notifications_total", (("outcome", "sent"),)), 0)
        for w in prod.children if w.name.startswith("worker")
    )
    assert delivered == len(messages)

    # Logs are JSON lines; the request's line carries its id.
    lines = [json.loads(line) for line in prod.child("web").log_text().splitlines() if line.strip()]
    ours = [line for line in lines if line.get("request_id") == trace]
    assert any(line.get("status") == 201 and line.get("logger") == "goalflow.request" for line in ours), ours

    # The audit chain written by those processes is intact.
    audit = prod.flask("verify-audit")
    assert audit.returncode == 0 and "intact" in audit.stdout, audit.stderr


def test_health_and_a_second_beat_that_must_wait(prod):
    status, body, _ = call(prod, "GET", "/readyz")
    assert status == 200 and body["checks"] == {"database": "ok", "broker": "ok", "separation_of_duties": "ok"}

    # Exactly one beat: a second one (started by mistake) waits for RedBeat's lock in Redis.
    spec = prod.spec("beat")
    second = Child("beat2", spec.command, prod.environment(spec, _instance="beat2"), prod.run_dir / "logs" / "beat2.log")
    second.start()
    try:
        deadline = time.monotonic() + 45
        while "beat: Starting" not in second.log_text() and time.monotonic() < deadline:
            assert second.alive(), second.log_text()
            time.sleep(0.3)
        assert "beat: Starting" in second.log_text()
        time.sleep(2)  # time enough to take a free lock; this one is held
        assert second.alive() and "Acquired lock" not in second.log_text()
        assert "beat: Acquired lock" in prod.child("beat").log_text()
        lock = redis.Redis.from_url(prod.redis_db_url).get("redbeat::lock")
        assert lock is not None
    finally:
        second.stop(timeout=10)
