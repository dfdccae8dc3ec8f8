"""Approval throughput and latency: the production shape (gunicorn, Celery, PostgreSQL, Redis,
deploy/prod_local.py) under 16 and 64 concurrent clients driven by wrk from its own process.
Every request is a head's approval over the API with a bearer token; each one applies a `start`
transition (its one stage is the heads'). In the same run, two ceilings under the same gunicorn
settings and the same load: a bare Flask and SQLAlchemy endpoint doing the least SQL a decision
needs (bench/ceiling.py), and a bare Flask + psycopg endpoint executing exactly the statements of
one goalflow decision, captured with their parameters (bench/replay.py): the first says what the
whole costs, the second what the Python around the same SQL costs. Then one client alone (one
person's latency). Afterwards: the resident size of the web and Celery worker processes.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

from bench.common import (
    PG_ADMIN_URL,
    REDIS_DB,
    REDIS_URL,
    ROOT,
    load,
    rss_mib,
    scaled,
    table,
    verdict,
    write_section,
)
from deploy.prod_local import ProdLocal, free_port, http_status

CLIENTS = (16, 64, 1)
ADMINISTRATIONS = 8
WRK_THREADS = 2


def wrk(url: str, path_format: str, pool: Path, clients: int, seconds: int) -> dict:
    threads = min(WRK_THREADS, clients)  # wrk wants a connection per thread at least
    env = {**os.environ, "POOL_FILE": str(pool), "WRK_THREADS": str(threads), "PATH_FORMAT": path_format}
    started_load = load()
    out = subprocess.run(
        ["wrk", "-t", str(threads), "-c", str(clients), "-d", f"{seconds}s", "--timeout", "10s",
         "-s", str(ROOT / "bench" / "decide.lua"), url],
        capture_output=True, text=True, env=env, timeout=seconds + 60, check=True,
    ).stdout
    line = next(line for line in out.splitlines() if line.startswith("JSON "))
    result = json.loads(line[5:])
    result["rate"] = result["requests"] / (result["duration_us"] / 1e6)
    result["errors"] = sum(result[k] for k in ("non2xx", "connect", "read", "write", "timeout"))
    result["load"] = started_load
    return result


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found += [int(child) for child in text]
    return found


def descendants(pid: int) -> list[int]:
    result = []
    for child in children(pid):
        result += [child, *descendants(child)]
    return result


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU time of these processes so far."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:  # a pool process replaced meanwhile
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def postgres_cpu_seconds() -> float:
    """CPU time of the PostgreSQL server so far: its live processes, and the backends that have
    ended (the postmaster's children's time), so that a connection closed during a run still counts."""
    pids = postgres_pids()
    total = cpu_seconds(pids)
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        if int(fields[1]) not in pids:  # the postmaster: its parent is not PostgreSQL
            total += (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")
    return total


def postgres_pids() -> list[int]:
    """The PostgreSQL server's processes (its backends serve both the application and the ceiling)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    found.append(int(entry.name))
            except OSError:  # gone meanwhile
                continue
    return found


