"""No Bulgarian page shows catalogue English: every role walks its pages in Bulgarian, and no
visible text contains an English message of the catalogue that has a Bulgarian translation."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from tests.helpers import achieved_for

CATALOG = Path(__file__).resolve().parents[2] / "service" / "translations" / "bg" / "LC_MESSAGES" / "messages.po"
ROLES = ("governor", "deputy", "secretary", "head_a", "head_b", "expert_a", "expert_b", "observer", "sysadmin")
# English that a Bulgarian page shows on purpose: the other language's own name and the file formats.
MEANT = {"English", "EN"}


def english_messages() -> list[tuple[str, re.Pattern]]:
    """(msgid, pattern) for each message translated into something else; a placeholder matches any text."""
    with CATALOG.open("rb") as f:
        catalog = read_po(f)
    found = []
    for message in catalog:
        if not message.id or not isinstance(message.id, str) or not message.string or message.string == message.id:
            continue
        if message.id in MEANT or len(re.sub(r"%\(\w+\)s", "", message.id).strip()) < 4:
            continue
        parts = re.split(r"%\(\w+\)s", message.id)
        body = r".+?".join(re.escape(p) for p in parts)
        found.append((message.id, re.compile(rf"(?<![\w]){body}(?![\w])")))
    return found


def visible_text(page: str) -> str:
    """What a reader sees: the text between tags, without scripts, styles and the inline SVG's code."""
    head, _, body = page.partition("<body")
    body = re.sub(r"<title\b.*?</title>", " ", body, flags=re.S | re.I)  # an SVG shape's tooltip names its code
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", head + body, flags=re.S | re.I)
    page = re.sub(r"<!--.*?-->", " ", page, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", page)
    return " ".join(html.unescape(text).split())


def sign_in(client, who, password):
    from flask import g

    client.get("/logout")
    page = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    r = client.post("/login", data={"email": who.email, "password": password, "csrf_token": token})
    assert r.status_code == 302, r.text[:300]
    g.pop("csrf_token", None)


@pytest.fixture
def walked(web_app, web_world):
    """The world with something to read everywhere: an open request with claimed values, a substitute."""
    from service.approvals import service as approvals
    from service.extensions import db
    from service.goals.models import Goal
    from service.org.models import User

    with web_app.app_context():
        expert = db.session.get(User, web_world.expert_a.id)
        goal = db.session.get(Goal, web_world.g_ab)
        request = approvals.request_transition(
            actor=expert, subject_type="goal", subject_id=goal.id, transition="complete",
            reason="Всички дейности са изпълнени.", data=achieved_for(goal, "3"),
        )
        web_world.request_id = request.id
        db.session.commit()
    return web_world


def pages_of(role: str, w) -> list[str]:
    common = ["/", "/approvals", f"/approvals/{w.request_id}", "/plans", f"/plans/{w.plan_id}",
              f"/plans/{w.plan_id}/preview", "/progress", "/account", "/public/test/2023",
              *(f"/goals/{g}" for g in (w.g_a, w.g_ab, w.g_b))]
    if role == "sysadmin":
        common += ["/admin", "/admin/substitutes", "/admin/outbox", "/admin/audit", "/admin/audit?check=1"]
    if role == "secretary":
        common += ["/plans/import"]
    return common


@pytest.mark.parametrize("role", ROLES)
def test_no_bulgarian_page_shows_catalogue_english(web_app, walked, role):
    messages = english_messages()
    assert len(messages) > 300, "the catalogue is read"
    shown = visible_text("<body><h1>Approvals inbox</h1><p>Plan 2023 · <b>asked by X</b></p></body>")
    assert {m for m, p in messages if p.search(shown)} >= {"Approvals inbox", "Plan %(year)s", "asked by %(name)s"}
    client = web_app.test_client()
    with web_app.test_request_context():
        sign_in(client, getattr(walked, role), walked.password)
    leaks = []
    for path in pages_of(role, walked):
        response = client.get(path, headers={"Accept-Language": "bg"})
        if response.status_code in (403, 404):
            continue  # not this role's page
        assert response.status_code == 200, (path, response.status_code)
        text = visible_text(response.text)
        assert "Начало" in text, path  # the page is in Bulgarian
        leaks += [(path, msgid) for msgid, pattern in messages if pattern.search(text)]
    assert not leaks, sorted(set(leaks))
