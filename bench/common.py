"""What every benchmark shares: the scale, the machine, percentiles, and docs/benchmarks.md.

Each benchmark owns one section of docs/benchmarks.md, between `<!-- bench:NAME -->` and
`<!-- /bench:NAME -->`; running it again replaces only that section, with the date, the load
average and the scale it ran at.
"""

from __future__ import annotations

import os
import platform
import re
import resource
import statistics
import subprocess
import time
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "docs" / "benchmarks.md"
PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379")
REDIS_DB = int(os.environ.get("BENCH_REDIS_DB", "12"))


def scale() -> float:
    """BENCH_SCALE=0.01 runs everything at 1% of the issue's sizes (1 = full size)."""
    return float(os.environ.get("BENCH_SCALE", "1"))


def scaled(full: int, minimum: int = 1) -> int:
    return max(minimum, round(full * scale()))


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f}"


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    memory_kib = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
    try:
        pg = subprocess.run(["psql", PG_ADMIN_URL, "-Atc", "show server_version"], capture_output=True,
                            text=True, timeout=10).stdout.strip()
    except OSError:
        pg = "?"
    return (f"{os.cpu_count()} × {cpu}, {memory_kib // 1024} MiB RAM, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}, PostgreSQL {pg}")


def percentile(values: Iterable[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    if len(ordered) == 1:
        return ordered[0]
    return statistics.quantiles(ordered, n=100, method="inclusive")[int(p) - 1] if p < 100 else ordered[-1]


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    """Milliseconds of each of `repeat` calls."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return times


@contextmanager
def stopwatch() -> Iterable[dict]:
    """`with stopwatch() as t: ...` then t["s"] is the wall time in seconds and t["load"] the load at the start."""
    result = {"load": load()}
    start = time.perf_counter()
    yield result
    result["s"] = time.perf_counter() - start


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024


def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def table(header: list[str], rows: list[list[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def write_section(name: str, title: str, body: str) -> None:
    """Replace (or add) this benchmark's section of docs/benchmarks.md."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    block = (f"<!-- bench:{name} -->\n## {title}\n\n"
             f"Run {stamp} at BENCH_SCALE={scale():g} on {machine()}.\n\n{body.strip()}\n<!-- /bench:{name} -->")
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else HEADER
    pattern = re.compile(rf"<!-- bench:{re.escape(name)} -->.*?<!-- /bench:{re.escape(name)} -->", re.S)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block + "\n"
    RESULTS.write_text(text, encoding="utf-8")
    print(block)


HEADER = """# Benchmarks

How fast goalflow is, how big it gets, and how the cost grows. `make bench` runs every script in
`bench/` and rewrites the sections below; `BENCH_SCALE=0.05 make bench` runs smaller sizes, and
`make bench BENCH=approvals` one benchmark. The load average (1, 5 and 15 minutes) is printed beside
each figure: on a shared machine it says how much else was running.
"""


@contextmanager
def fresh_database(prefix: str = "goalflow_bench", keep: bool = False):
    """A new PostgreSQL database with the schema built by the migrations; dropped afterwards."""
    import uuid

    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = base.replace("postgresql://", "postgresql+psycopg://", 1) + "/" + name
    try:
        env = {**os.environ, "DATABASE_URL": url, "VAR_DIR": f"/tmp/{name}", "PYTHONPATH": str(ROOT)}
        subprocess.run([str(Path(os.sys.executable).parent / "flask"), "--app", "service", "db", "upgrade"],
                       cwd=ROOT, env=env, check=True, capture_output=True)
        yield url
    finally:
        if not keep:
            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def bench_app(database_url: str, **overrides):
    """The application on `database_url`, as production runs it, without a broker to nudge."""
    from service.app import create_app
    from service.config import Settings

    var_dir = Path(f"/tmp/{database_url.rsplit('/', 1)[1]}")
    settings = Settings(
        ENV="test", SECRET_KEY="bench-secret-key-that-is-long-enough-0123456789", DATABASE_URL=database_url,
        VAR_DIR=str(var_dir), BROKER_URL=f"sqla+sqlite:///{var_dir / 'broker.db'}", MAIL_DIR=str(var_dir / "mail"),
        PASSWORD_HASH_TIME_COST=1, PASSWORD_HASH_MEMORY_KIB=64, OUTBOX_KICK=False, LOG_LEVEL="WARNING",
    )
    for key, value in overrides.items():
        setattr(settings, key, value)
    return create_app(settings)


class QueryCounter:
    """Counts the statements an engine runs (`with QueryCounter(engine) as q: ...; q.count`)."""

    def __init__(self, engine):
        self.engine, self.count, self.statements = engine, 0, []

    def _on(self, conn, cursor, statement, *args) -> None:
        self.count += 1
        self.statements.append(statement)

    def __enter__(self):
        from sqlalchemy import event

        event.listen(self.engine, "before_cursor_execute", self._on)
        return self

    def __exit__(self, *exc) -> None:
        from sqlalchemy import event

        event.remove(self.engine, "before_cursor_execute", self._on)