def start_bare(prod: ProdLocal, run_dir: Path, module: str, probe: str, **env_extra: str) -> tuple[subprocess.Popen, str]:
    """A bare endpoint (bench/ceiling.py, bench/replay.py) under the application's gunicorn settings."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": prod.database_url, "PYTHONPATH": str(ROOT), **env_extra}
    name = module.rsplit(".", 1)[1]
    log = (run_dir / f"{name}.log").open("ab")
    workers = prod.spec("web").environment.get("WEB_CONCURRENCY") or "2"  # compose's value, as the app runs
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "--workers", workers, "--bind", f"127.0.0.1:{port}",
         "--timeout", "60", f"{module}:app"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while http_status(url + probe) is None:  # GET: 405 once it listens
        if time.monotonic() > deadline or process.poll() is not None:
            raise RuntimeError(f"the {name} app did not start: " + (run_dir / f"{name}.log").read_text())
        time.sleep(0.3)
    return process, url


def profile(prod: ProdLocal, seconds: int, clients: int) -> list[subprocess.Popen]:
    """BENCH_PROFILE=DIR: py-spy samples the web workers and the Celery workers during each goalflow
    run (collapsed stacks: web-N.txt, worker-N.txt)."""
    out = os.environ.get("BENCH_PROFILE")
    if not out:
        return []
    Path(out).mkdir(parents=True, exist_ok=True)
    targets = [("web", prod.child("web").process.pid)]
    targets += [(c.name, c.process.pid) for c in prod.children if c.name.startswith("worker")]
    return [
        subprocess.Popen(
            [str(Path(sys.executable).parent / "py-spy"), "record", "--format", "raw", "--subprocesses", "--nonblocking",
             "-d", str(seconds), "-o", f"{out}/{name}-{clients}.txt", "--pid", str(pid)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        for name, pid in targets
    ]


def count_applied(prod: ProdLocal) -> int:
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + prod.database
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM transition_requests WHERE status = 'approved'").fetchone()[0]


POOLS = 7  # goalflow's runs (16, 64, 1 clients), the replay's runs, the capture


def main() -> None:
    seconds = scaled(20, 4)
    pool = scaled(8000, 400)
    run_dir = Path(tempfile.mkdtemp(prefix="goalflow-bench-"))
    # BENCH_WEB_CONCURRENCY: gunicorn workers for both servers (docker-compose.yml's WEB_CONCURRENCY)
    dotenv = {"WEB_CONCURRENCY": os.environ["BENCH_WEB_CONCURRENCY"]} if os.environ.get("BENCH_WEB_CONCURRENCY") else {}
    prod = ProdLocal(pg_admin_url=PG_ADMIN_URL, redis_url=REDIS_URL, redis_db=REDIS_DB, run_dir=run_dir, dotenv=dotenv)
    prod.start()
    bare_servers: list[subprocess.Popen] = []
    try:
        seeded = prod.run([sys.executable, "-m", "bench.seed_approvals", str(ADMINISTRATIONS), str(pool),
                           str(run_dir / "pools"), str(POOLS)], timeout=1800)
        if seeded.returncode != 0:
            raise RuntimeError(seeded.stderr)
        captured = prod.run([sys.executable, "-m", "bench.replay", "capture", str(run_dir / "replay.pickle"),
                             str(run_dir / "pools" / f"pool-{POOLS}.txt")], timeout=300)
        if captured.returncode != 0:
            raise RuntimeError(captured.stdout + captured.stderr)
        replayed = pickle.loads((run_dir / "replay.pickle").read_bytes())["statements"]
        ceiling, ceiling_url = start_bare(prod, run_dir, "bench.ceiling", "/decide/0")
        bare_servers.append(ceiling)
        replay, replay_url = start_bare(prod, run_dir, "bench.replay", "/replay/0",
                                        REPLAY_FILE=str(run_dir / "replay.pickle"))
        bare_servers.append(replay)
        rows = []
        results, cpu, bare_cpu = {}, {}, {}
        for n, clients in enumerate(CLIENTS, start=1):
            spies = profile(prod, seconds, clients)
            web_pids = children(prod.child("web").process.pid)
            worker_pids = [pid for c in prod.children if c.name.startswith("worker")
                           for pid in (c.process.pid, *descendants(c.process.pid))]
            applied_before = count_applied(prod)  # the replay's runs close requests too
            cpu_before = cpu_seconds(web_pids), cpu_seconds(worker_pids), postgres_cpu_seconds()
            app = wrk(prod.base_url, "/api/v1/approvals/%s/approve", run_dir / "pools" / f"pool-{n}.txt", clients, seconds)
            for spy in spies:
                spy.wait(timeout=120)
            app["applied"] = count_applied(prod) - applied_before
            # Where the CPU went: the web workers, the Celery workers delivering the decisions'
            # emails, and PostgreSQL; the same for the ceilings' requests.
            cpu_after = cpu_seconds(web_pids), cpu_seconds(worker_pids), postgres_cpu_seconds()
            cpu[clients] = [(after - before) * 1000 / max(app["applied"], 1)
                            for after, before in zip(cpu_after, cpu_before, strict=True)]
            measured = {}
            for name, server, url, path, pool_file in (
                ("ceiling", ceiling, ceiling_url, "/decide/%s", f"ceiling-{n}.txt"),
                ("replay", replay, replay_url, "/replay/%s", f"pool-{len(CLIENTS) + n}.txt"),
            ):
                pids = children(server.pid)
                before = cpu_seconds(pids), postgres_cpu_seconds()
                measured[name] = wrk(url, path, run_dir / "pools" / pool_file, clients, seconds)
                after = cpu_seconds(pids), postgres_cpu_seconds()
                bare_cpu[clients, name] = [(a - b) * 1000 / max(measured[name]["requests"], 1)
                                           for a, b in zip(after, before, strict=True)]
            bare, same = measured["ceiling"], measured["replay"]
            results[clients] = (app, bare, same)
            for name, r in (("goalflow API", app), ("ceiling: bare Flask + SQLAlchemy, least SQL", bare),
                            ("ceiling: bare Flask + psycopg, goalflow's statements", same)):
                rows.append([clients, name, f"{r['rate']:.1f}", f"{r['p50_us'] / 1000:.1f}", f"{r['p95_us'] / 1000:.1f}",
                             f"{r['p99_us'] / 1000:.1f}", r["errors"], f"{r['rate'] / bare['rate']:.2f}",
                             f"{r['rate'] / same['rate']:.2f}", r["load"]])
            print(*rows[-3:], flush=True)
        web_pids = children(prod.child("web").process.pid)
        worker_pids = {c.name: [c.process.pid, *descendants(c.process.pid)] for c in prod.children
                       if c.name.startswith("worker")}
        memory = [["web (gunicorn worker)", pid, f"{rss_mib(pid):.0f}"] for pid in web_pids]
        memory += [[f"{name} ({'main' if i == 0 else 'pool process'})", pid, f"{rss_mib(pid):.0f}"]
                   for name, pids in worker_pids.items() for i, pid in enumerate(pids)]
        app16, bare16, same16 = results[16]
        web16, _, _ = cpu[16]
        targets = [
            ["statements per decision ≤ 10", len(replayed), verdict(len(replayed) <= 10)],
            ["web CPU per decision at 16 clients ≤ 5 ms", f"{web16:.1f} ms", verdict(web16 <= 5)],
            ["total CPU per decision at 16 clients ≤ 10 ms", f"{sum(cpu[16]):.1f} ms", verdict(sum(cpu[16]) <= 10)],
            ["throughput at 16 clients ≥ 0.25 × bare ceiling", f"{app16['rate'] / bare16['rate']:.2f} ×",
             verdict(app16["rate"] >= 0.25 * bare16["rate"])],
            ["throughput at 16 clients ≥ 0.6 × same-statements ceiling", f"{app16['rate'] / same16['rate']:.2f} ×",
             verdict(app16["rate"] >= 0.6 * same16["rate"])],
            ["p99 at 16 clients < 100 ms", f"{app16['p99_us'] / 1000:.1f} ms", verdict(app16["p99_us"] < 100_000)],
            ["no errors at 16 clients", app16["errors"], verdict(app16["errors"] == 0)],
            ["web worker resident size < 150 MB", f"{max(rss_mib(p) for p in web_pids):.0f} MiB",
             verdict(max(rss_mib(p) for p in web_pids) < 150)],
        ]
        one = results[1][0]
        body = (
            f"{ADMINISTRATIONS} administrations, one head each deciding open `start` requests over "
            f"`POST /api/v1/approvals/<id>/approve` (bearer token); every decision applies the transition, "
            f"records its audit events and queues its emails, which {prod.workers} Celery workers deliver "
            f"to an SMTP sink during the run. gunicorn with the production settings (sync workers, "
            f"WEB_CONCURRENCY={prod.spec('web').environment.get('WEB_CONCURRENCY') or 2}); wrk with "
            f"{WRK_THREADS} threads, {seconds} s per run. Both ceilings run the same gunicorn settings: "
            "the bare one does the least SQL a decision needs (lock the goal, update it, insert an event); "
            f"the same-statements one executes the {len(replayed)} statements of one goalflow decision, "
            "captured from the application with their parameters (bench/replay.py), so that its ratio is "
            "the cost of goalflow's Python alone.\n\n"
            + table(["clients", "endpoint", "decisions/s", "p50 ms", "p95 ms", "p99 ms", "errors",
                     "ratio to bare ceiling", "ratio to same-statements ceiling", "load average"], rows)
            + f"\n\nOne person alone (1 client): p50 {one['p50_us'] / 1000:.1f} ms, p99 {one['p99_us'] / 1000:.1f} ms."
            + "\n\nDecisions applied, counted in the database: "
            + ", ".join(f"{c} clients: {results[c][0]['applied']}" for c in CLIENTS)
            + ".\n\nCPU per request, in milliseconds (user + system time of the processes over the run, divided "
            "by the decisions applied or the ceiling's requests answered):\n\n"
            + table(["clients", "endpoint", "web workers", "Celery workers (its emails)", "PostgreSQL", "total"],
                    [row for c in CLIENTS for row in (
                        [c, "goalflow API", *(f"{v:.1f}" for v in cpu[c]), f"{sum(cpu[c]):.1f}"],
                        *([c, f"ceiling ({name})", f"{bare_cpu[c, name][0]:.1f}", "–", f"{bare_cpu[c, name][1]:.1f}",
                           f"{sum(bare_cpu[c, name]):.1f}"] for name in ("ceiling", "replay")))])
            + "\n\nThe statements of one decision, as captured:\n\n"
            + "\n".join(f"{i}. `{' '.join(st.split())[:110]}…`" for i, (st, _, _) in enumerate(replayed, start=1))
            + "\n\n### Memory after the run\n\n" + table(["process", "pid", "resident MiB"], memory)
            + "\n\n### Targets\n\n" + table(["target", "measured", ""], targets)
        )
        write_section("approvals", "1. Approval throughput and latency (and 5. memory)", body)
    finally:
        for server in bare_servers:
            server.terminate()
            server.wait(timeout=20)
        prod.stop()


if __name__ == "__main__":
    main()
