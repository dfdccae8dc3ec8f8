"""gunicorn forks its workers from the process that imported service.wsgi (preload_app): no
database connection may be left in its pool there, or the workers would share one socket."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import service.wsgi as w
from service.extensions import db
with w.app.app_context():
    print(db.engine.pool.checkedin())
"""


def test_no_connection_crosses_the_fork(app, database_url, tmp_path):
    # `app` has migrated the database, so the start-up check really queries it.
    env = {**os.environ, "DATABASE_URL": database_url, "VAR_DIR": str(tmp_path)}
    probe = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert probe.returncode == 0, probe.stderr
    assert "not checked at start-up" not in probe.stderr, probe.stderr
    assert probe.stdout.split()[-1] == "0", (probe.stdout, probe.stderr)
