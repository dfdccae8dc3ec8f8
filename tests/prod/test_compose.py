"""docker-compose.yml is valid, has the production shape, and prod-local runs its very commands."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from deploy.prod_local import ComposeError, ProdLocal, interpolate, load_compose, service_spec
from tests.conftest import REQUIRE_SERVICES

ROOT = Path(__file__).resolve().parents[2]
GOALFLOW_SERVICES = ("migrate", "web", "worker", "beat")
DOTENV = {"SECRET_KEY": "s" * 48, "BASE_URL": "https://goalflow.example.bg", "POSTGRES_PASSWORD": "pw",
          "METRICS_TOKEN": "m" * 24}


@pytest.fixture(scope="module")
def compose() -> dict:
    return load_compose()


@pytest.fixture(scope="module")
def resolved(tmp_path_factory) -> dict:
    """`docker-compose config`: the file as Compose itself reads, validates and resolves it."""
    tool = shutil.which("docker-compose")
    if tool is None:
        if REQUIRE_SERVICES:
            pytest.fail("docker-compose (Debian package docker-compose) is required to validate the compose file")
        pytest.skip("docker-compose is not installed")
    project = tmp_path_factory.mktemp("compose")
    shutil.copy(ROOT / "docker-compose.yml", project / "docker-compose.yml")
    (project / ".env").write_text("".join(f"{k}={v}\n" for k, v in DOTENV.items()), encoding="utf-8")
    result = subprocess.run([tool, "config"], cwd=project, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


def test_compose_accepts_the_file_and_refuses_it_without_the_required_settings(resolved, tmp_path):
    assert set(resolved["services"]) == {"postgres", "redis", "migrate", "web", "worker", "beat", "mailpit"}
    shutil.copy(ROOT / "docker-compose.yml", tmp_path / "docker-compose.yml")
    (tmp_path / ".env").write_text("POSTGRES_PASSWORD=pw\n", encoding="utf-8")
    missing = subprocess.run(["docker-compose", "config"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert missing.returncode != 0 and "SECRET_KEY" in missing.stderr


@pytest.mark.parametrize("name", GOALFLOW_SERVICES)
def test_prod_local_runs_the_commands_and_settings_compose_runs(resolved, compose, name):
    ours = service_spec(compose, name, DOTENV)
    theirs = resolved["services"][name]
    assert ours.command == [str(part) for part in theirs["command"]]
    environment = {k: str(v) for k, v in theirs["environment"].items()}
    assert {k: environment.get(k) for k in ours.environment} == ours.environment


def test_the_services_start_in_order_and_report_their_health(compose):
    services = compose["services"]
    for name in ("web", "worker", "beat"):
        assert services[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
        assert services[name]["depends_on"]["postgres"] == {"condition": "service_healthy"}
    assert services["migrate"]["command"] == ["flask", "--app", "service", "db", "upgrade"]
    assert services["migrate"]["restart"] == "no"
    for name in ("postgres", "redis", "web", "worker", "mailpit"):
        assert services[name]["healthcheck"]["test"][0] == "CMD", name
    assert services["mailpit"]["image"].startswith("axllent/mailpit")
    assert {"pgdata", "redisdata"} <= set(compose["volumes"])
    assert "pgdata:/var/lib/postgresql/data" in services["postgres"]["volumes"]


def test_one_block_of_settings_is_shared_and_beat_is_single(compose):
    shared = compose["x-goalflow-env"]
    assert shared["ENV"] == "production" and shared["LOG_FORMAT"] == "json"
    for name in GOALFLOW_SERVICES:
        environment = compose["services"][name]["environment"]
        assert {k: environment[k] for k in shared} == shared, name
    beat = compose["services"]["beat"]
    assert beat["command"][-2:] == ["--scheduler", "worker.beat.Scheduler"]
    assert "deploy" not in beat and "scale" not in beat  # never more than one
    web = compose["services"]["web"]["command"]
    assert web[0] == "gunicorn" and web[-1] == "service.wsgi:app"
    assert compose["services"]["worker"]["command"][:4] == ["celery", "-A", "worker.main", "worker"]


def test_prod_local_changes_only_what_one_machine_must(compose, tmp_path):
    prod = ProdLocal(run_dir=tmp_path, dotenv=DOTENV, web_port=18123, workers=2)
    web, worker1, worker2, beat = prod.planned()
    spec = {name: service_spec(compose, name, prod.dotenv) for name in GOALFLOW_SERVICES}
    assert web.command == [*spec["web"].command[:-2], "127.0.0.1:18123", "service.wsgi:app"]
    assert worker1.command == [*spec["worker"].command, "--hostname", "worker1@%h"]
    assert worker2.command[-1] == "worker2@%h"
    assert beat.command == spec["beat"].command
    local = {"DATABASE_URL", "BROKER_URL", "REDIS_URL", "MAIL_HOST", "MAIL_PORT", "PROMETHEUS_MULTIPROC_DIR",
             "WORKER_METRICS_PORT"}
    for child, name in ((web, "web"), (worker1, "worker"), (beat, "beat")):
        same = {k: v for k, v in spec[name].environment.items() if k not in local}
        assert {k: child.env[k] for k in same} == same
        assert child.env["DATABASE_URL"].endswith("/" + prod.database)
        assert child.env["BROKER_URL"].endswith(f"/{prod.redis_db}") and prod.redis_db != 0
    assert worker1.env["PROMETHEUS_MULTIPROC_DIR"] != worker2.env["PROMETHEUS_MULTIPROC_DIR"]
    assert worker1.env["WORKER_METRICS_PORT"] != worker2.env["WORKER_METRICS_PORT"]


def test_interpolation_follows_compose():
    env = {"A": "1", "EMPTY": ""}
    assert interpolate("${A}-${A:-x}-${EMPTY:-d}-${EMPTY-d}-${NONE-n}-$$A-$A", env) == "1-1-d--n-$A-1"
    with pytest.raises(ComposeError, match="set it"):
        interpolate("${EMPTY:?set it}", env)


def test_the_image_runs_as_a_user_with_dependencies_cached_and_pango_installed():
    lines = [line.strip() for line in (ROOT / "Dockerfile").read_text().splitlines()]
    assert lines[next(i for i, line in enumerate(lines) if line.startswith("FROM"))].startswith("FROM python:3.11-slim")
    copy_deps = lines.index("COPY pyproject.toml ./")
    install = next(i for i, line in enumerate(lines) if "pip install" in line)
    copy_code = next(i for i, line in enumerate(lines) if line.startswith("COPY") and " . ." in line)
    assert copy_deps < install < copy_code
    user = [line for line in lines if line.startswith("USER ")]
    assert user and user[-1] not in ("USER root", "USER 0")
    assert "libpango-1.0-0" in " ".join(lines)
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", ".env", ".git"} <= set(ignored)
