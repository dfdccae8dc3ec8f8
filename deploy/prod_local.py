"""`make prod-local`: the processes of docker-compose.yml, run natively, for machines with no
container engine (and for tests/prod, which use `ProdLocal` as a fixture).

The commands and settings are READ FROM docker-compose.yml, so the two cannot drift. Only what
necessarily differs on one machine is changed, and each change is listed here:

- the addresses of the backing services: DATABASE_URL is a fresh database created on the local
  PostgreSQL (dropped at the end), BROKER_URL and REDIS_URL a Redis database number other than 0,
  MAIL_HOST/MAIL_PORT an aiosmtpd sink on a free port (standing in for Mailpit);
- what each container has alone: gunicorn's `--bind` (127.0.0.1 and a free port), each Celery
  worker's `--hostname`, WORKER_METRICS_PORT, PROMETHEUS_MULTIPROC_DIR (the tmpfs) and VAR_DIR;
- `.env` (env_file and interpolation): a generated SECRET_KEY and METRICS_TOKEN and the values in DOTENV below.

Started: migrate (run to completion first), web (gunicorn, WEB_CONCURRENCY workers), WORKERS
Celery workers, one beat, and the SMTP sink. A child that dies is started again after a backoff,
as compose's `restart: unless-stopped` does (see `ProdLocal.supervise`). Ctrl-C stops everything.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
APP_SERVICES = ("migrate", "web", "worker", "beat")
# The local stand-in for `.env`: what an operator would write there (SECRET_KEY and METRICS_TOKEN are generated).
DOTENV = {
    "BASE_URL": "https://goalflow.localhost",
    "POSTGRES_PASSWORD": "unused-natively",
    "WORKER_CONCURRENCY": "1",  # two workers of one process each fit a 2-core machine
    "OUTBOX_INTERVAL_SECONDS": "5",
    "PASSWORD_HASH_TIME_COST": "1",  # fast logins for the test run; the algorithm is the same
    "PASSWORD_HASH_MEMORY_KIB": "8192",
}
REDIS_KEYS_OWNED = ("celery*", "_kombu.*", "unacked*", "redbeat*", "goalflow:scheduler:*")
# Restarting a dead child: the first after RESTART_FIRST seconds, each next one twice as late, at
# most RESTART_MAX; a child that ran RESTART_RESET seconds starts from RESTART_FIRST again.
RESTART_FIRST, RESTART_MAX, RESTART_RESET = 1.0, 30.0, 60.0


class ComposeError(RuntimeError):
    pass


# -- reading docker-compose.yml --------------------------------------------------------------

_VARIABLE = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)")


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's variable substitution: $VAR, ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, $$."""

    def substitute(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1) or match.group(4)
        operator, argument = match.group(2), match.group(3) or ""
        value = env.get(name)
        if operator == ":-":
            return value if value else argument
        if operator == "-":
            return argument if value is None else value
        if operator in (":?", "?") and (value is None or (operator == ":?" and not value)):
            raise ComposeError(f"{name}: {argument or 'required'}")
        return value or ""

    return _VARIABLE.sub(substitute, text)


def resolve(node: Any, env: dict[str, str]) -> Any:
    if isinstance(node, str):
        return interpolate(node, env)
    if isinstance(node, dict):
        return {key: resolve(value, env) for key, value in node.items()}
    if isinstance(node, list):
        return [resolve(value, env) for value in node]
    return node


def load_compose(path: Path = COMPOSE_FILE) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@dataclass
class ServiceSpec:
    name: str
    command: list[str]
    environment: dict[str, str]


def service_spec(compose: dict, name: str, dotenv: dict[str, str]) -> ServiceSpec:
    """A service's command and environment as compose would give them (before local changes)."""
    service = resolve(compose["services"][name], dotenv)
    command = service["command"]
    command = shlex.split(command) if isinstance(command, str) else [str(part) for part in command]
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment)
    return ServiceSpec(name, command, {k: "" if v is None else str(v) for k, v in environment.items()})


def replace_option(command: list[str], option: str, value: str) -> list[str]:
    if option not in command:
        raise ComposeError(f"{option} is not in {shlex.join(command)}")
    at = command.index(option) + 1
    return [*command[:at], value, *command[at + 1 :]]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- the mail sink ---------------------------------------------------------------------------


