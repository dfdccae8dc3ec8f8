"""The quarterly campaign for 12,000 active goals (600 administrations × 20): the scheduler's
`open_due_campaigns` creates the progress reports and queues one email per directorate and
person; the outbox delivery (`deliver_due`, what a Celery worker runs, here in one process)
sends them to a local SMTP sink (aiosmtpd, its own process). In the same run, the raw rate:
smtplib sending the same messages, flattened to bytes beforehand, to the same sink over one
connection.
"""

from __future__ import annotations

import email.policy
import json
import os
import smtplib
import subprocess
import sys
import time
from datetime import date
from email.utils import parseaddr

import psycopg

from bench import generate
from bench.common import ROOT, bench_app, fresh_database, load, scaled, table, verdict, write_section
from deploy.prod_local import free_port

GOALS_PER_PLAN = 20
WORKERS = 2  # docker-compose.yml's Celery workers
DELIVER = """
import json, sys, time
from bench.common import bench_app
app = bench_app(sys.argv[1], MAIL_HOST="127.0.0.1", MAIL_PORT=int(sys.argv[2]))
with app.app_context():
    from service.notifications import service as outbox
    sent, start = 0, time.time()
    while True:
        report = outbox.deliver_due()
        sent += report.sent
        if not report.claimed:
            break
    print(json.dumps({"sent": sent, "start": start, "end": time.time()}))
"""


def deliver_in_processes(url: str, port: int, workers: int) -> tuple[int, float]:
    """`workers` processes delivering at once, as the Celery workers do: (sent, seconds)."""
    processes = [subprocess.Popen([sys.executable, "-c", DELIVER, url, str(port)], cwd=ROOT, text=True,
                                  stdout=subprocess.PIPE, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
                 for _ in range(workers)]
    results = [json.loads(p.communicate(timeout=3600)[0].strip().splitlines()[-1]) for p in processes]
    return sum(r["sent"] for r in results), max(r["end"] for r in results) - min(r["start"] for r in results)


def start_sink(port: int) -> subprocess.Popen:
    sink = subprocess.Popen([sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}",
                             "-c", "aiosmtpd.handlers.Sink"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while True:
        try:
            smtplib.SMTP("127.0.0.1", port, timeout=2).quit()
            return sink
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _profiler():
    """BENCH_PROFILE=1: pyinstrument over the delivery, printed."""
    if not os.environ.get("BENCH_PROFILE"):
        return None
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.0005)
    profiler.start()
    return profiler


def main() -> None:
    administrations = scaled(600, 2)
    today = date.today()
    port = free_port()
    sink = start_sink(port)
    try:
        with fresh_database() as url:
            app = bench_app(url, MAIL_HOST="127.0.0.1", MAIL_PORT=port)
            from service.extensions import db
            from service.notifications import mailer
            from service.notifications import service as outbox
            from service.notifications.models import Notification
            from service.org import service as org
            from service.progress import service as progress

            with app.app_context():
                password_hash = org.hash_password("unused")
            conn = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))
            world = generate.create_world(conn, administrations, password_hash)
            generate.add_years(conn, world, [today.year], today.year, today, events=False,
                               goals_per_plan=GOALS_PER_PLAN)
            generate.finish(conn, world)
            conn.execute("UPDATE goals SET state = 'in_progress' WHERE state = 'planned'")
            conn.commit()
            active = conn.execute("SELECT count(*) FROM goals WHERE state = 'in_progress'").fetchone()[0]

            with app.app_context():
                open_load, start = load(), time.perf_counter()
                campaigns = progress.open_due_campaigns()
                open_s = time.perf_counter() - start
                reports = conn.execute("SELECT count(*) FROM progress_reports").fetchone()[0]
                queued = outbox.backlog()
                db.session.remove()

                messages = [(note.email, mailer.build_message(note, app.config["GOALFLOW"])) for note in db.session.scalars(db.select(Notification).order_by(Notification.id))]
                db.session.remove()

                profiler = _profiler()
                deliver_load, start = load(), time.perf_counter()
                sent = 0
                while True:
                    report = outbox.deliver_due()
                    sent += report.sent
                    if not report.claimed:
                        break
                deliver_s = time.perf_counter() - start
                if profiler:
                    profiler.stop()
                    print(profiler.output_text(unicode=True, color=False))
                left = outbox.backlog()
                db.session.remove()
            # The same messages again, due once more, for the workers' processes.
            conn.execute("UPDATE notifications SET status = 'pending', attempts = 0, sent_at = NULL, "
                         "next_attempt_at = (now() at time zone 'utc') - interval '1 second'")
            conn.commit()
            parallel_load = load()
            parallel_sent, parallel_s = deliver_in_processes(url, port, WORKERS)

            sender = parseaddr(app.config["GOALFLOW"].MAIL_FROM)[1]
            # The strictest reference: the messages already flattened to bytes, so that the timed
            # loop is smtplib's exchange with the sink and nothing else.
            payloads = [(to, message.as_bytes(policy=email.policy.SMTP)) for to, message in messages]
            raw_load, start = load(), time.perf_counter()
            with smtplib.SMTP("127.0.0.1", port, timeout=20) as smtp:
                for to, payload in payloads:
                    smtp.sendmail(sender, [to], payload)
            raw_s = time.perf_counter() - start
            conn.close()
    finally:
        sink.terminate()
        sink.wait(timeout=10)

    rate, raw_rate, parallel_rate = sent / deliver_s, len(messages) / raw_s, parallel_sent / parallel_s
    rows = [
        ["open the campaigns (reports created, emails queued)", f"{len(campaigns)} campaigns, {reports:,} reports, "
         f"{queued:,} emails", f"{open_s:.1f} s", f"{reports / open_s:,.0f} reports/s", open_load],
        ["deliver the outbox to the sink (`deliver_due`, one process)", f"{sent:,} emails sent, {left} left",
         f"{deliver_s:.1f} s", f"{rate:,.0f} emails/s", deliver_load],
        [f"the same, {WORKERS} processes at once (as the {WORKERS} Celery workers)", f"{parallel_sent:,} emails sent",
         f"{parallel_s:.1f} s", f"{parallel_rate:,.0f} emails/s", parallel_load],
        ["raw smtplib, the same messages as bytes, one connection", f"{len(messages):,} emails", f"{raw_s:.1f} s",
         f"{raw_rate:,.0f} emails/s", raw_load],
    ]
    body = (
        f"{administrations} administrations, {active:,} active goals ({GOALS_PER_PLAN} a plan, 1–2 directorates "
        f"each); the campaign of the last ended quarter opens for every plan in force.\n\n"
        + table(["step", "what", "time", "rate", "load average"], rows)
        + "\n\n### Target\n\n" + table(["target", "measured", ""], [
            ["campaign delivers ≥ 0.5 × the raw SMTP rate (one process)", f"{rate / raw_rate:.2f} ×",
             verdict(rate >= 0.5 * raw_rate)],
            [f"the same, {WORKERS} worker processes", f"{parallel_rate / raw_rate:.2f} ×",
             verdict(parallel_rate >= 0.5 * raw_rate)]])
    )
    write_section("campaign", "3. The quarterly campaign", body)


if __name__ == "__main__":
    main()
