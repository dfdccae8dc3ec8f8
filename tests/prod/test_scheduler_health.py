"""/healthz/scheduler and the heartbeat's age on /metrics, read from a Redis of this module's own."""

from __future__ import annotations

import json
import time

import pytest
import redis

from service.health import SCHEDULER_HEARTBEAT_KEY, write_scheduler_heartbeat
from tests.prod.test_observability import scrape
from tests.worker.processes import RedisServer

pytestmark = [pytest.mark.redis]
AGE = "goalflow_scheduler_heartbeat_age_seconds"


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory):
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture
def heartbeats(ctx, redis_server, monkeypatch):
    settings = ctx.config["GOALFLOW"]
    monkeypatch.setattr(settings, "REDIS_URL", redis_server.url)
    monkeypatch.setattr(settings, "SCHEDULER_STALE_SECONDS", 30)
    client = redis.Redis.from_url(redis_server.url)
    client.delete(SCHEDULER_HEARTBEAT_KEY)
    return client


def test_without_redis_the_scheduler_is_not_watched(client):
    response = client.get("/healthz/scheduler")
    assert response.status_code == 200 and response.json["status"] == "unmonitored"
    assert not [key for key in scrape(client) if key[0] == AGE]


def test_the_heartbeat_fresh_stale_or_missing(client, heartbeats):
    missing = client.get("/healthz/scheduler")
    assert missing.status_code == 503 and missing.json["status"] == "missing"

    write_scheduler_heartbeat(heartbeats, "beat-host:42")
    fresh = client.get("/healthz/scheduler")
    assert fresh.status_code == 200, fresh.json
    assert fresh.json["status"] == "ok" and fresh.json["beat"] == "beat-host:42" and fresh.json["age_seconds"] < 5
    assert scrape(client)[(AGE, ())] < 5

    heartbeats.set(SCHEDULER_HEARTBEAT_KEY, json.dumps({"at": time.time() - 95, "beat": "beat-host:42"}))
    stale = client.get("/healthz/scheduler")
    assert stale.status_code == 503 and stale.json["status"] == "stale" and stale.json["age_seconds"] >= 95
    assert 95 <= scrape(client)[(AGE, ())] < 100

    heartbeats.set(SCHEDULER_HEARTBEAT_KEY, b"\xff not json")
    garbled = client.get("/healthz/scheduler")
    assert garbled.status_code == 503 and garbled.json["status"] == "missing"


def test_redis_down_is_said_at_once(client, heartbeats, redis_server):
    write_scheduler_heartbeat(heartbeats, "beat-host:42")
    redis_server.stop()
    try:
        started = time.monotonic()
        down = client.get("/healthz/scheduler")
        assert down.status_code == 503 and down.json["status"] == "unknown" and down.json["error"]
        assert not [key for key in scrape(client) if key[0] == AGE]  # absent: the alert says so
        assert time.monotonic() - started < 5
    finally:
        redis_server.start()
