"""Shared fixtures.

Every test that takes `app` (or anything built on it) runs twice: on SQLite and on PostgreSQL.
The schema is built by the real migrations. When PostgreSQL does not answer the PostgreSQL runs
are skipped, unless REQUIRE_SERVICES=1 (CI), where that is a failure.
"""

from __future__ import annotations

import os
import shutil
import uuid

import psycopg
import pytest
from sqlalchemy import text

import service.app  # noqa: F401 - as in every process, the domains register their workflow guards and actions
from service.config import Settings

PG_ADMIN_URL = os.environ.get("TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


def service_missing(what: str) -> None:
    """Skip, or fail where the services are required."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{what} is required (REQUIRE_SERVICES=1) but does not answer")
    pytest.skip(f"{what} does not answer")


def pg_answers() -> bool:
    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


def sqlalchemy_pg_url(dbname: str) -> str:
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base}/{dbname}"


def create_pg_database() -> str:
    name = f"goalflow_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name


def drop_pg_database(name: str) -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request, tmp_path_factory):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'goalflow.db'}"
        return
    if not pg_answers():
        service_missing("PostgreSQL at " + PG_ADMIN_URL)
    name = create_pg_database()
    yield sqlalchemy_pg_url(name)
    drop_pg_database(name)


def test_settings(database_url: str, var_dir, **overrides) -> Settings:
    """Settings for a test app; any default below can be overridden."""
    defaults = dict(
        ENV="test",
        SECRET_KEY="test-secret-key-that-is-long-enough-0123456789",
        DATABASE_URL=database_url,
        VAR_DIR=str(var_dir),
        BROKER_URL=f"sqla+sqlite:///{var_dir / 'broker.db'}",
        MAIL_DIR=str(var_dir / "mail"),
        PASSWORD_HASH_TIME_COST=1,
        PASSWORD_HASH_MEMORY_KIB=64,
        OUTBOX_KICK=False,  # no worker listens in most tests: do not post to the broker after commits
    )
    return Settings(**{**defaults, **overrides})


test_settings.__test__ = False  # a factory, not a test


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    from flask_migrate import upgrade

    from service.app import create_app

    var_dir = tmp_path_factory.mktemp("var")
    application = create_app(test_settings(database_url, var_dir))
    application.config["TESTING"] = True
    with application.app_context():
        upgrade()
    yield application
    with application.app_context():
        from service.extensions import db

        db.engine.dispose()


@pytest.fixture
def backend(app) -> str:
    return "postgresql" if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql") else "sqlite"


def _wipe(app) -> None:
    from service.extensions import db

    with app.app_context():
        db.session.remove()
        tables = [t.name for t in reversed(db.metadata.sorted_tables)]
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
            else:
                for table in tables:
                    conn.execute(text(f'DELETE FROM "{table}"'))
        # The audit checkpoints kept outside the database go with it: left behind, they would
        # (rightly) contradict the next test's chain.
        shutil.rmtree(app.config["GOALFLOW"].checkpoint_dir, ignore_errors=True)


@pytest.fixture
def ctx(app):
    """An app context with a clean database; everything written is wiped afterwards."""
    with app.app_context():
        yield app
    _wipe(app)


@pytest.fixture
def client(ctx):
    return ctx.test_client()


@pytest.fixture
def world(ctx):
    """An administration with two directorates, one person per role, and a plan open for reporting."""
    from tests.helpers import build_world

    return build_world()


# -- what was not run ---------------------------------------------------------------------------


def skipped_suites(reports) -> dict[tuple[str, str], int]:
    """(suite, reason) -> how many tests it skipped; a suite is the folder under tests/."""
    found: dict[tuple[str, str], int] = {}
    for report in reports:
        path = report.nodeid.split("::", 1)[0]
        parts = path.split("/")
        suite = "/".join(parts[:2]) if len(parts) > 2 and parts[0] == "tests" else path
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
        reason = reason.removeprefix("Skipped: ")
        found[(suite, reason)] = found.get((suite, reason), 0) + 1
    return found


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Name the suites that did not run, and why: a missing browser, PDF tool or service is a
    local gap, not a pass (deploy/system-packages.sh installs the system packages)."""
    found = skipped_suites(terminalreporter.stats.get("skipped", []))
    if not found:
        return
    terminalreporter.section("suites skipped")
    for (suite, reason), count in sorted(found.items()):
        terminalreporter.write_line(f"{suite}: {count} skipped: {reason}")
    if any(word in reason for _, reason in found for word in ("not installed", "missing", "does not answer")):
        terminalreporter.write_line(
            "Missing system packages: `bash deploy/system-packages.sh` (as root) installs them or names the "
            "command; missing services: see README.md."
        )
