"""Documents: a plan of 1,000 goals exported as DOCX, XLSX and PDF, and each DOCX and XLSX file
imported back (a dry run, then for real into a new administration). Time and peak memory of each,
every step in a fresh process, so that one step's peak is not another's."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

import psycopg

from bench import generate
from bench.common import ROOT, bench_app, fresh_database, load, scaled, table, verdict, write_section

GOALS = 1000
STEP = """
import json, resource, sys, time
from pathlib import Path
from bench.common import bench_app
url, step, fmt, path = sys.argv[1:5]
app = bench_app(url)
with app.app_context():
    from service.extensions import db
    from service.goals import documents
    from service.goals.models import Plan
    from service.org.models import Administration
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    if step == "export":
        plan = db.session.scalars(db.select(Plan)).one()
        data = documents.render(plan, fmt=fmt).data
        Path(path).write_bytes(data)
        size = len(data)
    else:
        document = documents.read_upload(Path(path).read_bytes(), Path(path).name)
        target = db.session.scalars(db.select(Administration).where(Administration.slug == "import-" + fmt)).one()
        result = documents.import_document(document, administration=target, actor=None, dry_run=step == "preview")
        size = len(result.goals)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # the PDF's layout process
print(json.dumps({"s": seconds, "peak_mib": peak / 1024, "base_mib": before / 1024, "child_mib": child / 1024,
                  "size": size}))
"""


def step(url: str, what: str, fmt: str, path: Path) -> dict:
    started = load()
    out = subprocess.run([sys.executable, "-c", STEP, url, what, fmt, str(path)], cwd=ROOT, capture_output=True,
                         text=True, timeout=1800, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-3000:])
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["load"] = started
    return result


def main() -> None:
    goals = scaled(GOALS, 10)
    today = date.today()
    work = Path(tempfile.mkdtemp(prefix="goalflow-docs-"))
    rows, results = [], {}
    with fresh_database() as url:
        app = bench_app(url)
        from service.org import service as org

        with app.app_context():
            password_hash = org.hash_password("unused")
        conn = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))
        world = generate.create_world(conn, 1, password_hash)
        generate.add_years(conn, world, [today.year], today.year, today, events=False, goals_per_plan=goals)
        generate.finish(conn, world)
        conn.close()
        with app.app_context():
            for fmt in ("docx", "xlsx"):  # the imports go to administrations of their own
                org.create_administration(name=f"Областна администрация {fmt}", slug=f"import-{fmt}")
        for fmt in ("docx", "xlsx", "pdf"):
            results[("export", fmt)] = r = step(url, "export", fmt, work / f"plan.{fmt}")
            rows.append([f"export {fmt.upper()}", f"{r['size'] / 1024:,.0f} KiB", f"{r['s']:.2f}",
                         f"{r['peak_mib']:.0f}", f"{r['peak_mib'] - r['base_mib']:.0f}",
                         f"{r['child_mib']:.0f}" if r["child_mib"] else "–", r["load"]])
        for fmt in ("docx", "xlsx"):
            for what in ("preview", "import"):
                r = step(url, what, fmt, work / f"plan.{fmt}")
                rows.append([f"{'import (dry run)' if what == 'preview' else 'import'} {fmt.upper()}",
                             f"{r['size']:,} goals", f"{r['s']:.2f}", f"{r['peak_mib']:.0f}",
                             f"{r['peak_mib'] - r['base_mib']:.0f}", "–", r["load"]])
    docx, xlsx = results[("export", "docx")]["s"], results[("export", "xlsx")]["s"]
    body = (
        f"A plan of {goals:,} goals (2 indicators, 2 activities, 1–2 directorates each). Each step runs in its own "
        "process (the application created, then the step timed); peak memory is that process's maximum resident "
        "size, and the growth is above what it held before the step. The PDF is laid out in a child process "
        "that ends with the export (its peak in the last column but one), so that the process asking for it "
        "keeps its size.\n\n"
        + table(["step", "size", "seconds", "peak MiB", "growth MiB", "child's peak MiB", "load average"], rows)
        + "\n\n### Targets\n\n" + table(["target", "measured", ""], [
            ["DOCX export of 1,000 goals < 3 s", f"{docx:.2f} s", verdict(docx < 3)],
            ["XLSX export of 1,000 goals < 2 s", f"{xlsx:.2f} s", verdict(xlsx < 2)],
        ])
    )
    write_section("documents", "4. Documents", body)


if __name__ == "__main__":
    main()
