"""The ceiling: a bare Flask and SQLAlchemy endpoint doing the SQL a decision must do at least
(lock the goal row, update it, insert an event), served like the application (gunicorn, same
workers). `gunicorn bench.ceiling:app` with DATABASE_URL set."""

from __future__ import annotations

import json
import os

from flask import Flask
from sqlalchemy import create_engine, text

app = Flask(__name__)
engine = create_engine(os.environ["DATABASE_URL"], pool_pre_ping=True)

LOCK = text("SELECT id, state, version FROM goals WHERE id = :id FOR UPDATE")
UPDATE = text("UPDATE goals SET state = 'in_progress', version = version + 1, updated_at = now() WHERE id = :id")
EVENT = text(
    "INSERT INTO events (chain_id, seq, at, actor_id, action, subject_type, subject_id, before, after, reason,"
    " prev_hash, hash) VALUES (:chain, :seq, now(), NULL, 'state_changed', 'goal', :id, :before, :after, '',"
    " :prev, :hash)"
)


@app.post("/decide/<int:goal_id>")
def decide(goal_id: int):
    with engine.begin() as conn:
        row = conn.execute(LOCK, {"id": goal_id}).one_or_none()
        if row is None:
            return {"error": "not found"}, 404
        conn.execute(UPDATE, {"id": goal_id})
        conn.execute(EVENT, {"chain": -goal_id, "seq": row.version + 1, "id": goal_id,
                             "before": json.dumps({"state": row.state}), "after": json.dumps({"state": "in_progress"}),
                             "prev": "0" * 64, "hash": "0" * 64})
    return {"id": goal_id, "state": "in_progress"}
