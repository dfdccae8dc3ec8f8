"""Plain Bulgarian on the pages: the words the documents use, whole words, one language at a time."""

from __future__ import annotations

import re
from decimal import Decimal

from service.approvals import service as approvals
from service.documents import Text
from service.extensions import db
from service.goals.models import Goal
from tests.helpers import achieved_for
from tests.web.test_forms import post
from tests.web.test_pages import login


def test_money_units_and_import_warnings_read_as_in_the_documents(world, client):
    goal = world.g_a
    goal.financing_amount, goal.financing_currency = Decimal("146305.48"), "BGN"
    goal.indicators[0].target_text, goal.indicators[0].unit = "2 бр", "бр"
    goal.needs_review = True
    goal.import_warnings = [Text("Документът посочва „Изпълнена“.", "The document says “Изпълнена”.").stored()]
    db.session.commit()
    login(client, world.observer, world.password)
    page = client.get(f"/goals/{goal.id}").text
    assert "146 305,48 лв." in page.replace("\u00a0", " ") and "BGN" not in page
    assert "2 бр бр" not in page and "2 бр" in page
    assert "Документът посочва „Изпълнена“." in page and "The document says" not in page
    table = client.get(f"/plans/{world.plan.id}").text
    assert "лв." in table and "BGN" not in table and "2 бр бр" not in table
    client.get("/lang/en")
    english = client.get(f"/goals/{goal.id}").text
    assert "The document says “Изпълнена”." in english and "Документът посочва" not in english
    assert "146,305.48 BGN" in english


def test_quarters_are_named_as_in_bulgarian(world, client):
    login(client, world.secretary, world.password)
    opened = post(client, "/progress/campaigns", {"plan_id": world.plan.id, "quarter": 4}, page="/progress")
    assert opened.status_code in (200, 302), opened.text[:300]
    page = client.get("/progress").text
    text = re.sub(r"<[^>]*>", " ", page)  # what is read, not tokens in attributes (a CSRF token may hold "Q4")
    assert "IV тримесечие" in text and not re.search(r"\bQ4\b", text) and "тримесечие 4" not in text
    assert ">I тримесечие</option>" in page


def test_the_inbox_and_the_flash_say_what_happened(world, client):
    approvals.request_transition(actor=world.expert_a, subject_type="goal", subject_id=world.g_a.id,
                                 transition="complete", data=achieved_for(world.g_a))
    login(client, world.head_a, world.password)
    nothing = post(client, "/approvals", {"verdict": "approve"}, page="/approvals")
    assert nothing.status_code == 422
    assert "Отбележете поне едно искане." in nothing.text and "Полето е задължително." not in nothing.text

    # The governor's reopen needs nobody else: it is applied at once, and the page says so.
    goal = db.session.get(Goal, world.g_b.id)
    goal.state = "done"
    db.session.commit()
    login(client, world.governor, world.password)
    done = post(client, f"/goals/{goal.id}/transitions", {"transition": "reopen", "reason": "Нови данни"},
                page=f"/goals/{goal.id}")
    assert done.status_code == 302
    page = client.get(done.headers["Location"]).text
    assert "Готово: вече е „В процес на изпълнение“." in page and "Искането ви е записано" not in page
    assert "Версия" not in page


def test_a_bulk_outcome_cuts_a_long_title_at_a_word(world, client):
    goal = world.g_a
    goal.title = "Повишаване на безопасността на движението по пътищата в областта чрез системни проверки " * 2
    db.session.commit()
    request = approvals.request_transition(actor=world.expert_a, subject_type="goal", subject_id=goal.id,
                                           transition="complete", data=achieved_for(goal))
    login(client, world.head_a, world.password)
    decided = post(client, "/approvals", {"verdict": "approve", "request": str(request.id)}, page="/approvals")
    outcome = decided.text.split('id="outcomes"')[1].split("</section>")[0]
    label = outcome.split("Отчитане като изпълнена – 1. ")[1].split("<")[0].strip()
    assert label.endswith("…") and goal.title.startswith(label[:-1].rstrip())
    assert goal.title[len(label[:-1].rstrip())] == " ", "cut between words"


def test_the_administrator_sets_the_sender_of_the_administrations_emails(world, client):
    login(client, world.sysadmin, world.password)
    page = client.get("/admin/outbox").text
    assert "Подател на писмата" in page and "на инсталацията (goalflow &lt;noreply@goalflow.local&gt;)" in page
    bad = post(client, "/admin/sender", {"mail_from_name": "ОА", "mail_from_address": "not an address"},
               page="/admin/outbox")
    assert bad.status_code == 422 and "Това не е валиден адрес на електронна поща." in bad.text
    saved = post(client, "/admin/sender", {"mail_from_name": "Областна администрация Тест",
                                           "mail_from_address": "celi@test.bg"}, page="/admin/outbox")
    assert saved.status_code == 302
    db.session.expire_all()
    assert (world.admin.mail_from_name, world.admin.mail_from_address) == ("Областна администрация Тест", "celi@test.bg")
    login(client, world.head_a, world.password)
    assert post(client, "/admin/sender", {"mail_from_address": "x@y.bg"}, page="/").status_code == 403
