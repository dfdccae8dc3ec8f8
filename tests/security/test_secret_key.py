"""No constant secret: a generated one kept under VAR_DIR (0600), and no exposed instance without a chosen one."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface

from service.config import DEFAULT_SECRET_KEY, Settings

ROOT = Path(__file__).resolve().parents[2]
OLD_PUBLIC_SECRET = "embedded-mode-only-secret"  # the constant earlier versions signed embedded sessions with
SECRET_KEY_FILE = "secret_key"  # under VAR_DIR, as docs/security.md tells operators


def forged_session_cookie(secret: str, user_id: int, generation: int) -> str:
    """What an attacker makes with a known key: the governor's session, signed in just now."""
    signer = Flask("forger")
    signer.secret_key = secret
    serializer = SecureCookieSessionInterface().get_signing_serializer(signer)
    return serializer.dumps({"_user_id": f"{user_id}:{generation}", "_fresh": True,
                             "login_at": datetime.now(UTC).replace(tzinfo=None).isoformat()})


def _me(app, cookie: str) -> int:
    client = app.test_client()
    client.set_cookie("session", cookie)
    return client.get("/api/v1/me").status_code


def test_a_cookie_signed_with_the_old_public_constant_signs_nobody_in(world, other_app):
    # The settings an embedded instance starts with when nobody sets SECRET_KEY.
    embedded = other_app(ENV="embedded", SECRET_KEY=Settings().SECRET_KEY)
    governor = world.governor
    assert _me(embedded, forged_session_cookie(OLD_PUBLIC_SECRET, governor.id, governor.session_generation)) == 401
    # The same forgery with the instance's own (secret) key would work: the refusal above is the key's doing.
    own = (Path(embedded.config["GOALFLOW"].VAR_DIR) / SECRET_KEY_FILE).read_text().strip()
    assert _me(embedded, forged_session_cookie(own, governor.id, governor.session_generation)) == 200


def test_the_generated_secret_is_random_kept_0600_and_reused(tmp_path):
    first = Settings(ENV="embedded", VAR_DIR=str(tmp_path / "a")).secret_key()
    path = tmp_path / "a" / SECRET_KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) >= 32 and first != DEFAULT_SECRET_KEY
    assert Settings(ENV="embedded", VAR_DIR=str(tmp_path / "a")).secret_key() == first  # the next run reuses it
    assert Settings(ENV="embedded", VAR_DIR=str(tmp_path / "b")).secret_key() != first  # another instance has its own
    os.chmod(path, 0o644)  # loosened by hand: tightened again before use
    assert Settings(ENV="embedded", VAR_DIR=str(tmp_path / "a")).secret_key() == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_the_app_signs_with_the_generated_secret(world, other_app):
    embedded = other_app(ENV="embedded", SECRET_KEY="")
    kept = (Path(embedded.config["GOALFLOW"].VAR_DIR) / SECRET_KEY_FILE).read_text().strip()
    assert embedded.config["SECRET_KEY"] == kept
    assert other_app(ENV="embedded", SECRET_KEY="").config["SECRET_KEY"] == kept  # a restart keeps everyone signed in


def test_a_damaged_secret_file_refuses_to_start(tmp_path):
    (tmp_path / SECRET_KEY_FILE).write_text("short\n")
    with pytest.raises(RuntimeError, match="does not hold a usable secret"):
        Settings(ENV="embedded", VAR_DIR=str(tmp_path)).secret_key()


@pytest.mark.parametrize("mode", ["embedded", "test", "production"])
@pytest.mark.parametrize("secret", [OLD_PUBLIC_SECRET, "short"])
def test_a_known_or_short_secret_is_refused_in_every_mode(mode, secret):
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        Settings(ENV=mode, SECRET_KEY=secret).check_safe()


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "[::]", "192.168.1.10", "goalflow.example.bg"])
@pytest.mark.parametrize("mode", ["embedded", "test", "production"])
def test_no_address_beyond_loopback_without_a_configured_secret(host, mode):
    with pytest.raises(RuntimeError, match="without a configured SECRET_KEY"):
        Settings(ENV=mode).check_listen([host])
    Settings(ENV=mode, SECRET_KEY="k" * 48).check_listen([host])  # the operator chose one: fine


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "localhost", "::1", "[::1]"])
def test_loopback_needs_no_configured_secret(host):
    Settings(ENV="embedded").check_listen([host])


def _env(tmp_path, **extra) -> dict:
    env = {
        "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT), "HOME": str(tmp_path), "LANG": "C.UTF-8", "VAR_DIR": str(tmp_path / "var"),
    }
    return {**env, **extra}


def _run_refused(command: list[str], env: dict) -> subprocess.CompletedProcess:
    """Runs what should refuse to start; one that starts anyway is stopped with all its children."""
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    try:
        out, err = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate()
    return subprocess.CompletedProcess(command, process.returncode, out, err)


def test_make_run_refuses_a_public_host_without_a_secret(tmp_path):
    result = _run_refused([sys.executable, "-m", "service.embedded"], _env(tmp_path, HOST="0.0.0.0", PORT="0"))
    assert result.returncode == 2
    assert "without a configured SECRET_KEY" in result.stderr
    assert not (tmp_path / "var" / "goalflow.db").exists()  # refused before anything was set up


def test_gunicorn_refuses_a_public_bind_without_a_secret_in_embedded_mode(tmp_path):
    started = time.monotonic()
    result = _run_refused(
        ["gunicorn", "--config", "deploy/gunicorn.conf.py", "--bind", "0.0.0.0:0", "--workers", "1", "service.wsgi:app"],
        _env(tmp_path, ENV="embedded"),
    )
    assert result.returncode != 0
    assert "without a configured SECRET_KEY" in result.stderr
    assert time.monotonic() - started < 60


def test_the_image_is_held_to_the_production_checks():
    lines = [line.strip() for line in (ROOT / "Dockerfile").read_text().splitlines()]
    assert "ENV ENV=production" in lines
