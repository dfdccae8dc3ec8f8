"""Seed the approval benchmark's database (run inside the production environment, like migrate).

`python -m bench.seed_approvals ADMINISTRATIONS POOL OUT_DIR [POOLS]`: each administration gets one
directorate, an expert and a head, an approved plan and goals in state `planned`; every goal has
an open `start` request by the expert, waiting for the head (the request rows are written in bulk,
as the service would write them). Writes OUT_DIR/pool-<n>.txt, lines "<request id> <head's token>",
split into POOLS (default 2) pools of POOL requests (one per run), and OUT_DIR/ceiling-<n>.txt with
goals for the bare endpoint (half as many pools).
"""

from __future__ import annotations

import random
import sys
from datetime import date
from pathlib import Path

from sqlalchemy import insert, text

from service.app import create_app
from service.db import utcnow

PASSWORD = "bench correct horse battery"


def seed(administrations: int, pool: int, out: Path, pools: int = 2) -> None:
    from service.approvals.models import RequestStage, StageSlot, TransitionRequest
    from service.auth import service as tokens
    from service.extensions import db
    from service.goals.models import Goal, Plan, goal_units
    from service.org import service as org
    from service.org.models import Role

    ceiling_pools = max(2, -(-pools // 2))
    if db.engine.dialect.name == "postgresql":
        # Ids of requests, stages and slots in ranges of their own, so that bench/replay.py tells them
        # apart by value (the goals' ids stay below them).
        for sequence, start in (("transition_requests_id_seq", 30_000_000), ("request_stages_id_seq", 40_000_000),
                                ("stage_slots_id_seq", 50_000_000)):
            db.session.execute(text(f"SELECT setval('{sequence}', greatest({start}, (SELECT last_value FROM {sequence})))"))
    per_admin = -(-(pools * pool) // administrations)
    ceiling_per_admin = -(-(ceiling_pools * pool) // administrations)
    lines: list[str] = []
    ceiling: list[str] = []
    now = utcnow()
    for a in range(administrations):
        admin = org.create_administration(name=f"Областна администрация {a}", slug=f"bench-{a}")
        unit = org.create_unit(administration=admin, code=f"Д{a}", name=f"Дирекция {a}")
        expert = org.create_user(email=f"expert{a}@bench.bg", name=f"Експерт {a}", password=PASSWORD,
                                 administration=admin, roles=[(Role.EXPERT, unit)])
        head = org.create_user(email=f"head{a}@bench.bg", name=f"Директор {a}", password=PASSWORD,
                               administration=admin, roles=[(Role.HEAD, unit)])
        _, secret = tokens.issue_token(user=head, name="bench", days=2)
        plan = Plan(administration_id=admin.id, year=date.today().year, currency="BGN", state="approved")
        db.session.add(plan)
        db.session.flush()
        total = per_admin + ceiling_per_admin
        goal_ids = db.session.scalars(
            insert(Goal).returning(Goal.id, sort_by_parameter_order=True),
            [{"plan_id": plan.id, "number": n + 1, "title": f"Цел {n + 1}", "state": "planned",
              "import_warnings": [], "source_cells": [], "created_at": now, "updated_at": now}
             for n in range(total)],
        ).all()
        db.session.execute(insert(goal_units), [{"goal_id": g, "unit_id": unit.id} for g in goal_ids])
        asked, spare = goal_ids[:per_admin], goal_ids[per_admin:]
        request_ids = db.session.scalars(
            insert(TransitionRequest).returning(TransitionRequest.id, sort_by_parameter_order=True),
            [{"administration_id": admin.id, "workflow": "goal", "subject_type": "goal", "subject_id": g,
              "transition": "start", "from_state": "planned", "to_state": "in_progress", "reason": "", "data": {},
              "status": "open", "current_stage": 0, "requested_by_id": expert.id, "created_at": now,
              "close_reason": "", "version": 1} for g in asked],
        ).all()
        stage_ids = db.session.scalars(
            insert(RequestStage).returning(RequestStage.id, sort_by_parameter_order=True),
            [{"request_id": r, "position": 0, "name": "heads", "rule": "all_of", "allow_requester": True,
              "status": "active", "activated_at": now} for r in request_ids],
        ).all()
        db.session.execute(insert(StageSlot), [{"stage_id": s, "role": "head", "unit_id": unit.id,
                                                "status": "pending"} for s in stage_ids])
        db.session.commit()
        lines += [f"{r} {secret}" for r in request_ids]
        ceiling += [str(g) for g in spare]
    # Mixed administrations: every client works for all of them, as in the country.
    random.Random(1).shuffle(lines)
    random.Random(2).shuffle(ceiling)
    out.mkdir(parents=True, exist_ok=True)
    for n in range(pools):
        (out / f"pool-{n + 1}.txt").write_text("\n".join(lines[n::pools]) + "\n")
    for n in range(ceiling_pools):
        (out / f"ceiling-{n + 1}.txt").write_text("\n".join(ceiling[n::ceiling_pools]) + "\n")


if __name__ == "__main__":
    app = create_app()
    with app.app_context():
        seed(int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4]) if len(sys.argv) > 4 else 2)
