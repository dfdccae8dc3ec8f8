"""The client's address behind a reverse proxy: X-Forwarded-For is believed only for the hops configured."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from service.auth.models import LoginFailure
from service.extensions import db

PROXY = "10.0.0.2"  # the reverse proxy, as gunicorn sees it


def _fail(app, forwarded_for: str | None):
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    answer = app.test_client().post("/api/v1/auth/tokens", json={"email": "nobody@test.bg", "password": "x"},
                                    headers=headers, environ_base={"REMOTE_ADDR": PROXY})
    assert answer.status_code == 401
    return db.session.scalars(select(LoginFailure.address).order_by(LoginFailure.id.desc())).first()


def test_off_by_default_x_forwarded_for_is_ignored(world, ctx):
    assert ctx.config["GOALFLOW"].TRUSTED_PROXY_HOPS == 0
    assert _fail(ctx, "198.51.100.7") == PROXY  # a client cannot choose its address (nor dodge its limit)


def test_a_spoofed_header_cannot_dodge_the_address_limit_when_off(world, ctx):
    for i in range(10):
        _fail(ctx, f"198.51.100.{i}")
    refused = ctx.test_client().post("/api/v1/auth/tokens", json={"email": "x@test.bg", "password": "x"},
                                     headers={"X-Forwarded-For": "198.51.100.99"}, environ_base={"REMOTE_ADDR": PROXY})
    assert refused.status_code == 429


@pytest.mark.parametrize(("hops", "forwarded_for", "client"), [
    (1, "198.51.100.7", "198.51.100.7"),
    (1, "6.6.6.6, 198.51.100.7", "198.51.100.7"),  # what the client wrote itself is left of what the proxy added
    (2, "6.6.6.6, 198.51.100.7, 10.0.0.9", "198.51.100.7"),
])
def test_on_the_address_the_nearest_trusted_proxy_saw_is_used(world, other_app, hops, forwarded_for, client):
    behind_proxy = other_app(TRUSTED_PROXY_HOPS=hops)
    assert _fail(behind_proxy, forwarded_for) == client


def test_on_the_limit_counts_each_client_behind_the_proxy(world, other_app):
    behind_proxy = other_app(TRUSTED_PROXY_HOPS=1)
    for _ in range(10):
        _fail(behind_proxy, "198.51.100.7")
    def sign_in(address):
        return behind_proxy.test_client().post(
            "/api/v1/auth/tokens", json={"email": world.observer.email, "password": world.password, "name": "t"},
            headers={"X-Forwarded-For": address}, environ_base={"REMOTE_ADDR": PROXY},
        ).status_code
    assert sign_in("198.51.100.7") == 429
    assert sign_in("198.51.100.8") == 201  # another person behind the same proxy is not held back
