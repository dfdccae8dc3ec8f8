"""Browser tests: the app served by a real HTTP server in a thread, driven by headless Chromium.

They run on SQLite only (the services are exercised on both backends by the other tests); each
test gets freshly seeded data: an administration with two directorates, one person per role and
a plan open for reporting, as in the shared `world` fixture.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.conftest import _wipe, test_settings
from tests.helpers import PASSWORD

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
SCREENSHOTS = os.environ.get("GOALFLOW_SCREENSHOTS") == "1"
SCREENSHOT_DIR = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def seed() -> SimpleNamespace:
    """The `world` of tests/conftest.py, with ids kept for use outside the app context."""
    from service.extensions import db
    from service.goals.models import Activity, Goal, Indicator, Plan
    from service.org import service as org
    from service.org.models import Role

    admin = org.create_administration(name="Областна администрация Тест", slug="test")
    a = org.create_unit(administration=admin, code="АПОФУС", name="Дирекция АПОФУС")
    b = org.create_unit(administration=admin, code="АКРРДС", name="Дирекция АКРРДС")
    w = SimpleNamespace(password=PASSWORD, slug="test")
    names = {
        "governor": ("Гергана Управителева", Role.GOVERNOR, None),
        "deputy": ("Димитър Заместников", Role.DEPUTY_GOVERNOR, None),
        "secretary": ("Симеон Секретаров", Role.CHIEF_SECRETARY, None),
        "head_a": ("Анна Директорова", Role.HEAD, a),
        "head_b": ("Борис Директоров", Role.HEAD, b),
        "expert_a": ("Емил Експертов", Role.EXPERT, a),
        "expert_b": ("Елена Експертова", Role.EXPERT, b),
        "observer": ("Огнян Наблюдателев", Role.OBSERVER, None),
        "sysadmin": ("Сава Администраторов", Role.ADMIN, None),
    }
    for key, (name, role, unit) in names.items():
        user = org.create_user(
            email=f"{key}@test.bg", name=name, password=PASSWORD, administration=admin, roles=[(role, unit)],
        )
        setattr(w, key, SimpleNamespace(id=user.id, email=user.email, name=name))

    plan = Plan(administration_id=admin.id, year=2023, currency="BGN", state="reporting")
    db.session.add(plan)

    def goal(number, units, state, indicators=1, title=None):
        g = Goal(plan=plan, number=number, title=title or f"Цел {number}", state=state, units=units,
                 strategic_documents="Областна стратегия за развитие", financing_not_applicable=True)
        g.indicators = [
            Indicator(position=i, name=f"Индикатор {number}.{i + 1}", target=4, target_text="4", baseline_text="0")
            for i in range(indicators)
        ]
        g.activities = [Activity(position=0, title=f"Дейност {number}", deadline=date(2023, 12, 31))]
        db.session.add(g)
        return g

    g_a = goal(1, [a], "in_progress", title="Повишаване на безопасността на движението по пътищата")
    g_ab = goal(2, [a, b], "in_progress", indicators=2, title="Обновяване на областната стратегия")
    g_b = goal(3, [b], "planned", title="Цифровизация на административните услуги")
    db.session.commit()
    w.plan_id, w.g_a, w.g_ab, w.g_b = plan.id, g_a.id, g_ab.id, g_b.id
    w.admin_id, w.unit_a, w.unit_b = admin.id, a.id, b.id
    return w


@pytest.fixture(scope="session")
def web_app(tmp_path_factory):
    from flask_migrate import upgrade

    from service.app import create_app

    var_dir = tmp_path_factory.mktemp("web-var")
    application = create_app(test_settings(f"sqlite:///{var_dir / 'web.db'}", var_dir))
    with application.app_context():
        upgrade()
    yield application
    with application.app_context():
        from service.extensions import db

        db.engine.dispose()


@pytest.fixture(scope="session")
def server(web_app):
    """A real HTTP server (werkzeug, threaded) on a free port of the loopback interface."""
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request drowns the failures
    srv = make_server("127.0.0.1", 0, web_app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_port}"
    srv.shutdown()
    thread.join(5)


@pytest.fixture
def web_world(web_app):
    with web_app.app_context():
        w = seed()
    yield w
    _wipe(web_app)


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        from tests.conftest import service_missing

        service_missing(f"Chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser, server):
    """Pages in their own browser contexts (own cookies); several people can act side by side."""
    contexts = []

    def make(width: int = 1280, height: int = 900, locale: str = "bg-BG"):
        context = browser.new_context(base_url=server, viewport={"width": width, "height": height}, locale=locale)
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.problems = []
        # Script errors and CSP refusals; a 4xx answer to a refused form is expected, not a problem.
        page.on("console", lambda msg: page.problems.append(msg.text)
                if msg.type == "error" and not msg.text.startswith("Failed to load resource") else None)
        page.on("pageerror", lambda exc: page.problems.append(str(exc)))
        return page

    yield make
    for context in contexts:
        context.close()


def sign_in(page, who, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.fill("#email", who.email)
    page.fill("#password", password)
    page.click("form button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)


def shoot(page, name: str, *, full_page: bool = True) -> None:
    """Screenshots for the README, only when asked for (GOALFLOW_SCREENSHOTS=1)."""
    if SCREENSHOTS:
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT_DIR / f"{name}.png"), full_page=full_page)


# -- shared by the browser tests ------------------------------------------------------------------

SHOTS = os.environ.get("GOALFLOW_SHOTS_DIR")


def shot(page, name):
    """A full-page screenshot into GOALFLOW_SHOTS_DIR, when set (to look at the pages by eye)."""
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def ask_to_complete(page, goal_id, values, reason):
    """An expert asks, on the goal's page, to complete the goal with these achieved values."""
    from playwright.sync_api import expect

    page.goto(f"/goals/{goal_id}")
    page.click("#action-complete > summary")
    form = page.locator("#action-complete form")
    fields = form.locator("input[name^=achieved-]")
    for i, value in enumerate(values):
        fields.nth(i).fill(value)
    form.locator("textarea[name=reason]").fill(reason)
    form.locator("button[type=submit]").click()
    expect(page.locator(".flash.success")).to_be_visible()
