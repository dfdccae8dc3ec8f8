"""import warnings and refusals kept in each language apart: {"bg": ..., "en": ...}

Until now an import warning was stored as one string, "Български / English". Each becomes
{"bg": "Български", "en": "English"}: in a goal's import_warnings, in an import job's result (the
document's warnings and each goal's) and in a failed job's refusal (error_params.detail). The
downgrade writes them back as one string. The audit trail keeps what it recorded, as it was.

Revision ID: c4e8a1f9d2b6
Revises: b7c41e2d9a10
Create Date: 2026-12-01 08:00:00

"""
import re

from alembic import op
import sqlalchemy as sa


revision = 'c4e8a1f9d2b6'
down_revision = 'b7c41e2d9a10'
branch_labels = None
depends_on = None

SEPARATOR = " / "  # how the two languages used to be joined
CYRILLIC = re.compile("[\u0400-\u04ff]")
LATIN_START = re.compile("[A-Za-z]")

goals = sa.table('goals', sa.column('id', sa.Integer), sa.column('import_warnings', sa.JSON))
import_jobs = sa.table(
    'import_jobs', sa.column('id', sa.Integer), sa.column('filename', sa.String),
    sa.column('result', sa.JSON), sa.column('error_params', sa.JSON),
)


def split(text, prefix=""):
    """"Български / English" -> {"bg": ..., "en": ...}. The English half begins with a Latin letter
    after the first " / " that leaves the Bulgarian half in Cyrillic with its quotes closed (a message
    may quote the document's own words, " / " included). A text that is not two halves is the same in
    both. `prefix` (a file's name) began the Bulgarian half only: the English one gets it too."""
    if not isinstance(text, str):
        return text
    found = None
    for match in re.finditer(re.escape(SEPARATOR), text):
        bg, en = text[:match.start()], text[match.end():]
        if not (CYRILLIC.search(bg) and LATIN_START.match(en)):
            continue
        closed = bg.count("„") == bg.count("“") and en.count("“") == en.count("”")
        if closed:
            found = (bg, en)
            break
        found = found or (bg, en)
    if found is None:
        return {"bg": text, "en": text}
    bg, en = found
    if prefix and bg.startswith(prefix) and not en.startswith(prefix):
        en = prefix + en
    return {"bg": bg, "en": en}


def join(value, prefix=""):
    """{"bg": ..., "en": ...} -> "Български / English", as it was stored before (the English half
    without the file's name, as it was written)."""
    if not (isinstance(value, dict) and set(value) == {"bg", "en"}):
        return value
    bg, en = value["bg"], value["en"]
    if bg == en:
        return bg
    if prefix and en.startswith(prefix):
        en = en[len(prefix):]
    return f"{bg}{SEPARATOR}{en}"


def _warnings(values, change):
    return [change(value) for value in values] if isinstance(values, list) else values


def _result(result, change):
    if not isinstance(result, dict):
        return result
    result = dict(result, warnings=_warnings(result.get('warnings'), change))
    if isinstance(result.get('goals'), list):
        result['goals'] = [
            dict(goal, warnings=_warnings(goal.get('warnings'), change)) if isinstance(goal, dict) else goal
            for goal in result['goals']
        ]
    return result


def _params(params, change, filename):
    if not isinstance(params, dict) or 'detail' not in params:
        return params
    return dict(params, detail=change(params['detail'], f"{filename}: " if filename else ""))


def _convert(change):
    conn = op.get_bind()
    for row in conn.execute(sa.select(goals.c.id, goals.c.import_warnings)).all():
        converted = _warnings(row.import_warnings, change)
        if converted != row.import_warnings:
            conn.execute(goals.update().where(goals.c.id == row.id).values(import_warnings=converted))
    for row in conn.execute(sa.select(import_jobs.c.id, import_jobs.c.filename, import_jobs.c.result,
                                      import_jobs.c.error_params)).all():
        result = _result(row.result, change)
        params = _params(row.error_params, change, row.filename)
        changed = {name: value for name, value, was in (('result', result, row.result),
                                                        ('error_params', params, row.error_params)) if value != was}
        if changed:  # only what changed: an absent result stays SQL NULL, not JSON null
            conn.execute(import_jobs.update().where(import_jobs.c.id == row.id).values(**changed))


def upgrade():
    _convert(split)


def downgrade():
    _convert(join)
