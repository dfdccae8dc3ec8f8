"""The national data set, written in bulk with COPY (not through the services), in rows the
services read as their own: administrations with directorates and one person per role, a plan a
year with 15 goals, their indicators, activities and responsible units, and an audit trail whose
hash chain per administration `verify()` accepts.

Years are added in calls to `add_years`, so that a benchmark can measure at one year (9,000 goals
at full scale) and again at ten (90,000).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import psycopg

from service.audit.service import GENESIS, _canonical, _digest

UNITS_PER_ADMIN = 4
GOALS_PER_PLAN = 15
EVENTS_PER_GOAL = 11  # about 1,000,000 for 90,000 goals
ROLES = ("governor", "deputy_governor", "chief_secretary", "observer", "admin")


@dataclass
class Admin:
    id: int
    units: list[int]
    heads: list[int]
    experts: list[int]
    governor: int
    chain_seq: int = 0
    chain_hash: str = GENESIS


@dataclass
class World:
    admins: list[Admin] = field(default_factory=list)
    next_id: dict[str, int] = field(default_factory=dict)
    password_hash: str = ""
    goals_by_year: dict[int, list[int]] = field(default_factory=dict)

    def ids(self, table: str, n: int) -> range:
        start = self.next_id.get(table, 1)
        self.next_id[table] = start + n
        return range(start, start + n)


def _copy(conn: psycopg.Connection, table: str, columns: tuple[str, ...], rows) -> None:
    with conn.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def create_world(conn: psycopg.Connection, administrations: int, password_hash: str) -> World:
    world = World(password_hash=password_hash)
    now = datetime.now(UTC)
    admin_rows, unit_rows, user_rows, role_rows = [], [], [], []
    for a in world.ids("administrations", administrations):
        admin_rows.append((a, f"Областна администрация {a}", f"oa-{a}", now))
        units = list(world.ids("units", UNITS_PER_ADMIN))
        unit_rows += [(u, a, None, f"Д{u}", f"Дирекция {u}", "directorate") for u in units]
        people = []
        for role in ROLES:
            people.append((role, None))
        for u in units:
            people += [("head", u), ("expert", u)]
        ids = list(world.ids("users", len(people)))
        heads, experts, governor = [], [], 0
        for uid, (role, unit) in zip(ids, people, strict=True):
            user_rows.append((uid, a, f"{role}.{unit or 0}.{a}@oa.bg", f"{role} {unit or ''} {a}", password_hash,
                              "bg", True, 0, now))
            role_rows.append((world.ids("role_assignments", 1)[0], uid, role.upper(), unit))
            if role == "head":
                heads.append(uid)
            elif role == "expert":
                experts.append(uid)
            elif role == "governor":
                governor = uid
        world.admins.append(Admin(a, units, heads, experts, governor))
    _copy(conn, "administrations", ("id", "name", "slug", "created_at"), admin_rows)
    _copy(conn, "units", ("id", "administration_id", "parent_id", "code", "name", "kind"), unit_rows)
    _copy(conn, "users", ("id", "administration_id", "email", "name", "password_hash", "locale", "active",
                          "session_generation", "created_at"), user_rows)
    _copy(conn, "role_assignments", ("id", "user_id", "role", "unit_id"), role_rows)
    return world


def add_years(conn: psycopg.Connection, world: World, years: list[int], current: int, today: date,
              events: bool = True, goals_per_plan: int = GOALS_PER_PLAN) -> int:
    """Plans, goals, indicators, activities and (optionally) events for these years; returns goals added."""
    rng = random.Random(sum(years))
    now = datetime.now(UTC)
    added = 0
    for admin in world.admins:
        plans, goals, links, indicators, activities, event_rows = [], [], [], [], [], []
        for year in years:
            in_force = year == current
            plan_id = world.ids("plans", 1)[0]
            plans.append((plan_id, admin.id, year, "BGN", "reporting" if in_force else "archived", now, 1,
                          datetime(year, 1, 20, tzinfo=UTC), admin.governor))
            for number in range(1, goals_per_plan + 1):
                goal_id = world.ids("goals", 1)[0]
                world.goals_by_year.setdefault(year, []).append(goal_id)
                state = rng.choice(("planned", "in_progress", "in_progress")) if in_force else rng.choice(
                    ("done", "done", "not_done"))
                # Active goals: deadlines 45+ days ahead, outside every reminder window (nothing due).
                deadline = today + timedelta(days=45 + rng.randrange(200)) if in_force else date(year, 12, 31)
                goals.append((goal_id, plan_id, number, f"Цел {number} на {year} г. — подобряване на услугите",
                              "Стратегия за развитие", "Стратегическа цел", "Индикатор", 10000, "BGN", "Бюджет",
                              False, state, "", "", deadline, False, "[]", "[]", 1, now, now))
                units = rng.sample(admin.units, rng.choice((1, 1, 2)))
                links += [(goal_id, u) for u in units]
                for position in range(2):
                    achieved = None if in_force else 8
                    indicators.append((world.ids("indicators", 1)[0], goal_id, position, f"Показател {position + 1}",
                                       "брой", 2, "2", 10, "10", achieved, "" if achieved is None else "8"))
                for position in range(2):
                    activities.append((world.ids("activities", 1)[0], goal_id, position, f"Дейност {position + 1}",
                                       deadline, not in_force))
                if events:
                    event_rows += _goal_events(world, admin, goal_id, units, state, year, rng)
        _copy(conn, "plans", ("id", "administration_id", "year", "currency", "state", "created_at", "version",
                              "approved_at", "approved_by_id"), plans)
        _copy(conn, "goals", ("id", "plan_id", "number", "title", "strategic_documents", "strategic_goal",
                              "strategic_indicator", "financing_amount", "financing_currency", "financing_source",
                              "financing_not_applicable", "state", "status_wording", "progress_note", "deadline",
                              "needs_review", "import_warnings", "source_cells", "version", "created_at", "updated_at"),
              goals)
        _copy(conn, "goal_units", ("goal_id", "unit_id"), links)
        _copy(conn, "indicators", ("id", "goal_id", "position", "name", "unit", "baseline", "baseline_text", "target",
                                   "target_text", "achieved", "achieved_text"), indicators)
        _copy(conn, "activities", ("id", "goal_id", "position", "title", "deadline", "done"), activities)
        _copy(conn, "events", ("id", "chain_id", "seq", "at", "actor_id", "on_behalf_of_id", "action", "subject_type",
                               "subject_id", "request_id", "before", "after", "reason", "prev_hash", "hash"), event_rows)
        added += len(goals)
    return added


def _goal_events(world: World, admin: Admin, goal_id: int, units: list[int], state: str, year: int,
                 rng: random.Random) -> list[tuple]:
    """A goal's history: created, then asked for, approved and applied, a few times over."""
    at = datetime(year, 1, 20, 9, 0, tzinfo=UTC) + timedelta(minutes=rng.randrange(100_000))
    head = admin.heads[admin.units.index(units[0])]
    expert = admin.experts[admin.units.index(units[0])]
    steps = [("goal_created", expert, None, {"state": "planned"})]
    while len(steps) < EVENTS_PER_GOAL:
        steps += [("transition_requested", expert, {"state": "planned", "version": 1}, {"transition": "start"}),
                  ("approved", head, None, {"stage": "heads"}),
                  ("state_changed", head, {"state": "planned"}, {"state": state})]
    rows = []
    for action, actor, before, after in steps[:EVENTS_PER_GOAL]:
        at += timedelta(minutes=7)
        event = SimpleNamespace(
            chain_id=admin.id, seq=admin.chain_seq + 1, prev_hash=admin.chain_hash, at=at, actor_id=actor,
            on_behalf_of_id=None, action=action, subject_type="goal", subject_id=goal_id, request_id=None,
            before=before, after=after, reason="",
        )
        event.hash = _digest(event)
        admin.chain_seq, admin.chain_hash = event.seq, event.hash
        rows.append((world.ids("events", 1)[0], admin.id, event.seq, at.replace(tzinfo=None), actor, None, action,
                     "goal", goal_id, None, None if before is None else _canonical(before),
                     None if after is None else _canonical(after), "", event.prev_hash, event.hash))
    return rows


