"""The production shape under faults of the scheduler and of its processes: docker-compose.yml's
processes run natively (deploy/prod_local.py) against a redis-server of this module's own (on a
free port, so that it can be stopped) and the local PostgreSQL, with short scheduler timings.

- Redis stopped under a running beat: beat stays up and schedules again when Redis is back.
- A beat killed with SIGKILL: a standby takes over within BEAT_LOCK_TIMEOUT + BEAT_MAX_INTERVAL,
  and /healthz/scheduler and the heartbeat metric show the gap.
- A child of prod-local killed: the supervisor starts it again, the rest runs on.
The tests run in this order and share the processes.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
import urllib.error
import urllib.request

import psycopg
import pytest

from deploy.prod_local import Child, ProdLocal, http_status
from tests.conftest import PG_ADMIN_URL, pg_answers, service_missing
from tests.worker.processes import RedisServer, wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

LOCK_TIMEOUT, MAX_INTERVAL, STALE = 5, 1, 2
FAST = {
    "BEAT_LOCK_TIMEOUT_SECONDS": str(LOCK_TIMEOUT), "BEAT_MAX_INTERVAL_SECONDS": str(MAX_INTERVAL),
    "SCHEDULER_STALE_SECONDS": str(STALE), "OUTBOX_INTERVAL_SECONDS": "1", "OUTBOX_KICK": "false",
    "WEB_CONCURRENCY": "1",
}
TAKEOVER_BOUND = LOCK_TIMEOUT + MAX_INTERVAL + 3  # seconds; the slack is for a loaded machine


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory):
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def prod(tmp_path_factory, redis_server):
    if not pg_answers():
        service_missing("PostgreSQL at " + PG_ADMIN_URL)
    with ProdLocal(pg_admin_url=PG_ADMIN_URL, redis_url=f"redis://127.0.0.1:{redis_server.port}", redis_db=5,
                   workers=1, run_dir=tmp_path_factory.mktemp("prod-local"), dotenv=FAST) as running:
        yield running


def scheduler(prod: ProdLocal) -> tuple[int | None, dict]:
    try:
        with urllib.request.urlopen(prod.base_url + "/healthz/scheduler", timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        return exc.code, json.loads(raw) if raw.startswith(b"{") else {}
    except OSError:
        return None, {}


def heartbeat_age(prod: ProdLocal) -> float | None:
    scrape = urllib.request.Request(prod.base_url + "/metrics",  # production's metrics need their token
                                    headers={"Authorization": f"Bearer {prod.dotenv['METRICS_TOKEN']}"})
    with urllib.request.urlopen(scrape, timeout=5) as response:
        for line in response.read().decode().splitlines():
            if line.startswith("goalflow_scheduler_heartbeat_age_seconds "):
                return float(line.split()[1])
    return None


def queue_directly(prod: ProdLocal, key: str) -> None:
    """One due message written straight into the outbox, as a commit would (no nudge)."""
    with psycopg.connect(PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + prod.database, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO notifications (key, kind, email, locale, subject, body_text, body_html, link, subject_type,"
            " status, attempts, last_error, next_attempt_at, created_at, message_id) VALUES (%s, 'goal_state_changed',"
            " 'someone@test.bg', 'bg', %s, 'text', '<p>html</p>', '', 'goal', 'pending', 0, '',"
            " now() at time zone 'utc', now() at time zone 'utc', '')",
            (key, key),
        )


def kill(child: Child) -> None:
    os.killpg(child.process.pid, signal.SIGKILL)
    child.process.wait(10)


def test_beat_rides_out_a_redis_outage_and_schedules_again(prod, redis_server):
    beat = prod.child("beat")
    redis_server.stop()
    try:
        time.sleep(LOCK_TIMEOUT + 1)  # longer than the lock lives
        assert beat.alive(), beat.log_text()[-3000:]
        status, body = scheduler(prod)
        assert status == 503 and body["status"] == "unknown", body  # Redis down: the heartbeat cannot be read
        queue_directly(prod, "during-the-outage")  # only beat can have it delivered: no nudge
    finally:
        redis_server.start()  # the same port, without the data it had
    back = time.monotonic()
    wait_until(lambda: any(m["Subject"] == "during-the-outage" for m in prod.sink.messages), 40, 0.2,
               "the message queued during the outage to be delivered")
    print(f"\nafter a {LOCK_TIMEOUT + 1} s Redis outage: mail delivered {time.monotonic() - back:.1f} s after Redis was back")
    wait_until(lambda: scheduler(prod)[0] == 200, 20, 0.2, "the heartbeat to be renewed")
    assert beat.alive() and beat.restarts == 0
    log = beat.log_text()
    assert "Redis unavailable" in log and "Traceback" not in log.split("Redis unavailable", 1)[1]


def test_a_killed_beat_is_taken_over_by_a_standby_within_the_bound(prod):
    spec = prod.spec("beat")
    standby = Child("beat-standby", spec.command, prod.environment(spec, _instance="beat-standby"),
                    prod.run_dir / "logs" / "beat-standby.log")
    standby.start()
    try:
        wait_until(lambda: "beat: Starting" in standby.log_text(), 60, 0.2, "the standby beat to start")
        time.sleep(MAX_INTERVAL + 1)
        assert "Acquired lock" not in standby.log_text()  # it waits: the lock is held

        kill(prod.child("beat"))
        killed = time.monotonic()
        ages, statuses = [], set()

        def taken_over() -> bool:
            statuses.add(scheduler(prod)[0])
            ages.append(heartbeat_age(prod) or 0.0)
            return "beat: Acquired lock" in standby.log_text()

        wait_until(taken_over, TAKEOVER_BOUND + 5, 0.25, "the standby to take over")
        takeover = time.monotonic() - killed
        print(f"\ntakeover by the standby {takeover:.1f} s after the SIGKILL (lock {LOCK_TIMEOUT} s, loop {MAX_INTERVAL} s)")
        assert takeover < TAKEOVER_BOUND
        assert 503 in statuses  # the gap was visible: /healthz/scheduler said "stale"
        assert max(ages) > STALE  # and so did the heartbeat's age, for an alert
        wait_until(lambda: scheduler(prod)[1].get("beat", "").endswith(f":{standby.process.pid}"), 5, 0.2,
                   "the standby's heartbeat")
        assert scheduler(prod)[0] == 200 and heartbeat_age(prod) < STALE
    finally:
        prod.children.append(standby)  # it is the scheduler now; stopped with the rest


def test_a_dead_child_is_started_again_and_the_rest_runs_on(prod):
    worker, beat, web = prod.child("worker1"), prod.child("beat"), prod.child("web")
    if beat.alive():  # the test before kills it; run without it (another order, another process), it is killed here
        kill(beat)
    stop = threading.Event()
    supervisor = threading.Thread(target=prod.supervise, args=(stop.is_set, 0.2), daemon=True)
    supervisor.start()
    try:
        assert not beat.alive()
        wait_until(beat.alive, 15, 0.2, "the dead beat to be started again")
        old = worker.process.pid
        kill(worker)
        assert http_status(prod.base_url + "/readyz") == 200  # the web runs on
        wait_until(lambda: worker.alive() and worker.process.pid != old, 15, 0.2, "the worker to be started again")
        port = worker.extra["metrics_port"]
        wait_until(lambda: http_status(f"http://127.0.0.1:{port}/metrics") == 200, 60, 0.5, "the new worker")
        assert worker.restarts == 1 and web.restarts == 0 and web.alive()
        queue_directly(prod, "after-the-restart")
        wait_until(lambda: any(m["Subject"] == "after-the-restart" for m in prod.sink.messages), 30, 0.2,
                   "mail delivered by the restarted worker")
    finally:
        stop.set()
        supervisor.join(5)
