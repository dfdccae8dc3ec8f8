"""The migrations build exactly the schema the models declare, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from service.extensions import db


def test_upgrade_to_head_leaves_nothing_for_autogenerate(app):
    # the `app` fixture built this database from empty with `flask db upgrade`
    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "render_as_batch": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == []


def test_every_migration_file_is_dated_and_named():
    import re
    from pathlib import Path

    files = sorted((Path(__file__).resolve().parents[2] / "migrations" / "versions").glob("*.py"))
    assert files
    for f in files:
        assert re.match(r"^\d{4}_\d{2}_\d{2}_\d{4}-[0-9a-f]+_[a-z0-9_]+\.py$", f.name), f.name
