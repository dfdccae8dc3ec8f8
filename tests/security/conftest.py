"""Shared by the security tests: a second app on the test database built with other settings, signing in
through the login form, and two administrations side by side."""

from __future__ import annotations

import re

import pytest
from flask import g

from tests.api.conftest import as_, tokens  # noqa: F401 - the API as one person of the world
from tests.documents_db.conftest import haskovo_admin, haskovo_bytes  # noqa: F401 (fixtures used here too)


@pytest.fixture
def other_app(ctx, database_url, tmp_path):
    """make(**settings): an app on the same (migrated, wiped) database as `ctx`, with other settings.

    Building an app makes its Celery app the default one: the test app's is put back afterwards.
    """
    from service.app import create_app
    from tests.conftest import test_settings

    def make(**settings):
        return create_app(test_settings(database_url, tmp_path / "other-var", **settings))

    yield make
    ctx.extensions["celery"].set_default()


def sign_in(client, user, password) -> None:
    g.pop("csrf_token", None)
    csrf = csrf_of(client.get("/login").text)
    answer = client.post("/login", data={"email": user.email, "password": password, "csrf_token": csrf})
    assert answer.status_code == 302, answer.text[:300]
    g.pop("csrf_token", None)  # the tests share one app context: forget the token cached before signing in


def sign_out(client) -> None:
    client.post("/logout", data={"csrf_token": csrf_of(client.get("/account").text)})
    g.pop("csrf_token", None)


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


@pytest.fixture
def two(ctx):
    """Two administrations, each with its units, one person per role and a plan open for reporting."""
    from tests.helpers import build_world

    return build_world("one"), build_world("two")
