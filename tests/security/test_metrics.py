"""/metrics is never public in production: it does not start without METRICS_TOKEN, and asks for it."""

from __future__ import annotations

import pytest

from service.config import Settings

PRODUCTION = dict(ENV="production", SECRET_KEY="s" * 48, SESSION_COOKIE_SECURE=True, BASE_URL="https://goals.example.bg",
                  DATABASE_URL="postgresql+psycopg://goalflow@127.0.0.1:1/goalflow", BROKER_URL="redis://127.0.0.1:1/0")


@pytest.mark.parametrize("token", ["", "short-token"])
def test_production_refuses_to_start_without_a_metrics_token(token):
    with pytest.raises(RuntimeError, match="METRICS_TOKEN"):
        Settings(**PRODUCTION, METRICS_TOKEN=token).check_safe()
    from service.app import create_app

    with pytest.raises(RuntimeError, match="Unsafe production settings"):
        create_app(Settings(**PRODUCTION, METRICS_TOKEN=token))


def test_production_with_its_token_starts():
    Settings(**PRODUCTION, METRICS_TOKEN="m" * 24).check_safe()


def test_production_metrics_need_the_token(world, other_app, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("production runs on PostgreSQL only")
    token = "metrics-scrape-token-0123456789"
    app = other_app(**{**PRODUCTION, "DATABASE_URL": database_url, "METRICS_TOKEN": token})
    client = app.test_client()
    base = {"base_url": "https://goals.example.bg"}
    assert client.get("/metrics", **base).status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}, **base).status_code == 401
    assert client.get("/metrics", headers={"Authorization": f"Bearer {token}x"}, **base).status_code == 401
    scraped = client.get("/metrics", headers={"Authorization": f"Bearer {token}"}, **base)
    assert scraped.status_code == 200 and b"goalflow_http_requests_total" in scraped.data


def test_the_compose_file_requires_the_token():
    from pathlib import Path

    compose = (Path(__file__).resolve().parents[2] / "docker-compose.yml").read_text()
    assert "METRICS_TOKEN: ${METRICS_TOKEN:?" in compose