class MailSink:
    """An SMTP server that keeps every message (Mailpit's part), also written as .eml files."""

    def __init__(self, directory: Path):
        from aiosmtpd.controller import Controller

        self.directory = directory
        self.messages: list[EmailMessage] = []
        self.port = free_port()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port, enable_SMTPUTF8=True)

    async def handle_DATA(self, server, session, envelope) -> str:  # aiosmtpd's handler hook
        raw = envelope.original_content or envelope.content
        message = message_from_bytes(raw, policy=policy.default)
        self.messages.append(message)
        (self.directory / f"{len(self.messages):04d}.eml").write_bytes(raw)
        return "250 OK"

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()


# -- the processes ---------------------------------------------------------------------------


@dataclass
class Child:
    name: str
    command: list[str]
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    started_at: float = 0.0  # time.monotonic() of the last start
    restarts: int = 0
    restart_at: float | None = None  # when a dead child is due to start again
    backoff: float = RESTART_FIRST

    def start(self) -> None:
        self.started_at, self.restart_at = time.monotonic(), None
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""

    def terminate(self) -> None:
        if self.alive():
            self.process.send_signal(signal.SIGTERM)  # warm shutdown: finish the task at hand

    def stop(self, timeout: float = 20) -> None:
        if not self.alive():
            return
        self.terminate()
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


