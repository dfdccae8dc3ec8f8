"""Failed sign-ins are counted in one shared place and limit guessing, not the account's owner.

The rule (service/auth/limits.py), with LOGIN_RATE_LIMIT = 10 per minute: an address with ten
failures is refused; an account with ten failures is refused only to the addresses that failed on it.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest

from service.auth.limits import refusal
from service.db import utcnow
from tests.conftest import test_settings
from tests.web.test_pages import token
from tests.worker.processes import settings_env, wait_until

ROOT = Path(__file__).resolve().parents[2]

ATTACKER = "203.0.113.66"


def _token_call(client, email, password, address):
    return client.post("/api/v1/auth/tokens", json={"email": email, "password": password, "name": "t"},
                       environ_base={"REMOTE_ADDR": address})


def _form_sign_in(client, email, password, address):
    csrf = token(client)
    return client.post("/login", data={"email": email, "password": password, "csrf_token": csrf},
                       environ_base={"REMOTE_ADDR": address})


def test_an_attacker_cannot_lock_the_governor_out(world, ctx, client):
    governor = world.governor.email
    answers = [_token_call(client, governor, f"guess {i}", ATTACKER).status_code for i in range(20)]
    assert answers == [401] * 10 + [429] * 10
    # The right password from the attacker's address is refused too: nothing tells it the guess was right.
    assert _token_call(client, governor, world.password, ATTACKER).status_code == 429
    # The governor, from three addresses that have not been failing, signs in (API and web form).
    for address in ("198.51.100.7", "198.51.100.8"):
        assert _token_call(client, governor, world.password, address).status_code == 201
    browser = ctx.test_client()
    assert _form_sign_in(browser, governor, world.password, "198.51.100.9").status_code == 302
    assert browser.get("/api/v1/me").json["email"] == governor


def test_guessing_one_account_from_many_addresses_gets_one_try_per_address(world, client):
    deputy = world.deputy.email
    for i in range(10):
        assert _token_call(client, deputy, "guess", f"192.0.2.{i}").status_code == 401
    # The account is locked for each address that failed on it, even with the right password.
    for i in range(10):
        assert _token_call(client, deputy, world.password, f"192.0.2.{i}").status_code == 429
    # A new address may try once; after its failure it is refused as well.
    assert _token_call(client, deputy, "guess", "192.0.2.200").status_code == 401
    assert _token_call(client, deputy, "guess", "192.0.2.200").status_code == 429
    # The owner's clean address is let in.
    assert _token_call(client, deputy, world.password, "198.51.100.20").status_code == 201


def test_an_address_that_guesses_many_accounts_is_refused(world, client):
    for i in range(10):
        assert _token_call(client, f"nobody{i}@test.bg", "guess", ATTACKER).status_code == 401
    refused = _token_call(client, world.observer.email, world.password, ATTACKER)
    assert refused.status_code == 429 and refused.json["code"] == "too_many_requests"
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert _token_call(client, world.observer.email, world.password, "198.51.100.30").status_code == 201


def test_the_web_form_is_refused_with_a_page_while_locked(world, ctx):
    browser = ctx.test_client()
    for _ in range(10):
        assert _form_sign_in(browser, world.secretary.email, "wrong", ATTACKER).status_code == 401
    locked = _form_sign_in(browser, world.secretary.email, world.password, ATTACKER)
    assert locked.status_code == 429 and locked.mimetype == "text/html"
    assert "Твърде много неуспешни опити за вход" in locked.text and int(locked.headers["Retry-After"]) > 0
    assert _form_sign_in(ctx.test_client(), world.secretary.email, world.password, "198.51.100.40").status_code == 302


def test_the_lock_ends_with_its_window(world, client):
    for _ in range(10):
        _token_call(client, world.head_b.email, "guess", ATTACKER)
    assert refusal(world.head_b.email, ATTACKER) is not None
    assert refusal(world.head_b.email, ATTACKER, now=utcnow() + timedelta(seconds=61)) is None


def test_every_lock_is_logged_with_its_address(world, client, caplog, monkeypatch):
    # Alembic's fileConfig (the test database's migrations, run in this process) disables loggers.
    monkeypatch.setattr(logging.getLogger("service.auth.limits"), "disabled", False)
    caplog.set_level(logging.WARNING, logger="service.auth.limits")
    for _ in range(10):
        _token_call(client, world.head_a.email, "guess", ATTACKER)
    _token_call(client, world.head_a.email, world.password, ATTACKER)
    messages = [r.getMessage() for r in caplog.records if r.name == "service.auth.limits"]
    assert any("locked for address" in m and ATTACKER in m for m in messages)
    assert any("locked for the addresses that failed" in m and ATTACKER in m for m in messages)
    assert any("refused" in m and ATTACKER in m for m in messages)


def test_gunicorn_workers_of_the_embedded_mode_count_in_the_same_place(world, database_url, tmp_path):
    """`make run`'s gunicorn, each request on a fresh worker process: the eleventh failure is still refused."""
    if not database_url.startswith("sqlite"):
        pytest.skip("the embedded mode runs on SQLite")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**settings_env(test_settings(database_url, tmp_path, ENV="embedded", SECRET_KEY="")),
           "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen(
        ["gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "2", "--preload", "--max-requests", "1",
         "service.wsgi:app"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )
    try:
        def attempt() -> int:
            body = json.dumps({"email": world.head_a.email, "password": "guess", "name": "t"}).encode()
            call = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/auth/tokens", data=body, method="POST",
                                          headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(call, timeout=30) as answer:
                    return answer.status
            except urllib.error.HTTPError as refused:
                return refused.code

        def up() -> bool:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                    return True
            except OSError:
                return False

        wait_until(up, timeout=60, what="gunicorn")
        assert [attempt() for _ in range(12)] == [401] * 10 + [429] * 2
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
