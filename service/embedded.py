"""`make run`: the embedded mode in one command.

Migrates the SQLite database under var/, loads the demo (once), then runs the web app and a
Celery worker with its beat scheduler (on kombu's SQLite transport) as child processes.
Ctrl-C stops all of them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from flask_migrate import upgrade

from service.app import create_app
from service.config import Settings


def prepare(settings: Settings) -> None:
    app = create_app(settings)
    with app.app_context():
        upgrade()
        from service.demo import load_demo

        load_demo(settings.DEMO_PASSWORD)


def main() -> int:
    host, port = os.environ.get("HOST", "127.0.0.1"), os.environ.get("PORT", "5000")
    # Links in emails point where this instance listens, unless BASE_URL says otherwise;
    # the children inherit it.
    os.environ.setdefault("BASE_URL", f"http://{host}:{port}")
    settings = Settings.from_env()
    try:
        settings.check_listen([host])
    except RuntimeError as exc:
        print(f"goalflow: {exc}", file=sys.stderr)
        return 2
    prepare(settings)
    bin_dir = os.path.dirname(sys.executable)
    children = [
        subprocess.Popen(
            [os.path.join(bin_dir, "gunicorn"), "--bind", f"{host}:{port}", "--workers", "2",
             "--access-logfile", "-", "service.wsgi:app"]
        ),
        subprocess.Popen(
            [os.path.join(bin_dir, "celery"), "-A", "worker.main", "worker", "-B", "--loglevel", "INFO",
             "--concurrency", "1", "--schedule", os.path.join(settings.VAR_DIR, "celerybeat-schedule")]
        ),
    ]
    print(f"goalflow is running on http://{host}:{port}  (Ctrl-C stops it)", flush=True)

    def stop(*_):
        for child in children:
            if child.poll() is None:
                child.terminate()

    signal.signal(signal.SIGTERM, stop)
    try:
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        stop()
        for child in children:
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
