"""The production shape under faults, with the production timings: docker-compose.yml's processes
run natively (deploy/prod_local.py, OUTBOX_INTERVAL_SECONDS at compose's 30 s) against a
redis-server of its own (append-only, as compose runs it) that is stopped and started again,
and an SMTP sink that takes 20 ms over each message and can kill the worker sending to it.

Measured: the takeover of a SIGKILLed beat by a standby; the delivery of mail queued during a
30 s Redis outage after Redis is back; and a worker SIGKILLed in the middle of a campaign (how
long until everything is delivered, and how many messages arrive twice). tests/prod checks the
same with short timings; this gives the figures docs/operations.md quotes.
`python -m bench.faults` (about five minutes); prints its table.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path

import psycopg
import redis

from bench.common import PG_ADMIN_URL, load, table
from deploy.prod_local import Child, MailSink, ProdLocal, free_port

OUTAGE = 30  # seconds
CAMPAIGN = 400  # messages
KILL_AT = 30  # the message during which the sending worker is killed


class SlowSink(MailSink):
    """Takes DELAY seconds over each message; `hook` sees each one before it is taken."""

    DELAY = 0.02

    def __init__(self, directory: Path):
        super().__init__(directory)
        self.hook = None
        self.last_peer = None

    async def handle_DATA(self, server, session, envelope) -> str:
        await asyncio.sleep(self.DELAY)
        self.last_peer = session.peer
        if self.hook:
            self.hook()
        return await super().handle_DATA(server, session, envelope)


class Redis:
    def __init__(self, directory: Path):
        self.port, self.directory, self.process = free_port(), directory, None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [shutil.which("redis-server"), "--port", str(self.port), "--bind", "127.0.0.1", "--appendonly", "yes",
             "--appendfsync", "always", "--dir", str(self.directory)], stdout=subprocess.DEVNULL)
        until(lambda: self.answers(), 10)

    def answers(self) -> bool:
        try:
            return redis.Redis(port=self.port, socket_connect_timeout=0.5).ping()
        except redis.RedisError:
            return False

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def until(condition, timeout: float, every: float = 0.2) -> float:
    """Seconds until `condition()` held (raises after `timeout`)."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            raise TimeoutError(f"not within {timeout} s")
        time.sleep(every)
    return time.monotonic() - start


def heartbeat(prod: ProdLocal) -> dict:
    try:
        with urllib.request.urlopen(prod.base_url + "/healthz/scheduler", timeout=5) as response:
            return json.loads(response.read())
    except Exception:  # 503 or no answer
        return {}


def queue(prod: ProdLocal, tag: str, count: int) -> list[str]:
    keys = [f"{tag}-{i:04d}" for i in range(count)]
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + prod.database
    with psycopg.connect(url, autocommit=True) as conn, conn.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO notifications (key, kind, email, locale, subject, body_text, body_html, link, subject_type,"
            " status, attempts, last_error, next_attempt_at, created_at, message_id) VALUES (%s,"
            " 'goal_state_changed', 'someone@test.bg', 'bg', %s, 'text', '<p>html</p>', '', 'goal', 'pending', 0,"
            " '', now() at time zone 'utc', now() at time zone 'utc', '')",
            [(key, key) for key in keys],
        )
    return keys


def delivered(prod: ProdLocal, keys: list[str]) -> Counter:
    wanted = set(keys)
    return Counter(m["Subject"] for m in prod.sink.messages if m["Subject"] in wanted)


def sender(prod: ProdLocal) -> Child:
    from tests.worker.processes import client_pid

    workers = [c for c in prod.children if c.name.startswith("worker") and c.alive()]
    pid = client_pid(prod.sink.last_peer[1], {w.process.pid for w in workers})
    return next(w for w in workers if w.process.pid == os.getpgid(pid))


def main() -> None:
    run_dir = Path(tempfile.mkdtemp(prefix="goalflow-faults-"))
    (run_dir / "redis").mkdir()
    server = Redis(run_dir / "redis")
    server.start()
    prod = ProdLocal(pg_admin_url=PG_ADMIN_URL, redis_url=f"redis://127.0.0.1:{server.port}", redis_db=5,
                     run_dir=run_dir, dotenv={"OUTBOX_INTERVAL_SECONDS": "30"})  # compose's default
    prod.sink = SlowSink(run_dir / "mail")
    rows = []
    try:
        prod.start(timeout=180)
        settings = {k: prod.child("beat").env.get(k, "default") for k in
                    ("BEAT_LOCK_TIMEOUT_SECONDS", "BEAT_MAX_INTERVAL_SECONDS", "MAIL_CLAIM_SECONDS")}
        until(lambda: heartbeat(prod).get("status") == "ok", 60)

        # 1. a beat killed, a standby waiting
        spec = prod.spec("beat")
        standby = Child("beat-standby", spec.command, prod.environment(spec, _instance="standby"),
                        run_dir / "logs" / "beat-standby.log")
        standby.start()
        prod.children.append(standby)
        until(lambda: "beat: Starting" in standby.log_text(), 60)
        started = load()
        os.killpg(prod.child("beat").process.pid, signal.SIGKILL)
        takeover = until(lambda: heartbeat(prod).get("beat", "").endswith(f":{standby.process.pid}"), 180, 0.5)
        rows.append(["beat SIGKILLed, a standby waiting", "the standby's heartbeat at /healthz/scheduler",
                     f"{takeover:.0f} s", started])

        # 2. Redis stopped for OUTAGE seconds, mail queued meanwhile
        started = load()
        server.stop()
        time.sleep(2)
        keys = queue(prod, "outage", 100)
        time.sleep(OUTAGE - 2)
        server.start()
        recovery = until(lambda: len(delivered(prod, keys)) == len(keys), 300, 0.5)
        alive = all(c.alive() for c in prod.children if c.name != "beat")
        rows.append([f"Redis stopped {OUTAGE} s, 100 messages queued meanwhile",
                     f"all delivered after Redis was back; every process alive: {alive}", f"{recovery:.0f} s", started])

        # 3. a worker SIGKILLed in the middle of a campaign
        started = load()
        killed = {}

        def kill_the_sender():
            if len(prod.sink.messages) >= mark + KILL_AT and not killed:
                victim = sender(prod)
                os.killpg(victim.process.pid, signal.SIGKILL)
                killed.update(name=victim.name, at=time.monotonic())

        mark = len(prod.sink.messages)
        prod.sink.hook = kill_the_sender
        keys = queue(prod, "campaign", CAMPAIGN)
        until(lambda: killed, 120, 0.05)
        prod.sink.hook = None
        rest = until(lambda: len(delivered(prod, keys)) == len(keys), 300, 0.2)
        twice = sum(n - 1 for n in delivered(prod, keys).values())
        rows.append([f"a worker SIGKILLed at message {KILL_AT} of a {CAMPAIGN}-message campaign",
                     f"all delivered after the kill; {twice} message(s) sent twice", f"{rest:.0f} s", started])
    finally:
        prod.stop()
        server.stop()
    print(f"settings: {settings}, OUTBOX_INTERVAL_SECONDS=30")
    print(table(["fault", "until", "time", "load average"], rows))


if __name__ == "__main__":
    main()
