"""The second ceiling: a bare Flask + psycopg endpoint that executes exactly the SQL statements of
one goalflow decision, with their parameters, so that the benchmark separates the cost of the SQL
from the cost of the Python around it.

`python -m bench.replay capture FILE POOL` (in the application's environment) approves two
requests of POOL (one person's) through the API, in-process, and writes the statements of the second one (the
first warms the process, as the served application is warm) with their parameters to FILE.

`gunicorn bench.replay:app` with DATABASE_URL and REPLAY_FILE set serves `POST /replay/<request id>`:
one transaction running the captured statements in order, on one psycopg connection per worker,
each statement's rows fetched. The captured request's ids (request, goal, stage, slot) are replaced
by those of the request named in the path, its administration's id by the request's (so that the
locks are spread over the administrations as the application's are), and the few values that must
be unique per decision (the audit events' chain, the messages' keys) are made so. The ids of every
open request are read once at start-up, not per request.
"""

from __future__ import annotations

import os
import pickle
import sys
from pathlib import Path

# The values a replay replaces: found by value for the four ids (large, distinct numbers), by the
# parameter's name for the administration (a small number, like many others).
ADMINISTRATION_NAMES = ("administration_id", "chain_id")


def capture(out: Path, pool: Path) -> None:
    """Approve two requests of `pool` ("<id> <token>" lines) with one token through the API and keep
    the statements of the second."""
    from sqlalchemy import event, select

    from service.app import create_app
    from service.approvals.models import RequestStage, StageSlot, TransitionRequest
    from service.extensions import db

    app = create_app()
    client = app.test_client()
    lines = [line.split() for line in pool.read_text().splitlines() if line.strip()]
    first, first_token = lines[0]
    # The second with the same token: the first has recorded its use (once every few minutes).
    second, second_token = next(line for line in lines[1:] if line[1] == first_token)
    with app.app_context():
        request_id, goal_id, stage_id, slot_id, administration_id = db.session.execute(
            select(TransitionRequest.id, TransitionRequest.subject_id, RequestStage.id, StageSlot.id,
                   TransitionRequest.administration_id)
            .join(RequestStage, RequestStage.request_id == TransitionRequest.id)
            .join(StageSlot, StageSlot.stage_id == RequestStage.id)
            .where(TransitionRequest.id == int(second))
        ).one()
        engine = db.engine
    seen: list[tuple[str, object, bool]] = []

    def on(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, parameters, executemany))

    for rid, token, keep in ((first, first_token, False), (second, second_token, True)):
        if keep:
            event.listen(engine, "before_cursor_execute", on)
        response = client.post(f"/api/v1/approvals/{rid}/approve", json={},
                               headers={"Authorization": f"Bearer {token}"})
        if keep:
            event.remove(engine, "before_cursor_execute", on)
        if response.status_code != 200:
            raise SystemExit(f"capture: {response.status_code} {response.get_data(as_text=True)}")
    ids = {"request": request_id, "goal": goal_id, "stage": stage_id, "slot": slot_id}
    if len(set(ids.values())) < 4 or min(ids.values()) < 100:
        raise SystemExit(f"capture: the ids must be distinct numbers above 100 to be replaced: {ids}")
    out.write_bytes(pickle.dumps({"statements": seen, "ids": ids, "administration": administration_id}))
    print(f"captured {len(seen)} statements of the decision on request {request_id}")


# -- the endpoint ------------------------------------------------------------------------------

_conn = None
_plan: dict | None = None
_targets: dict[int, tuple[int, int, int, int]] = {}


def _connection():
    """One connection per worker process, opened after the fork."""
    global _conn
    import psycopg

    if _conn is None or _conn.closed:
        url = os.environ["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://", 1)
        _conn = psycopg.connect(url)
    return _conn


def _load() -> None:
    global _plan
    _plan = pickle.loads(Path(os.environ["REPLAY_FILE"]).read_bytes())
    with _connection() as conn:
        rows = conn.execute(
            "SELECT r.id, r.subject_id, s.id, sl.id, r.administration_id FROM transition_requests r"
            " JOIN request_stages s ON s.request_id = r.id JOIN stage_slots sl ON sl.stage_id = s.id"
            " WHERE r.status = 'open'"
        ).fetchall()
    _targets.update({r[0]: r[1:] for r in rows})


def _substitute(statement: str, parameters, mapping: dict, administration: int, request_id: int):
    """The captured parameters with the target request's values in place of the captured one's."""
    events = statement.lstrip().upper().startswith("INSERT INTO EVENTS")

    def one(name, value):
        if isinstance(value, bool) or not isinstance(value, int | str):
            return value
        if isinstance(name, str):
            if events and name.startswith("chain_id"):
                return -request_id  # a chain of its own: (chain, seq) stays unique
            if name.startswith(ADMINISTRATION_NAMES):
                return administration
            if name.startswith("key"):  # the outbox's unique key
                return f"{value[:48]}{request_id}"
        return mapping.get(value, value) if isinstance(value, int) else value

    def row(params):
        if isinstance(params, dict):
            return {k: one(k, v) for k, v in params.items()}
        return type(params)(one(None, v) for v in params)

    return row(parameters)


def create_app():
    from flask import Flask

    flask_app = Flask(__name__)
    _load()  # in each worker, before it serves

    @flask_app.post("/replay/<int:request_id>")
    def replay(request_id: int):
        target = _targets.get(request_id)
        if target is None:
            return {"error": "not found"}, 404
        goal_id, stage_id, slot_id, administration = target
        ids = _plan["ids"]
        mapping = {ids["request"]: request_id, ids["goal"]: goal_id, ids["stage"]: stage_id, ids["slot"]: slot_id}
        conn = _connection()
        with conn.transaction(), conn.cursor() as cursor:
            for statement, parameters, many in _plan["statements"]:
                if many and not isinstance(parameters, dict):  # a dict: one batched INSERT ... VALUES
                    cursor.executemany(statement, [_substitute(statement, p, mapping, administration, request_id)
                                                   for p in parameters])
                else:
                    cursor.execute(statement, _substitute(statement, parameters, mapping, administration, request_id))
                    if cursor.description is not None:
                        cursor.fetchall()
        return {"id": request_id, "status": "approved"}

    return flask_app


app = create_app() if os.environ.get("REPLAY_FILE") else None


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "capture":
        capture(Path(sys.argv[2]), Path(sys.argv[3]))
    else:
        print(__doc__)
        sys.exit(2)
