"""Every message renders in both languages, as text and as escaped HTML, with its link."""

from __future__ import annotations

from datetime import date

import pytest

from service.notifications.messages import MESSAGES, render

GOAL = {"number": 4, "title": "Пътна <безопасност>"}
CAMPAIGN = {"quarter": 2, "year": 2024, "due": date(2024, 7, 15), "unit": "АКРРДС", "goals": "1. Първа\n2. Втора"}
PARAMS = {
    "approval_needed": {**GOAL, "transition": "Започване", "requester": "Иван", "reason": "", "on_behalf": ""},
    "request_decided": {**GOAL, "transition": "Започване", "outcome": "одобрено", "decider": "Мария", "reason": "x"},
    "goal_state_changed": {**GOAL, "before": "Планирана", "state": "В процес"},
    "substitute_named": {"absent": "Иван", "starts_on": "01.07.2024", "ends_on": "05.07.2024"},
    "deciding_role_granted": {"person": "Иван", "email": "ivan@x.bg", "role": "head", "unit": "АПОФУС",
                              "actor": "Мария", "at": date(2024, 7, 1)},
    "deadline_soon": {**GOAL, "activity": "", "deadline": date(2024, 12, 31), "days": 7},
    "deadline_overdue": {**GOAL, "activity": "Обучение", "deadline": date(2024, 6, 30), "days": 8},
    "approval_reminder": {**GOAL, "transition": "Приключване", "requester": "Иван", "since": date(2024, 4, 12), "days": 3},
    "approval_escalated": {**GOAL, "transition": "Приключване", "requester": "Иван", "since": date(2024, 4, 12),
                           "days": 5, "waiting_for": "Мария"},
    "campaign_opened": CAMPAIGN,
    "campaign_reminder": {**CAMPAIGN, "stage": "overdue"},
    "campaign_escalated": CAMPAIGN,
    "campaign_review_reminder": {**CAMPAIGN, "stage": "today"},
    "report_submitted": {**GOAL, **CAMPAIGN, "submitter": "Иван"},
    "report_returned": {**GOAL, **CAMPAIGN, "decider": "Мария", "reason": "Липсват данни"},
    "quarter_summary": {"quarter": 2, "year": 2024, "goals": 8, "reports": 10, "accepted": 9, "at_risk": 2,
                        "missing": "3. Трета (АПОФУС)", "filename": "goals-2024-Q2-bg.xlsx"},
}


def test_every_kind_has_sample_params():
    assert set(PARAMS) == set(MESSAGES)


@pytest.mark.parametrize("kind", sorted(MESSAGES))
@pytest.mark.parametrize("lang", ["bg", "en"])
def test_each_message_renders(kind, lang):
    subject, text, html = render(kind, lang, {**PARAMS[kind], "on_behalf": "Петър"}, "https://goals.example/x?a=1&b=2")
    assert subject and "\n" not in subject and "{" not in subject
    assert text.rstrip().endswith("https://goals.example/x?a=1&b=2")
    assert 'href="https://goals.example/x?a=1&amp;b=2"' in html
    assert "<безопасност>" not in html  # the title is escaped in HTML
    if "title" in PARAMS[kind] and kind != "deadline_overdue":
        assert "<безопасност>" in text  # and kept as written in the text part
    if "{% if on_behalf %}" in MESSAGES[kind][lang][1]:
        assert "Петър" in text


def test_the_english_wording_has_no_bulgarian_left_in_it():
    for kind, langs in MESSAGES.items():
        for part in langs["en"]:
            assert not any("\u0400" <= ch <= "\u04ff" for ch in part), kind
