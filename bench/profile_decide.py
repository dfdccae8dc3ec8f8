"""`python -m bench.profile_decide [N]`: N approvals through the API in one process (Flask's
test client, PostgreSQL), after a warm-up; prints milliseconds and SQL statements per decision and
a pyinstrument profile. What the HTTP benchmark measures, without the network and the load."""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from bench.common import QueryCounter, bench_app, fresh_database


def main(n: int = 200) -> None:
    from pyinstrument import Profiler

    from bench.seed_approvals import seed
    from service.extensions import db

    with fresh_database() as url:
        app = bench_app(url)
        out = Path(tempfile.mkdtemp())
        with app.app_context():
            seed(2, n + 20, out)
        lines = (out / "pool-1.txt").read_text().split()
        pairs = list(zip(lines[0::2], lines[1::2], strict=True))
        client = app.test_client()

        def approve(request_id: str, token: str) -> None:
            response = client.post(f"/api/v1/approvals/{request_id}/approve", json={},
                                   headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 200, response.get_data(as_text=True)

        for request_id, token in pairs[:20]:
            approve(request_id, token)
        with app.app_context():
            engine = db.engine
        profiler = Profiler(interval=0.0005)
        with QueryCounter(engine) as queries:
            start = time.perf_counter()
            profiler.start()
            for request_id, token in pairs[20:n + 20]:
                approve(request_id, token)
            profiler.stop()
            elapsed = time.perf_counter() - start
        print(f"{n} decisions: {1000 * elapsed / n:.1f} ms and {queries.count / n:.1f} statements each")
        for statement in queries.statements[: queries.count // n]:
            print("  ", " ".join(statement.split())[:160])
        print(profiler.output_text(unicode=True, color=False, show_all=False))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
