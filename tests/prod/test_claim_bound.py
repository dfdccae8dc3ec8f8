"""A claim takes at most its batch, whatever plan PostgreSQL picks.

On a fresh installation the `notifications` table has never been analysed; the planner then ran
the limited, locked subquery of `UPDATE ... WHERE id IN (SELECT ... LIMIT n FOR UPDATE SKIP
LOCKED)` once per outer row, and one claim took every due message (291 of 291 instead of 50).
Here the table is migrated into an empty database, kept from autovacuum's ANALYZE, and filled.
"""

from __future__ import annotations

import psycopg
import pytest

from service.db import utcnow
from service.extensions import db
from service.notifications import service as outbox
from tests.conftest import PG_ADMIN_URL, create_pg_database, drop_pg_database, pg_answers, service_missing
from tests.conftest import test_settings as make_settings

pytestmark = [pytest.mark.postgres]
DUE = 291


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    """A just-migrated PostgreSQL database: (app, plain connection URL)."""
    from flask_migrate import upgrade

    from service.app import create_app

    if not pg_answers():
        service_missing("PostgreSQL at " + PG_ADMIN_URL)
    name = create_pg_database()
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    try:
        app = create_app(make_settings(url.replace("postgresql://", "postgresql+psycopg://", 1),
                                       tmp_path_factory.mktemp("var"), OUTBOX_BATCH_SIZE=50))
        with app.app_context():
            upgrade()
        yield app, url
        with app.app_context():
            db.engine.dispose()
    finally:
        drop_pg_database(name)


def insert_due(url: str, count: int) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ALTER TABLE notifications SET (autovacuum_enabled = false)")  # never analysed
        conn.execute(
            "INSERT INTO notifications (key, kind, email, locale, subject, body_text, body_html, link, subject_type,"
            " status, attempts, last_error, next_attempt_at, created_at, message_id)"
            " SELECT md5(g::text), 'goal_state_changed', 'x' || g || '@test.bg', 'bg', 's', 't', 'h', '', 'goal',"
            " 'pending', 0, '', (now() at time zone 'utc') - interval '1 minute', now() at time zone 'utc', ''"
            " FROM generate_series(1, %s) AS g",
            (count,),
        )
        analysed = conn.execute(
            "SELECT last_analyze, last_autoanalyze FROM pg_stat_user_tables WHERE relname = 'notifications'"
        ).fetchone()
        assert analysed == (None, None)


def test_one_claim_takes_at_most_its_batch_on_a_table_never_analysed(fresh):
    app, url = fresh
    insert_due(url, DUE)
    with app.app_context():
        first = outbox._claim_rows(utcnow(), None)
        assert len(first) == 50
        ids = outbox.claim(limit=50)  # the other form of the same statement
        assert len(ids) == 50 and not set(ids) & {note.id for note in first}
        claimed = [len(outbox.claim()) for _ in range(5)]
        assert claimed == [50, 50, 50, 41, 0]
