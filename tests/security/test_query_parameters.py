"""A query parameter sent twice is refused, not silently read as its first value; gunicorn's own
414 is a problem document like every other error."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import test_settings
from tests.worker.processes import settings_env, wait_until

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("query", [
    "state=done&state=planned",
    "page=1&page=2",
    "year=2023&plan=1&year=2024",
    "per_page=5&per_page=5",  # the same value twice is still a client that does not know what it sends
])
def test_a_repeated_query_parameter_is_refused_with_422_naming_it(as_, query):
    answer = as_("observer").get(f"/api/v1/goals?{query}")
    assert answer.status_code == 422, answer.text
    assert answer.mimetype == "application/problem+json"
    repeated = query.split("&")[-1].split("=")[0]
    assert answer.json["code"] == "invalid_input" and list(answer.json["errors"]) == [repeated]


def test_each_repeated_parameter_is_named(as_):
    answer = as_("observer").get("/api/v1/goals?state=done&state=planned&page=1&page=2&year=2023")
    assert answer.status_code == 422 and sorted(answer.json["errors"]) == ["page", "state"]


def test_parameters_given_once_work(as_):
    assert as_("observer").get("/api/v1/goals?state=done&page=1&year=2023").status_code == 200


def test_gunicorn_answers_a_too_long_request_line_as_a_problem(world, database_url, tmp_path):
    if not database_url.startswith("sqlite"):
        pytest.skip("one run is enough: gunicorn answers before the app and its database")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**settings_env(test_settings(database_url, tmp_path, ENV="embedded", SECRET_KEY="")),
           "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen(["gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1", "service.wsgi:app"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)

    def raw(path: str) -> bytes:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
            conn.sendall(f"GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".encode())
            chunks = []
            while chunk := conn.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks)

    def up() -> bool:
        try:
            return raw("/healthz").startswith(b"HTTP/1.1 200")
        except OSError:
            return False

    try:
        wait_until(up, timeout=60, what="gunicorn")
        answer = raw("/api/v1/goals?q=" + "x" * 9000)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 414 ")
    assert b"Content-Type: application/problem+json" in head
    import json

    problem = json.loads(body)
    assert problem["status"] == 414 and problem["code"] == "uri_too_long" and problem["type"].endswith("uri_too_long")
