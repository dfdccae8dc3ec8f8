"""The nudge after a commit is published from its own thread, and still carries the request id."""

from __future__ import annotations

import threading
import time

from service.kernel.common import settings
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


def test_kicks_close_together_become_one_nudge_and_none_is_lost(ctx, monkeypatch):
    published: list[float] = []
    monkeypatch.setattr(ctx.extensions["celery"], "send_task", lambda *a, **k: published.append(time.monotonic()))
    monkeypatch.setattr(settings(), "OUTBOX_KICK", True)

    def settle() -> int:
        # quiet for longer than the interval: every wanted nudge has gone out
        time.sleep(3 * outbox._Nudger.NUDGE_INTERVAL + 0.3)
        return len(published)

    settle()
    published.clear()
    for _ in range(200):  # a burst of commits, as under load
        outbox.kick()
    burst = settle()
    assert 1 <= burst <= 2  # the burst's first kick, and one for those behind it
    outbox.kick()  # a commit after the nudges went out still gets its own
    assert settle() == burst + 1
    gaps = [b - a for a, b in zip(published, published[1:], strict=False)]
    assert all(gap >= outbox._Nudger.NUDGE_INTERVAL * 0.9 for gap in gaps)
