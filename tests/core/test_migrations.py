"""The migrations build exactly the schema the models declare, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

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


# -- the import warnings kept in each language apart (c4e8a1f9d2b6) --------------------------------

VERSIONS = Path(__file__).resolve().parents[2] / "migrations" / "versions"
IN_EACH_LANGUAGE = "c4e8a1f9d2b6"
# As the import used to keep them: both languages in one string (one quotes the document's own " / ").
JOINED = [
    "Документът посочва „Done / Готово“, а целта е „В изпълнение“: състоянието се променя с искане за преход. / "
    "The document says “Done / Готово” but the goal is “In progress”: the state changes through a transition request.",
    "Не е посочено отговорно звено. / No responsible unit is named.",
    "Колоната „Бележки / Notes“ не е разпозната; клетките ѝ са запазени само като изходни клетки. / "
    "Column “Бележки / Notes” was not recognised; its cells are kept only as source cells.",
]
APART = [
    {"bg": "Документът посочва „Done / Готово“, а целта е „В изпълнение“: състоянието се променя с искане за преход.",
     "en": "The document says “Done / Готово” but the goal is “In progress”: the state changes through a transition "
           "request."},
    {"bg": "Не е посочено отговорно звено.", "en": "No responsible unit is named."},
    {"bg": "Колоната „Бележки / Notes“ не е разпозната; клетките ѝ са запазени само като изходни клетки.",
     "en": "Column “Бележки / Notes” was not recognised; its cells are kept only as source cells."},
]
JOINED_DETAIL = "big.csv: Файлът е празен или не съдържа цели. / The file is empty or holds no goals."
APART_DETAIL = {"bg": "big.csv: Файлът е празен или не съдържа цели.", "en": "big.csv: The file is empty or holds no goals."}


def _migration(revision: str):
    import importlib.util

    path = next(VERSIONS.glob(f"*-{revision}_*.py"))
    spec = importlib.util.spec_from_file_location(f"migration_{revision}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(step) -> None:
    """One migration's upgrade or downgrade, on the test's database, as alembic runs it."""
    from alembic.operations import Operations

    db.session.remove()
    with db.engine.begin() as conn, Operations.context(MigrationContext.configure(conn)):
        step()


def test_the_migrations_are_one_chain_ending_in_the_warnings_in_each_language():
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(VERSIONS.parent))
    assert script.get_heads() == [IN_EACH_LANGUAGE]
    assert len(list(script.walk_revisions())) == len(list(VERSIONS.glob("*.py")))


def test_stored_warnings_move_to_each_language_and_back(world):
    from service.goals.models import Goal, ImportJob

    migration = _migration(IN_EACH_LANGUAGE)
    goal_id = world.g_a.id
    world.g_a.import_warnings = JOINED
    job = ImportJob(administration_id=world.admin.id, actor_id=world.secretary.id, filename="big.csv", status="done",
                    result={"warnings": JOINED[1:2], "goals": [{"number": 1, "warnings": JOINED}], "created": 1})
    failed = ImportJob(administration_id=world.admin.id, actor_id=world.secretary.id, filename="big.csv",
                       status="failed", error_code="empty", error_params={"detail": JOINED_DETAIL})
    queued = ImportJob(administration_id=world.admin.id, actor_id=world.secretary.id, filename="x.csv", status="queued")
    db.session.add_all([job, failed, queued])
    db.session.commit()
    ids = job.id, failed.id, queued.id

    def stored():
        db.session.expire_all()
        jobs = [db.session.get(ImportJob, i) for i in ids]
        return db.session.get(Goal, goal_id).import_warnings, jobs

    _run(migration.upgrade)
    warnings, (job, failed, queued) = stored()
    assert warnings == APART
    assert job.result == {"warnings": APART[1:2], "goals": [{"number": 1, "warnings": APART}], "created": 1}
    assert failed.error_params == {"detail": APART_DETAIL}
    assert (queued.result, queued.error_params) == (None, None), "nothing to convert, nothing written"
    db.session.get(Goal, goal_id).import_warnings = [*APART, {"bg": "Само тук.", "en": "Само тук."}]
    db.session.commit()

    _run(migration.downgrade)
    warnings, (job, failed, queued) = stored()
    assert warnings == [*JOINED, "Само тук."]
    assert job.result == {"warnings": JOINED[1:2], "goals": [{"number": 1, "warnings": JOINED}], "created": 1}
    assert failed.error_params == {"detail": JOINED_DETAIL}

    _run(migration.upgrade)  # and up again: the database is left at the head, as the other tests expect
    assert stored()[0] == [*APART, {"bg": "Само тук.", "en": "Само тук."}]
