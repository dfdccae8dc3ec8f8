"""Production settings come from the environment, and unsafe ones refuse to start."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from dataclasses import fields
from pathlib import Path

import pytest

from service.config import DEFAULT_SECRET_KEY, Settings

ROOT = Path(__file__).resolve().parents[2]
SAFE = {
    "ENV": "production",
    "SECRET_KEY": "k" * 48,
    "BASE_URL": "https://goalflow.example.bg",
    "SESSION_COOKIE_SECURE": "true",
    "DATABASE_URL": "postgresql+psycopg://goalflow@127.0.0.1:1/goalflow",
    "BROKER_URL": "redis://127.0.0.1:1/0",
    "METRICS_TOKEN": "m" * 24,
}


def test_env_example_lists_every_setting_with_its_meaning():
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    lines = text.splitlines()
    for f in fields(Settings):
        if f.name == "extra":
            continue
        at = [i for i, line in enumerate(lines) if re.match(rf"^#? ?{f.name}=", line)]
        assert at, f"{f.name} is missing from .env.example"
        assert lines[at[0] - 1].startswith("#"), f"{f.name} has no comment saying what it means"


def test_from_env_reads_every_kind_of_value():
    s = Settings.from_env({**SAFE, "DEBUG": "0", "MAIL_PORT": "2525", "DEADLINE_REMINDER_DAYS": "10, 3",
                           "OUTBOX_KICK": "off", "LOG_FORMAT": "json"})
    assert (s.ENV, s.SESSION_COOKIE_SECURE, s.DEBUG, s.MAIL_PORT) == ("production", True, False, 2525)
    assert s.DEADLINE_REMINDER_DAYS == (10, 3)
    assert s.LOG_FORMAT == "json"
    s.check_safe()  # the safe set passes


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"SECRET_KEY": DEFAULT_SECRET_KEY}, "SECRET_KEY"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"SECRET_KEY": ""}, "SECRET_KEY"),
        ({"DEBUG": "true"}, "DEBUG"),
        ({"SESSION_COOKIE_SECURE": "false"}, "SESSION_COOKIE_SECURE"),
        ({"BASE_URL": "http://goalflow.example.bg"}, "https"),  # a Secure cookie over plain HTTP
        ({"DATABASE_URL": ""}, "PostgreSQL"),
        ({"DATABASE_URL": "sqlite:////tmp/x.db"}, "PostgreSQL"),
        ({"BROKER_URL": ""}, "BROKER_URL"),
        ({"BEAT_LOCK_TIMEOUT_SECONDS": "20"}, "BEAT_LOCK_TIMEOUT_SECONDS"),  # a live beat could lose its lock
    ],
)
def test_unsafe_production_settings_are_refused(change, complaint):
    settings = Settings.from_env({**SAFE, **change})
    with pytest.raises(RuntimeError, match=complaint):
        settings.check_safe()
    from service.app import create_app

    with pytest.raises(RuntimeError, match="Unsafe production settings"):
        create_app(settings)


def test_embedded_mode_is_not_held_to_production_rules():
    # No SECRET_KEY (one is generated under VAR_DIR), SQLite, no broker, no https: fine on one's own machine.
    Settings.from_env({"ENV": "embedded"}).check_safe()


def test_gunicorn_refuses_to_boot_with_the_default_secret(tmp_path):
    env = {
        "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT), "HOME": str(tmp_path), "LANG": "C.UTF-8",
        **SAFE, "SECRET_KEY": DEFAULT_SECRET_KEY, "VAR_DIR": str(tmp_path), "LOG_FORMAT": "json",
    }
    started = time.monotonic()
    result = subprocess.run(
        ["gunicorn", "--config", "deploy/gunicorn.conf.py", "--bind", "127.0.0.1:0", "--workers", "1",
         "service.wsgi:app"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode != 0
    assert "Unsafe production settings" in result.stderr and "SECRET_KEY" in result.stderr
    assert time.monotonic() - started < 60  # it stops; it does not keep restarting workers
