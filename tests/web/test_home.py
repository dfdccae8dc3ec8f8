"""The home page and the goal page: what they list, and that their queries do not grow with their rows."""

from __future__ import annotations

import re
from contextlib import contextmanager

from sqlalchemy import event

from service.approvals import service as approvals
from service.extensions import db
from tests.helpers import achieved_for
from tests.web.test_pages import login


@contextmanager
def statements():
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def home(client) -> tuple[str, list[str]]:
    db.session.expunge_all()  # the test's session is the requests' too: read as a fresh request would
    with statements() as seen:
        response = client.get("/")
    assert response.status_code == 200
    return response.text, seen


def test_the_governors_home_page_lists_the_year_at_a_glance(world, client):
    ids = {world.g_a.id, world.g_ab.id, world.g_b.id}
    login(client, world.governor, world.password)
    page, seen = home(client)
    goals = re.findall(r'<tr><td data-label="[^"]+">(\d+)</td>\s*<td data-label="[^"]+"><a href="/goals/(\d+)">', page)
    assert [int(number) for number, _ in goals] == [1, 2, 3]
    assert {int(goal_id) for _, goal_id in goals} == ids
    assert 'id="state-matrix"' in page and ">АПОФУС</th>" in page and ">АКРРДС</th>" in page
    assert page.count('<progress max="100"') + page.count('<span class="muted">') >= 4  # one per indicator
    # The goals with their units in one query, their indicators and activities in one each; no query a row.
    assert sum(bool(re.search(r"\bFROM goals\b", s)) for s in seen) == 1, seen


def test_pending_requests_do_not_cost_a_query_each(world, client):
    from service.goals.models import Goal
    from service.org.models import User

    g_a, g_ab, expert = world.g_a.id, world.g_ab.id, world.expert_a.id
    login(client, world.head_a, world.password)

    def ask(goal_id: int) -> None:
        goal = db.session.get(Goal, goal_id)
        approvals.request_transition(actor=db.session.get(User, expert), subject_type="goal", subject_id=goal_id,
                                     transition="complete", data=achieved_for(goal))

    ask(g_a)
    _, one = home(client)
    ask(g_ab)
    page, two = home(client)
    # Each leads to its decision and names its goal.
    pending = page.split('id="pending"')[1].split("</ul>")[0]
    assert pending.count('href="/approvals/') == 2 and "Цел 1. Цел 1" in pending and "Цел 2. Цел 2" in pending
    # The requests' goals are the head's own, read with the page's goals: no read of their own.
    assert len(goal_reads(two)) == len(goal_reads(one)) == 1, goal_reads(two)


def goal_reads(seen: list[str]) -> list[str]:
    return [s for s in seen if re.search(r"\bFROM goals\b", s)]


def test_the_goal_pages_timeline_reads_its_people_with_the_events(world, client):
    """The timeline's people come with its events: no query (and another for roles) per person."""
    from service.org.models import User

    g_a, expert, head, governor = world.g_a.id, world.expert_a.id, world.head_a.id, world.governor.id
    req = approvals.request_transition(actor=world.expert_a, subject_type="goal", subject_id=g_a,
                                       transition="complete", data=achieved_for(world.g_a))
    approvals.decide(actor=world.head_a, request_id=req.id, verdict="approve")
    approvals.decide(actor=world.governor, request_id=req.id, verdict="approve")  # closed: the timeline alone names them
    login(client, world.secretary, world.password)
    db.session.expunge_all()
    with statements() as seen:
        page = client.get(f"/goals/{g_a}")
    assert page.status_code == 200
    names = [db.session.get(User, i).name for i in (expert, head, governor)]
    assert all(name in page.text for name in names)
    reads_by_id = [s for s in seen if re.search(r"\bFROM users\s+WHERE users\.id = ", s)]
    assert len(reads_by_id) == 1, reads_by_id  # the signed-in person only
