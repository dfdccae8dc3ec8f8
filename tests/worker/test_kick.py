"""The nudge after a commit is published from its own thread, and still carries the request id."""

from __future__ import annotations

import threading

from service.common import settings
from service.notifications import service as outbox
from service.observability import request_id_var


def test_the_outbox_nudge_carries_the_request_id(ctx, monkeypatch):
    seen: list[str] = []
    sent = threading.Event()

    def send_task(*args, **kwargs):
        seen.append(request_id_var.get())
        sent.set()

    monkeypatch.setattr(ctx.extensions["celery"], "send_task", send_task)
    monkeypatch.setattr(settings(), "OUTBOX_KICK", True)
    token = request_id_var.set("req-42")
    try:
        outbox.kick()
        assert sent.wait(5)
    finally:
        request_id_var.reset(token)
    assert seen == ["req-42"]
