"""Fixtures of the API tests: a token per role of the `world`, and a small client wrapper."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

ROLES = ("governor", "deputy", "secretary", "head_a", "head_b", "expert_a", "expert_b", "observer", "sysadmin")


class Api:
    """The test client speaking JSON with a bearer token (or none)."""

    def __init__(self, client, token: str | None):
        self.client = client
        self.token = token

    def __call__(self, method: str, path: str, json=None, headers: dict | None = None, **kwargs):
        headers = dict(headers or {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return self.client.open(path, method=method, json=json, headers=headers, **kwargs)

    def get(self, path, **kw):
        return self("GET", path, **kw)

    def post(self, path, json=None, **kw):
        return self("POST", path, json=json, **kw)

    def patch(self, path, json=None, **kw):
        return self("PATCH", path, json=json, **kw)

    def delete(self, path, **kw):
        return self("DELETE", path, **kw)


@pytest.fixture
def tokens(world):
    """A personal token for each person of the world, issued by the service (no password round trip)."""
    from service.auth.service import issue_token

    return SimpleNamespace(**{key: issue_token(user=getattr(world, key), name="tests")[1] for key in ROLES})


@pytest.fixture
def as_(client, tokens):
    """as_("head_a").get(...): the API as one person of the world; as_(None) is anonymous."""

    def make(who: str | None) -> Api:
        return Api(client, getattr(tokens, who) if who else None)

    return make