def finish(conn: psycopg.Connection, world: World) -> None:
    """Chain heads, sequences past the generated ids, fresh statistics."""
    conn.execute("DELETE FROM audit_chain_heads WHERE chain_id = ANY(%s)", ([a.id for a in world.admins],))
    _copy(conn, "audit_chain_heads", ("chain_id", "seq", "hash"),
          [(a.id, a.chain_seq, a.chain_hash) for a in world.admins if a.chain_seq])
    for table, next_id in world.next_id.items():
        conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), %s)", (next_id,))
    conn.commit()
    conn.execute("ANALYZE")


def due_share(conn: psycopg.Connection, world: World, year: int, share: float, today: date) -> int:
    """Move `share` of the year's active goals to a deadline 7 days ahead (a reminder is due today)."""
    goal_ids = world.goals_by_year[year]
    chosen = random.Random(7).sample(goal_ids, max(1, round(len(goal_ids) * share)))
    conn.execute("UPDATE goals SET deadline = %s, state = 'in_progress' WHERE id = ANY(%s)",
                 (today + timedelta(days=7), chosen))
    conn.commit()
    return len(chosen)


def undue(conn: psycopg.Connection, today: date) -> None:
    conn.execute("UPDATE goals SET deadline = %s WHERE deadline = %s", (today + timedelta(days=60), today + timedelta(days=7)))
    conn.commit()

