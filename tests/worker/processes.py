"""Real processes for the end-to-end tests: a private redis-server and Celery workers.

A test that stops Redis stops only its own instance; a worker is `celery -A worker.main worker
-B` with the test's settings in its environment, started in its own process group so that a
test can kill it (and its pool and beat children) with SIGKILL.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import fields
from pathlib import Path

from service.config import Settings
from tests.conftest import service_missing
from tests.worker.sink import free_port

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[2]


def wait_until(condition, timeout: float = 30, every: float = 0.1, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def settings_env(settings: Settings) -> dict[str, str]:
    """This process's environment, with `settings` as the variables Settings.from_env reads back.
    Only settings that differ from the defaults are set: an empty variable can mean something
    to a library (an empty PROMETHEUS_MULTIPROC_DIR turns on prometheus-client's files)."""
    defaults = Settings()
    names = {f.name for f in fields(Settings)} - {"extra"}
    env = {k: v for k, v in os.environ.items() if k not in names}
    for name in sorted(names):
        value = getattr(settings, name)
        if value == getattr(defaults, name):
            continue
        if isinstance(value, bool):
            value = "1" if value else "0"
        elif isinstance(value, tuple):
            value = ",".join(str(v) for v in value)
        env[name] = str(value)
    return env


def client_pid(port: int, groups: set[int]) -> int | None:
    """The process, among these process groups, that holds the client end of a local TCP
    connection whose local port is `port` (e.g. the SMTP sink's peer): which worker is sending."""
    inode = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].rsplit(":", 1)[1], 16) == port:
            inode = fields[9]
            break
    if inode is None:
        return None
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getpgid(int(entry.name)) not in groups:
                continue
            if any(os.readlink(fd) == f"socket:[{inode}]" for fd in (entry / "fd").iterdir()):
                return int(entry.name)
        except OSError:  # gone meanwhile
            continue
    return None


class RedisServer:
    def __init__(self, directory: Path):
        executable = shutil.which("redis-server")
        if executable is None:
            service_missing("redis-server")
        self.executable = executable
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/5"

    def start(self) -> RedisServer:
        self.process = subprocess.Popen(
            [self.executable, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_until(self.answers, 10, what="redis-server")
        return self

    def answers(self) -> bool:
        import redis

        try:
            return redis.Redis(port=self.port, socket_connect_timeout=0.5).ping()
        except redis.ConnectionError:
            return False

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


class Worker:
    """`celery -A worker.main worker -B`, its output in a log file."""

    count = 0

    def __init__(self, settings: Settings, directory: Path, *, concurrency: int = 1, beat: bool = True):
        Worker.count += 1
        self.log = directory / f"worker-{Worker.count}.log"
        command = [
            str(BIN / "celery"), "-A", "worker.main", "worker", "--loglevel", "INFO", "--concurrency", str(concurrency),
            "--hostname", f"test{Worker.count}-{os.getpid()}@%h", "--without-mingle", "--without-gossip",
        ]
        if beat:
            command += ["-B", "--schedule", str(directory / f"beat-{Worker.count}")]
        env = {**settings_env(settings), "PYTHONPATH": str(ROOT)}
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def wait_ready(self, timeout: float = 60) -> Worker:
        def ready():
            if self.process.poll() is not None:
                raise AssertionError(f"the worker exited with {self.process.returncode}:\n{self.output()[-3000:]}")
            return " ready." in self.output()

        wait_until(ready, timeout, 0.2, "the worker to be ready")
        return self

    def kill(self) -> None:
        """SIGKILL to the worker, its pool and its beat: nothing gets to clean up."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()
