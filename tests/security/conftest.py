"""Helpers of the security tests: a second app on the test database, built with other settings."""

from __future__ import annotations

import pytest

from tests.api.conftest import as_, tokens  # noqa: F401 - the API as one person of the world


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
