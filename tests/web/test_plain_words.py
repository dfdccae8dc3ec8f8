"""Plain words on every main page, for every demo role, in Bulgarian (test client): none of the
words the issue found ("Преходът изисква още данни.", "Поиска преход", "Версия 1" in the header,
"Искане: …", "Q1", "тримесечие 4", "BGN", "бр бр") and the good ones in their place."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from service.extensions import db
from tests.web.test_forms import post
from tests.web.test_pages import login

PASSWORD = "demo-password-1"
DEMO_ROLES = ["governor", "deputy", "secretary", "head.apofus", "head.akrrds", "expert.apofus", "expert.akrrds",
              "observer", "admin"]
BAD = ["Преходът изисква още данни.", "Поиска преход", "бр бр", "BGN", "Искане: ", "Transition", "Request:"]
BAD_PATTERNS = [r"\bQ[1-4]\b", r"тримесечие [1-4]\b"]


def text_of(page: str) -> str:
    """What is read on the page: no tags, no attribute values (a CSRF token may hold "Q4")."""
    body = page.split("<body", 1)[-1]
    body = re.sub(r"<script.*?</script>", " ", body, flags=re.S)
    return html.unescape(re.sub(r"<[^>]*>", " ", body)).replace("\u00a0", " ")


def header_of(page: str) -> str:
    """The page's header: from the start of the main content to the end of its first heading's lead."""
    main = page.split('id="main"', 1)[-1]
    return text_of(main.split("</h1>", 1)[0])


def plain(page: str, path: str) -> None:
    text = text_of(page)
    for word in BAD:
        assert word not in text, f"{path}: {word!r}"
    for pattern in BAD_PATTERNS:
        assert not re.search(pattern, text), f"{path}: {pattern}: {re.search(pattern, text).group(0)!r}"
    assert not re.search(r"Версия \d", header_of(page)), f"{path}: a version number in the header"
    # Buttons that ask say what for: "Искане за …".
    for button in re.findall(r"<button[^>]*>(.*?)</button>", page, flags=re.S):
        assert not text_of(button).strip().startswith("Искане:"), f"{path}: {button!r}"


@pytest.fixture
def demo(ctx):
    from service.demo import load_demo
    from service.goals.models import Plan
    from service.org.service import user_by_email

    load_demo(PASSWORD)
    people = {role: user_by_email(f"{role}@haskovo.demo") for role in DEMO_ROLES}
    plan = db.session.scalar(select(Plan).where(Plan.administration_id == people["governor"].administration_id))
    return people, plan


def pages_for(client, plan) -> list[str]:
    pages = ["/", "/approvals", "/plans", f"/plans/{plan.id}", f"/plans/{plan.id}/preview", "/progress", "/account"]
    pages += [f"/goals/{g.id}" for g in plan.goals[:6]]
    listing = client.get("/progress").text
    found = sorted(set(re.findall(r'href="(/progress/(?:campaigns/)?\d+)"', listing)))[:6]
    pages += found + [f"{path}/summary" for path in found if "/campaigns/" in path]
    inbox = client.get("/approvals").text
    pages += sorted(set(re.findall(r'href="(/approvals/\d+)"', inbox)))[:3]
    return pages


def test_every_main_page_speaks_plainly_for_every_demo_role(demo, client):
    people, plan = demo
    # A quarter's campaign is open, so that its pages are walked too.
    login(client, people["secretary"], PASSWORD)
    opened = post(client, "/progress/campaigns", {"plan_id": plan.id, "quarter": 4}, page="/progress")
    assert opened.status_code in (200, 302), opened.text[:300]
    for role in DEMO_ROLES:
        login(client, people[role], PASSWORD)
        walked = pages_for(client, plan)
        if role == "admin":
            walked += ["/admin", "/admin/substitutes", "/admin/outbox", "/admin/audit"]
        for path in walked:
            answer = client.get(path)
            if answer.status_code in (403, 404):  # not for this role: nothing to read
                continue
            assert answer.status_code == 200, (role, path, answer.status_code)
            plain(answer.text, f"{role} {path}")
        if role == "secretary":
            board = client.get("/progress").text
            assert "IV тримесечие" in text_of(board)


def test_money_is_in_leva_and_requests_say_what_for(demo, client):
    people, plan = demo
    login(client, people["observer"], PASSWORD)
    table = text_of(client.get(f"/plans/{plan.id}").text)
    assert "лв." in table and "BGN" not in table
    login(client, people["expert.apofus"], PASSWORD)
    goal = next(g for g in plan.goals if g.state == "in_progress" and "АПОФУС" in {u.code for u in g.units})
    page = client.get(f"/goals/{goal.id}").text
    assert "Искане за" in text_of(page)


def test_the_new_user_form_starts_with_no_role(demo, client):
    people, _ = demo
    login(client, people["admin"], PASSWORD)
    page = client.get("/admin").text
    select_html = page.split('id="user-role"', 1)[1].split("</select>", 1)[0]
    assert "selected" not in select_html
    assert re.search(r'<option value=""[^>]*>', select_html)


def test_an_empty_bulk_choice_is_explained_and_the_governors_reopen_is_told_as_done(demo, client):
    from service.approvals import service as approvals
    from service.goals.models import Goal
    from tests.helpers import achieved_for

    people, plan = demo
    waiting = next(g for g in plan.goals if g.state == "in_progress" and "АПОФУС" in {u.code for u in g.units})
    approvals.request_transition(actor=people["expert.apofus"], subject_type="goal", subject_id=waiting.id,
                                 transition="complete", data=achieved_for(waiting))
    login(client, people["head.apofus"], PASSWORD)
    assert 'id="inbox"' in client.get("/approvals").text
    nothing = post(client, "/approvals", {"verdict": "approve"}, page="/approvals")
    assert nothing.status_code == 422
    assert "Полето е задължително." not in nothing.text and "Отбележете поне едно искане." in nothing.text

    login(client, people["governor"], PASSWORD)
    done = db.session.scalar(select(Goal).where(Goal.plan_id == plan.id, Goal.state == "done"))
    reopened = post(client, f"/goals/{done.id}/transitions", {"transition": "reopen", "reason": "Нови данни"},
                    page=f"/goals/{done.id}")
    assert reopened.status_code == 302, text_of(reopened.text)[:500]
    page = client.get(reopened.headers["Location"]).text
    flash = text_of(page)
    assert "Искането ви е записано." not in flash and "Искането ви е записано" not in flash
    assert "Готово: вече е „В процес на изпълнение“." in flash
    plain(page, "reopened goal")
