"""National scale: 600 administrations × 10 years × 15 goals (90,000 goals, their indicators and
activities, about 1,000,000 audit events), generated in bulk (bench/generate.py). Measured in one
process with Flask's test client on PostgreSQL: p95 of the goal list (API), the goal page and a
head's and the governor's home page, with the SQL statements one request of each sends; the
reminder sweep with nothing due and with 1% of the active goals due, at one year (9,000 goals)
and at ten (90,000); and verifying one administration's audit chain.
"""

from __future__ import annotations

import re
import time
from contextlib import contextmanager
from datetime import date

import psycopg

from bench import generate
from bench.common import (
    bench_app,
    fresh_database,
    load,
    percentile,
    scaled,
    table,
    timed,
    verdict,
    write_section,
)

PASSWORD = "bench correct horse battery"
YEARS = 10
REPEAT = 60


def sweep_times(app, conn, world, year: int, today: date) -> dict:
    from service.extensions import db
    from service.notifications import reminders

    def run() -> tuple[float, int]:
        with app.app_context():
            start = time.perf_counter()
            report = reminders.sweep()
            elapsed = time.perf_counter() - start
            db.session.remove()
        return elapsed, report.queued

    idle = sorted(run()[0] for _ in range(5))[2]
    due = generate.due_share(conn, world, year, 0.01, today)
    due_first, queued = run()
    due_again = sorted(run()[0] for _ in range(3))[1]
    generate.undue(conn, today)
    conn.execute("DELETE FROM notifications")
    conn.commit()
    return {"idle": idle, "due": due, "first": due_first, "queued": queued, "again": due_again, "load": load()}


def login(client, email: str) -> None:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', page)
    response = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token.group(1)})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


def page_times(app, world) -> list[list]:
    from service.auth import service as tokens
    from service.extensions import db
    from service.org.models import User

    admin = world.admins[len(world.admins) // 2]
    with app.app_context():
        head = db.session.get(User, admin.heads[0])
        governor = db.session.get(User, admin.governor)
        _, head_token = tokens.issue_token(user=head, name="bench")
        _, governor_token = tokens.issue_token(user=governor, name="bench")
        head_email, governor_email = head.email, governor.email
        goal_id = db.session.execute(db.text(
            "SELECT g.id FROM goals g JOIN plans p ON p.id = g.plan_id JOIN goal_units gu ON gu.goal_id = g.id "
            "WHERE p.administration_id = :a AND gu.unit_id = :u ORDER BY p.year DESC LIMIT 1"),
            {"a": admin.id, "u": admin.units[0]}).scalar_one()
    rows = []
    cases = [
        ("goal list, API (governor: all 150 goals of 10 years, first page)", None, "/api/v1/goals", governor_token),
        ("goal list, API (head, current year)", None, f"/api/v1/goals?year={date.today().year}", head_token),
        ("goal page (head)", head_email, f"/goals/{goal_id}", None),
        ("head's home page", head_email, "/", None),
        ("governor's home page", governor_email, "/", None),
    ]
    clients = {}
    for label, email, path, token in cases:
        client = clients.get(email)
        if client is None:
            client = clients[email] = app.test_client()
            if email:
                login(client, email)
        headers = {"Authorization": f"Bearer {token}"} if token else {}

        def get(client=client, path=path, headers=headers) -> None:
            response = client.get(path, headers=headers)
            assert response.status_code == 200, (path, response.status_code)

        timed(get, 5)  # warm: the first calls compile templates and statements
        with counted_statements(app) as seen:
            get()
        times = timed(get, REPEAT)
        p95 = percentile(times, 95)
        rows.append([label, f"`{re.sub(r'/[0-9]+$', '/<id>', path)}`", len(seen), f"{percentile(times, 50):.1f}",
                     f"{p95:.1f}", verdict(p95 < 50), load()])
    return rows


@contextmanager
def counted_statements(app):
    """The SQL statements sent while the block runs (one request: a query per row shows here)."""
    from sqlalchemy import event

    from service.extensions import db

    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def main() -> None:
    administrations = scaled(600, 2)
    today = date.today()
    current = today.year
    with fresh_database() as url:
        app = bench_app(url)
        from service.org import service as org

        with app.app_context():
            password_hash = org.hash_password(PASSWORD)
        conn = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))
        world = generate.create_world(conn, administrations, password_hash)
        started = time.perf_counter()
        goals_one = generate.add_years(conn, world, [current], current, today)
        generate.finish(conn, world)
        # A first pass only warms the process up (its email templates compiled, its statements
        # cached), so that the two sizes compare the sweep and not a cold start.
        sweep_times(app, conn, world, current, today)
        sweep_one = sweep_times(app, conn, world, current, today)
        goals_all = goals_one + generate.add_years(conn, world, list(range(current - YEARS + 1, current)), current, today)
        generate.finish(conn, world)
        generate_s = time.perf_counter() - started
        counts = dict(conn.execute(
            "SELECT 'goals', count(*) FROM goals UNION ALL SELECT 'indicators', count(*) FROM indicators "
            "UNION ALL SELECT 'activities', count(*) FROM activities UNION ALL SELECT 'events', count(*) FROM events"
        ).fetchall())
        sweep_all = sweep_times(app, conn, world, current, today)
        pages = page_times(app, world)
        from service.audit import service as audit

        with app.app_context():
            start = time.perf_counter()
            report = audit.verify(world.admins[0].id)
            verify_s = time.perf_counter() - start
        assert report.ok, report
        conn.close()

    growth = sweep_all["first"] / sweep_one["first"]
    sweep_rows = [
        [f"{n:,} goals ({years})", f"{s['idle'] * 1000:.0f}", s["due"], s["queued"], f"{s['first'] * 1000:.0f}",
         f"{s['again'] * 1000:.0f}", s["load"]]
        for n, years, s in ((goals_one, "1 year", sweep_one), (goals_all, f"{YEARS} years", sweep_all))
    ]
    targets = [
        ["pages p95 < 50 ms", ", ".join(r[4] for r in pages) + " ms", verdict(all(r[5] == "met" for r in pages))],
        ["sweep with 1% due < 0.5 s (at national scale)", f"{sweep_all['first']:.2f} s", verdict(sweep_all["first"] < 0.5)],
        ["sweep grows < 1.5× from 9,000 to 90,000 goals", f"{growth:.2f} ×", verdict(growth < 1.5)],
    ]
    body = (
        f"{administrations} administrations, 4 directorates and 13 people each, {YEARS} plans of 15 goals "
        f"(2 indicators, 2 activities, 1–2 directorates each); the current year's plan is in force, the others "
        f"archived. Generated with COPY in {generate_s:.0f} s: "
        + ", ".join(f"{v:,} {k}" for k, v in counts.items())
        + f". Audit chains valid: `verify()` of one administration ({report.events_checked:,} events) "
        f"took {verify_s:.2f} s.\n\n### Pages ({REPEAT} requests each after 5 to warm up, in-process test client)\n\n"
        + table(["page", "path", "statements", "p50 ms", "p95 ms", "target p95 < 50 ms", "load average"], pages)
        + "\n\n### Reminder sweep\n\n\"1% due\": 1% of the current year's active goals have a deadline 7 days ahead "
        "(each reminds the people of its directorates). The first sweep queues them; a second finds them queued.\n\n"
        + table(["data", "nothing due ms", "goals due", "queued", "1% due, first sweep ms", "again ms",
                 "load average"], sweep_rows)
        + "\n\n### Targets\n\n" + table(["target", "measured", ""], targets)
    )
    write_section("national", "2. National scale", body)


if __name__ == "__main__":
    main()
