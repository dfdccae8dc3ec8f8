"""The OpenAPI document and /api/docs: complete, served by the app itself, and working under the CSP."""

from __future__ import annotations

import re
import threading

import pytest

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]
INTERFACE = {  # design/interfaces.md: what programs rely on
    "/api/v1/auth/tokens": "post", "/api/v1/plans": "get", "/api/v1/plans/{plan_id}": "get",
    "/api/v1/plans/{plan_id}/goals": "get", "/api/v1/goals/{goal_id}": "get",
    "/api/v1/goals/{goal_id}/transitions": "post", "/api/v1/approvals": "get",
    "/api/v1/approvals/{request_id}/approve": "post", "/api/v1/approvals/{request_id}/reject": "post",
    "/api/v1/goals/{goal_id}/events": "get", "/api/v1/progress-reports": "get",
}


def test_the_document_describes_the_interface(client):
    doc = client.get("/api/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    for path, method in INTERFACE.items():
        assert method in doc["paths"][path], path
    assert doc["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert doc["paths"]["/api/v1/auth/tokens"]["post"]["security"] == []  # the one door open to strangers
    error = doc["components"]["responses"]["UNPROCESSABLE_ENTITY"]["content"]
    assert list(error) == ["application/problem+json"]
    params = {p["name"]: p for p in doc["paths"]["/api/v1/goals"]["get"]["parameters"]}
    assert {"page", "per_page", "state", "unit", "year"} <= set(params)
    assert params["per_page"]["schema"]["maximum"] == 100
    patch = doc["paths"]["/api/v1/goals/{goal_id}"]["patch"]
    assert any(p["name"] == "If-Match" and p["required"] for p in patch["parameters"])


def test_the_docs_page_uses_only_its_own_files(client):
    page = client.get("/api/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "http://" not in html and "https://" not in html
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    assert scripts and all('src="/api/docs/' in attrs and not body.strip() for attrs, body in scripts)
    for asset in re.findall(r'(?:src|href)="(/api/docs/[^"]+)"', html):
        assert client.get(asset).status_code == 200, asset
    assert client.get("/api/docs/index.html").status_code == 404  # only the files the page needs


@pytest.fixture
def live_docs(app):
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.mark.browser
def test_swagger_ui_renders_under_the_csp(live_docs, backend):
    if backend != "sqlite":
        pytest.skip("the page does not depend on the database")
    sync_api = pytest.importorskip("playwright.sync_api")
    problems: list[str] = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        outside = []
        page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(live_docs) else None)
        page.goto(f"{live_docs}/api/docs")
        page.wait_for_selector(".opblock", timeout=15000)
        operations = page.locator(".opblock").count()
        title = page.locator(".info .title").inner_text()
        browser.close()
    assert operations >= 40 and "goalflow" in title
    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p], problems
    assert outside == [] or all(u.startswith("data:") for u in outside), outside
