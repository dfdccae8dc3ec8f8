"""deploy/backup.sh and deploy/restore.sh against a temporary database with goalflow's schema."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from tests.conftest import (
    PG_ADMIN_URL,
    create_pg_database,
    drop_pg_database,
    pg_answers,
    service_missing,
    sqlalchemy_pg_url,
)

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    """One migrated database for the module; each test leaves it as it found it."""
    tmp_path = tmp_path_factory.mktemp("backup")
    if not pg_answers():
        service_missing("PostgreSQL at " + PG_ADMIN_URL)
    name = create_pg_database()
    url = sqlalchemy_pg_url(name)
    env = {
        "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
        "HOME": str(tmp_path), "LANG": "C.UTF-8", "PYTHONPATH": str(ROOT),
        "ENV": "test", "DATABASE_URL": url, "VAR_DIR": str(tmp_path / "var"),
        "BROKER_URL": f"sqla+sqlite:///{tmp_path / 'broker.db'}", "OUTBOX_KICK": "false",
    }

    def flask(*args: str) -> str:
        result = subprocess.run(["flask", "--app", "service", *args], cwd=ROOT, env=env, capture_output=True,
                                text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        return result.stdout

    flask("db", "upgrade")
    flask("create-administration", "--name", "Областна администрация Хасково", "--slug", "haskovo")
    yield env, name
    drop_pg_database(name)


def sh(script: str, *args: str, env: dict, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(ROOT / "deploy" / script), *args], env=env, cwd=ROOT, input=stdin,
                          capture_output=True, text=True, timeout=120)


def query(name: str, sql: str) -> list[tuple]:
    with psycopg.connect(PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name) as conn:
        return conn.execute(sql).fetchall()


def execute(name: str, sql: str) -> None:
    with psycopg.connect(PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name, autocommit=True) as conn:
        conn.execute(sql)


def test_a_backup_restores_the_database_as_it_was(database, tmp_path):
    env, name = database
    revision = query(name, "SELECT version_num FROM alembic_version")
    made = sh("backup.sh", str(tmp_path / "backups"), env=env)
    assert made.returncode == 0, made.stderr
    dump = Path(made.stdout.strip().splitlines()[-1])
    assert dump.parent == tmp_path / "backups" and dump.name.startswith("goalflow-") and dump.suffix == ".dump"
    assert dump.read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format
    assert not list(dump.parent.glob("*.partial"))

    # Things go wrong after the backup: a row changed, a row added, a table lost.
    execute(name, "UPDATE administrations SET name = 'повредено'")
    execute(name, "INSERT INTO administrations (name, slug, created_at) VALUES ('нова', 'new', now())")
    execute(name, "DROP TABLE audit_chain_heads")

    refused = sh("restore.sh", str(dump), env=env, stdin="n\n")
    assert refused.returncode != 0 and "cancelled" in refused.stdout
    assert query(name, "SELECT slug FROM administrations ORDER BY slug") == [("haskovo",), ("new",)]

    restored = sh("restore.sh", str(dump), "--yes", env=env)
    assert restored.returncode == 0, restored.stderr
    assert query(name, "SELECT name, slug FROM administrations") == [("Областна администрация Хасково", "haskovo")]
    assert query(name, "SELECT count(*) FROM audit_chain_heads") is not None
    assert query(name, "SELECT version_num FROM alembic_version") == revision


def test_a_broken_file_is_refused_and_the_database_left_alone(database, tmp_path):
    env, name = database
    broken = tmp_path / "broken.dump"
    broken.write_bytes(b"PGDMP this is not an archive")
    result = sh("restore.sh", str(broken), "--yes", env=env)
    assert result.returncode == 2 and "not a pg_dump" in result.stderr
    assert sh("restore.sh", str(tmp_path / "absent.dump"), "--yes", env=env).returncode == 2
    assert query(name, "SELECT slug FROM administrations") == [("haskovo",)]


def test_backups_are_rotated(database, tmp_path):
    env, _ = database
    folder = tmp_path / "backups"
    folder.mkdir()
    for stamp in ("20240101T000000Z", "20240102T000000Z"):
        old = folder / f"goalflow-{stamp}.dump"
        old.write_bytes(b"old")
        os.utime(old, (1_700_000_000, 1_700_000_000))
    made = sh("backup.sh", str(folder), env={**env, "BACKUP_KEEP": "2"})
    assert made.returncode == 0, made.stderr
    kept = sorted(p.name for p in folder.iterdir())
    assert len(kept) == 2 and Path(made.stdout.strip()).name in kept


def test_the_scripts_need_a_database_url(tmp_path):
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path)}
    assert "DATABASE_URL" in sh("backup.sh", str(tmp_path), env=env).stderr
    assert "DATABASE_URL" in sh("restore.sh", "x.dump", env=env).stderr
