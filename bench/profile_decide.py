"""`python -m bench.profile_decide [N]`: N approvals through the API in one process (Flask's
test client, PostgreSQL), after a warm-up; prints the SQL statements of one decision, the
in-process CPU and wall time per decision (without a profiler), then a pyinstrument profile of
another N. What the HTTP benchmark measures, without the network and the load.
`--html FILE` also writes the profile as HTML."""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from bench.common import QueryCounter, bench_app, fresh_database


def main(n: int = 200, html: str | None = None) -> None:
    from pyinstrument import Profiler

    from bench.seed_approvals import seed
    from service.extensions import db

    with fresh_database() as url:
        app = bench_app(url)
        out = Path(tempfile.mkdtemp())
        with app.app_context():
            seed(2, 2 * n + 20, out)
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
        with QueryCounter(engine) as queries:
            wall, cpu = time.perf_counter(), time.process_time()
            for request_id, token in pairs[20:n + 20]:
                approve(request_id, token)
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        print(f"{n} decisions: {queries.count / n:.1f} statements, {1000 * cpu / n:.2f} ms in-process CPU and "
              f"{1000 * wall / n:.2f} ms wall each (no profiler)")
        for statement in queries.statements[: queries.count // n]:
            print("  ", " ".join(statement.split())[:200])
        profiler = Profiler(interval=0.0005)
        profiler.start()
        for request_id, token in pairs[n + 20:2 * n + 20]:
            approve(request_id, token)
        profiler.stop()
        print(profiler.output_text(unicode=True, color=False, show_all=False))
        if html:
            Path(html).write_text(profiler.output_html(), encoding="utf-8")


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--html")]
    html = next((a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("--html=")), None)
    main(int(args[0]) if args else 200, html)
