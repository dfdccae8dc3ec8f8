import pytest

from tests.worker.sink import Sink


@pytest.fixture
def sink():
    server = Sink().start()
    yield server
    server.stop()


@pytest.fixture
def smtp_settings(ctx, sink, monkeypatch):
    """The app's settings pointed at the sink, with quick retries."""
    settings = ctx.config["GOALFLOW"]
    for name, value in {
        "MAIL_HOST": "127.0.0.1", "MAIL_PORT": sink.port, "MAIL_TIMEOUT_SECONDS": 5,
        "MAIL_RETRY_BASE_SECONDS": 60, "MAIL_MAX_ATTEMPTS": 3,
    }.items():
        monkeypatch.setattr(settings, name, value)
    return settings
