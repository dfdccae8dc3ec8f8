"""The request as the API shows it carries its claim: what it changes, who decided, who is
awaited and the day it escalates; and an administration's email sender is set through the API."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine

SOFIA = ZoneInfo("Europe/Sofia")


def test_the_inbox_shows_what_the_request_claims(world, as_):
    first, second = (str(i.id) for i in world.g_ab.indicators)
    with time_machine.travel(datetime(2023, 4, 12, 9, 0, tzinfo=SOFIA), tick=False):
        asked = as_("expert_a").post(f"/api/v1/goals/{world.g_ab.id}/transitions", json={
            "transition": "complete", "reason": "Готово", "achieved": {first: "37", second: "12 бр."}})
    assert asked.status_code == 201, asked.json

    (item,) = as_("head_a").get("/api/v1/approvals?status=pending&mine=true").json["items"]
    claim = item["claim"]
    assert claim["subject"] == {"type": "goal", "id": world.g_ab.id, "number": 2, "title": "Цел 2"}
    assert (claim["transition"], claim["from_state"], claim["to_state"]) == ("complete", "in_progress", "done")
    assert [(i["name"], i["target"], i["current"], i["claimed"]) for i in claim["indicators"]] == [
        ("Индикатор 2.0", "1", "", "37"), ("Индикатор 2.1", "1", "", "12 бр.")]
    assert claim["reason"] == "Готово" and claim["decided"] == []
    awaiting = [(a["stage"], a["role"], a["current"], [p["name"] for p in a["people"]]) for a in claim["awaiting"]]
    assert awaiting == [
        ("heads", "head", True, ["Head A"]), ("heads", "head", True, ["Head B"]), ("governor", "governor", False, []),
    ]
    assert claim["decide_by"] == "2023-04-21"  # the fifth working day after 12 April 2023 (Easter between)

    with time_machine.travel(datetime(2023, 4, 13, 9, 0, tzinfo=SOFIA), tick=False):
        decided = as_("head_a").post(f"/api/v1/approvals/{item['id']}/approve", json={"comment": "Да"}).json
    assert [(d["by"]["name"], d["verdict"], d["stage"]) for d in decided["claim"]["decided"]] == [
        ("Head A", "approve", "heads")]
    assert [a["people"][0]["name"] for a in decided["claim"]["awaiting"] if a["current"]] == ["Head B"]
    # The claim stays what was asked: the goal's values change only once the request is applied.
    assert as_("head_b").get(f"/api/v1/goals/{world.g_ab.id}").json["indicators"][0]["achieved_text"] in ("", None)


def test_an_administrations_sender_is_set_and_checked(world, as_):
    url = f"/api/v1/administrations/{world.admin.id}"
    for bad in ({"mail_from_address": "a@b\r\nBcc: x@y.z"}, {"mail_from_address": "no-at-sign"},
                {"mail_from_name": "X\r\nBcc: x@y.z"}, {"name": " "}):
        r = as_("sysadmin").patch(url, json=bad)
        assert r.status_code == 422, (bad, r.json)
    assert as_("head_a").patch(url, json={"mail_from_address": "a@b.bg"}).status_code == 403
    ok = as_("sysadmin").patch(url, json={"mail_from_name": "ОА Тест", "mail_from_address": "celi@test.bg"})
    assert ok.status_code == 200, ok.json
    assert (ok.json["mail_from_name"], ok.json["mail_from_address"]) == ("ОА Тест", "celi@test.bg")
    assert as_("head_a").get(url).json["mail_from_address"] == "celi@test.bg"
    cleared = as_("sysadmin").patch(url, json={"mail_from_address": ""})
    assert cleared.status_code == 200 and cleared.json["mail_from_address"] == ""