class ProdLocal:
    """Start with `start()` (or `with ProdLocal() as prod:`), stop with `stop()`."""

    def __init__(
        self,
        *,
        pg_admin_url: str = "postgresql://postgres@127.0.0.1:5432/postgres",
        redis_url: str = "redis://127.0.0.1:6379",
        redis_db: int = 13,
        workers: int = 2,
        run_dir: Path | None = None,
        web_port: int | None = None,
        dotenv: dict[str, str] | None = None,
        keep_database: bool = False,
    ):
        if redis_db == 0:
            raise ValueError("Redis database 0 belongs to others; choose another number")
        self.pg_admin_url = pg_admin_url
        self.redis_base = redis_url.rstrip("/")
        self.redis_db = redis_db
        self.workers = workers
        self.run_dir = Path(run_dir or tempfile.mkdtemp(prefix="goalflow-prod-"))
        self.web_port = web_port or free_port()
        self.dotenv = {"SECRET_KEY": secrets.token_urlsafe(48), "METRICS_TOKEN": secrets.token_urlsafe(24),
                       **DOTENV, **(dotenv or {})}
        self.keep_database = keep_database
        self.database = f"goalflow_prod_{uuid.uuid4().hex[:10]}"
        self.compose = load_compose()
        self.sink = MailSink(self.run_dir / "mail")
        self.children: list[Child] = []
        self._database_created = False

    # where things are
    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    @property
    def database_url(self) -> str:
        return self.pg_admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1) + "/" + self.database

    @property
    def redis_db_url(self) -> str:
        return f"{self.redis_base}/{self.redis_db}"

    def child(self, name: str) -> Child:
        return next(c for c in self.children if c.name == name)

    # the environment of one process: compose's, with the local addresses
    def environment(self, spec: ServiceSpec, **own: str) -> dict[str, str]:
        local = {
            "DATABASE_URL": self.database_url,
            "BROKER_URL": self.redis_db_url,
            "REDIS_URL": self.redis_db_url,
            "MAIL_HOST": "127.0.0.1",
            "MAIL_PORT": str(self.sink.port),
        }
        missing = [key for key in local if key not in spec.environment]
        if missing:
            raise ComposeError(f"docker-compose.yml no longer sets {missing} for {spec.name}")
        bin_dir = str(Path(sys.executable).parent)
        base = {
            "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", str(self.run_dir)),
            "LANG": "C.UTF-8",
            "PYTHONPATH": str(ROOT),  # the image's PYTHONPATH=/app
            "PYTHONUNBUFFERED": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
            "VAR_DIR": str(self.run_dir / "var"),  # the image's writable /app/var
        }
        env = {**base, **self.dotenv, **spec.environment, **local, **own}
        if "PROMETHEUS_MULTIPROC_DIR" in spec.environment:  # each container has its own tmpfs
            metrics = self.run_dir / "metrics" / own.get("_instance", spec.name)
            shutil.rmtree(metrics, ignore_errors=True)
            metrics.mkdir(parents=True)
            env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics)
        env.pop("_instance", None)
        return env

    def spec(self, name: str) -> ServiceSpec:
        return service_spec(self.compose, name, self.dotenv)

    def planned(self) -> list[Child]:
        """The long-running processes, in start order, with their commands and environments."""
        logs = self.run_dir / "logs"
        web = self.spec("web")
        children = [
            Child("web", replace_option(web.command, "--bind", f"127.0.0.1:{self.web_port}"),
                  self.environment(web), logs / "web.log"),
        ]
        worker = self.spec("worker")
        for n in range(1, self.workers + 1):
            own = {"_instance": f"worker{n}"}
            if "WORKER_METRICS_PORT" in worker.environment:
                own["WORKER_METRICS_PORT"] = str(free_port())
            env = self.environment(worker, **own)
            command = [*worker.command, "--hostname", f"worker{n}@%h"]  # one container, one host name
            children.append(Child(f"worker{n}", command, env, logs / f"worker{n}.log",
                                  extra={"metrics_port": env.get("WORKER_METRICS_PORT")}))
        beat = self.spec("beat")
        children.append(Child("beat", beat.command, self.environment(beat), logs / "beat.log"))
        return children

    # life cycle
    def start(self, timeout: float = 90) -> ProdLocal:
        (self.run_dir / "logs").mkdir(parents=True, exist_ok=True)
        try:
            self._create_database()
            self._forget_redis_keys()
            self.sink.start()
            self.migrate()
            self.children = self.planned()
            self._write_env_file()
            for child in self.children:
                child.start()
            self._wait_until_ready(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def migrate(self) -> None:
        spec = self.spec("migrate")
        result = self.run(spec.command, service="migrate")
        if result.returncode != 0:
            raise RuntimeError(f"migrate failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")

    def run(self, command: list[str], *, service: str = "migrate", timeout: float = 120, **kwargs):
        """Run a one-off command like `docker compose run --rm <service> ...` (default: migrate's settings)."""
        env = self.environment(self.spec(service), _instance=f"run-{uuid.uuid4().hex[:6]}")
        return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, **kwargs)

    def flask(self, *args: str, **kwargs):
        return self.run(["flask", "--app", "service", *args], **kwargs)

    def stop(self) -> None:
        for child in self.children:  # all at once: each shuts down on its own
            child.terminate()
        for child in reversed(self.children):
            try:
                child.stop()
            except Exception as exc:  # stop the others all the same
                print(f"stopping {child.name}: {exc}", file=sys.stderr)
        with contextlib.suppress(Exception):  # a sink that never started
            self.sink.stop()
        self._forget_redis_keys()
        if self._database_created and not self.keep_database:
            self._drop_database()

    def __enter__(self) -> ProdLocal:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def supervise(self, stopping, every: float = 0.5) -> None:
        """Until `stopping()`: start every child that died again, after a backoff (RESTART_FIRST
        seconds, doubling up to RESTART_MAX; back to RESTART_FIRST for a child that had run
        RESTART_RESET seconds). One child's death, e.g. beat's in a Redis outage, stops nothing else."""
        while not stopping():
            self.restart_dead()
            time.sleep(every)

    def restart_dead(self) -> None:
        now = time.monotonic()
        for child in self.children:
            if child.alive():
                continue
            if child.restart_at is None:
                if now - child.started_at >= RESTART_RESET:
                    child.backoff = RESTART_FIRST
                child.restart_at = now + child.backoff
                print(f"{child.name} exited with {child.process.returncode if child.process else None}; "
                      f"starting it again in {child.backoff:.0f} s", file=sys.stderr, flush=True)
                child.backoff = min(child.backoff * 2, RESTART_MAX)
            elif now >= child.restart_at:
                child.restarts += 1
                metrics = child.env.get("PROMETHEUS_MULTIPROC_DIR")
                if metrics:  # a container's tmpfs is empty at each start
                    shutil.rmtree(metrics, ignore_errors=True)
                    Path(metrics).mkdir(parents=True)
                child.start()
                print(f"{child.name} started again (pid {child.process.pid}, restart {child.restarts})",
                      file=sys.stderr, flush=True)

    # helpers
    def _wait_until_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        waiting = {child.name for child in self.children}
        while waiting:
            for child in self.children:
                if not child.alive():
                    raise RuntimeError(f"{child.name} exited early:\n{child.log_text()[-4000:]}")
            for name in sorted(waiting):
                if self._ready(self.child(name)):
                    waiting.discard(name)
            if waiting and time.monotonic() > deadline:
                logs = "\n".join(f"--- {n}\n{self.child(n).log_text()[-2000:]}" for n in sorted(waiting))
                raise TimeoutError(f"not ready after {timeout}s: {sorted(waiting)}\n{logs}")
            time.sleep(0.3)

    def _ready(self, child: Child) -> bool:
        if child.name == "web":
            return http_status(f"{self.base_url}/readyz") == 200
        if child.name.startswith("worker"):
            port = child.extra.get("metrics_port")
            if port:
                return http_status(f"http://127.0.0.1:{port}/metrics") == 200
            return " ready." in child.log_text()
        if "--scheduler" in child.command:  # RedBeat: ready once it holds the one beat lock
            return "beat: Acquired lock" in child.log_text()
        return "beat: Starting" in child.log_text()

    def _create_database(self) -> None:
        import psycopg

        with psycopg.connect(self.pg_admin_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{self.database}"')
        self._database_created = True

    def _drop_database(self) -> None:
        import psycopg

        with psycopg.connect(self.pg_admin_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
        self._database_created = False

    def _forget_redis_keys(self) -> None:
        """Queues and the beat lock of a run that died; only the keys Celery and RedBeat own."""
        import redis

        try:
            client = redis.Redis.from_url(self.redis_db_url, socket_timeout=5)
            for pattern in REDIS_KEYS_OWNED:
                for key in client.scan_iter(match=pattern, count=500):
                    client.delete(key)
        except redis.RedisError as exc:
            print(f"redis: {exc}", file=sys.stderr)

    def _write_env_file(self) -> None:
        """`set -a; . RUN_DIR/goalflow.env; set +a` gives a shell the settings of the processes."""
        env = self.environment(self.spec("migrate"), _instance="shell")
        lines = [f"{k}={shlex.quote(v)}" for k, v in sorted(env.items()) if k not in ("PATH", "HOME", "LANG")]
        (self.run_dir / "goalflow.env").write_text("\n".join(lines) + "\n", encoding="utf-8")


def http_status(url: str, timeout: float = 3) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, OSError):
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg-url", default=os.environ.get("PROD_LOCAL_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
                        help="an admin connection to the local PostgreSQL (a fresh database is created there)")
    parser.add_argument("--redis-url", default=os.environ.get("PROD_LOCAL_REDIS_URL", "redis://127.0.0.1:6379"))
    parser.add_argument("--redis-db", type=int, default=int(os.environ.get("PROD_LOCAL_REDIS_DB", "13")))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--run-dir", type=Path, default=None)
    parser.add_argument("--keep-database", action="store_true", help="do not drop the database at the end")
    args = parser.parse_args(argv)

    prod = ProdLocal(pg_admin_url=args.pg_url, redis_url=args.redis_url, redis_db=args.redis_db, workers=args.workers,
                     run_dir=args.run_dir, web_port=args.port, keep_database=args.keep_database)
    stopping = False

    def on_signal(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    prod.start()
    print(f"goalflow (production shape) on {prod.base_url}  (Ctrl-C stops it)")
    print(f"  database {prod.database}, redis {prod.redis_db_url}, SMTP sink 127.0.0.1:{prod.sink.port}")
    print(f"  logs in {prod.run_dir / 'logs'}, mail in {prod.sink.directory}")
    print(f"  settings for a shell: set -a; . {prod.run_dir / 'goalflow.env'}; set +a")
    print("  then e.g.: flask --app service create-administration --name ... --slug ...")
    try:
        prod.supervise(lambda: stopping)
    finally:
        prod.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
