"""The words of every email, in Bulgarian and English, as plain text and HTML.

A template sees the message's params, `lang`, and two filters: `day` (a date as people write
it) and `quarter` (1 -> "I тримесечие" / "Q1").
"""

from __future__ import annotations

from datetime import date
from functools import cache

from jinja2 import Environment, StrictUndefined, Template
from markupsafe import Markup

ROMAN = ("I", "II", "III", "IV")
_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def format_day(value: date | str, lang: str = "bg") -> str:
    if isinstance(value, str):
        value = date.fromisoformat(value)
    if lang == "en":
        return f"{value.day} {_MONTHS_EN[value.month - 1]} {value.year}"
    return value.strftime("%d.%m.%Y")


def format_quarter(quarter: int, year: int, lang: str = "bg") -> str:
    return f"Q{quarter} {year}" if lang == "en" else f"{ROMAN[quarter - 1]} тримесечие на {year} г."


def _environment(autoescape: bool) -> Environment:
    env = Environment(autoescape=autoescape, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["day"] = format_day
    env.filters["quarter"] = format_quarter
    return env


_env = _environment(True)
_text_env = _environment(False)


@cache
def _template(source: str, html: bool) -> Template:
    return (_env if html else _text_env).from_string(source)

# Appended to the body of messages a substitute may receive in the absent person's place.
_FOR = {
    "bg": "{% if on_behalf %}\nПолучавате това като заместник на {{ on_behalf }}.{% endif %}",
    "en": "{% if on_behalf %}\nYou receive this as the substitute of {{ on_behalf }}.{% endif %}",
}
_ITEM = {
    "bg": "{% if activity %}дейността „{{ activity }}“ по цел {{ number }}{% else %}цел {{ number }} „{{ title }}“{% endif %}",
    "en": "{% if activity %}the activity '{{ activity }}' of goal {{ number }}{% else %}goal {{ number }} '{{ title }}'{% endif %}",
}

# kind -> lang -> (subject, body); the body is shared by the text and HTML forms.
MESSAGES: dict[str, dict[str, tuple[str, str]]] = {
    "approval_needed": {
        "bg": (
            "Очаква се вашето решение: {{ transition }} – цел {{ number }}",
            "{{ requester }} поиска „{{ transition }}“ за цел {{ number }} „{{ title }}“."
            "{% if on_behalf %} Получавате това като заместник на {{ on_behalf }}.{% endif %}"
            "{% if reason %} Причина: {{ reason }}{% endif %}",
        ),
        "en": (
            "Your decision is needed: {{ transition }} – goal {{ number }}",
            "{{ requester }} asked to {{ transition }} goal {{ number }} '{{ title }}'."
            "{% if on_behalf %} You receive this as the substitute of {{ on_behalf }}.{% endif %}"
            "{% if reason %} Reason: {{ reason }}{% endif %}",
        ),
    },
    "request_decided": {
        "bg": (
            "Искането ви е {{ outcome }}: {{ transition }} – цел {{ number }}",
            "Искането „{{ transition }}“ за цел {{ number }} „{{ title }}“ е {{ outcome }}"
            "{% if decider %} от {{ decider }}{% endif %}.{% if reason %} Причина: {{ reason }}{% endif %}",
        ),
        "en": (
            "Your request was {{ outcome }}: {{ transition }} – goal {{ number }}",
            "The request to {{ transition }} goal {{ number }} '{{ title }}' was {{ outcome }}"
            "{% if decider %} by {{ decider }}{% endif %}.{% if reason %} Reason: {{ reason }}{% endif %}",
        ),
    },
    "goal_state_changed": {
        "bg": (
            "Цел {{ number }} е вече „{{ state }}“",
            "Цел {{ number }} „{{ title }}“ премина от „{{ before }}“ в „{{ state }}“.",
        ),
        "en": (
            "Goal {{ number }} is now '{{ state }}'",
            "Goal {{ number }} '{{ title }}' moved from '{{ before }}' to '{{ state }}'.",
        ),
    },
    "substitute_named": {
        "bg": (
            "Определени сте за заместник на {{ absent }}",
            "От {{ starts_on }} до {{ ends_on }} заместете {{ absent }}: ще виждате и решавате неговите одобрения.",
        ),
        "en": (
            "You are the substitute of {{ absent }}",
            "From {{ starts_on }} to {{ ends_on }} you stand in for {{ absent }}: you will see and decide their approvals.",
        ),
    },
    "deadline_soon": {
        "bg": (
            "Наближава срок ({{ deadline|day(lang) }}): {% if activity %}дейност по {% endif %}цел {{ number }}",
            "Срокът на " + _ITEM["bg"] + " е {{ deadline|day(lang) }}: "
            "{% if days == 1 %}утре{% else %}след {{ days }} дни{% endif %}." + _FOR["bg"],
        ),
        "en": (
            "Deadline {{ deadline|day(lang) }}: {% if activity %}an activity of {% endif %}goal {{ number }}",
            "The deadline of " + _ITEM["en"] + " is {{ deadline|day(lang) }}: "
            "{% if days == 1 %}tomorrow{% else %}in {{ days }} days{% endif %}." + _FOR["en"],
        ),
    },
    "deadline_overdue": {
        "bg": (
            "Просрочен срок ({{ deadline|day(lang) }}): {% if activity %}дейност по {% endif %}цел {{ number }}",
            "Срокът на " + _ITEM["bg"] + " изтече на {{ deadline|day(lang) }} (преди {{ days }} дни), "
            "а тя още не е изпълнена." + _FOR["bg"],
        ),
        "en": (
            "Overdue since {{ deadline|day(lang) }}: {% if activity %}an activity of {% endif %}goal {{ number }}",
            "The deadline of " + _ITEM["en"] + " passed on {{ deadline|day(lang) }} ({{ days }} days ago) "
            "and it is not finished yet." + _FOR["en"],
        ),
    },
    "approval_reminder": {
        "bg": (
            "Напомняне: очаква се вашето решение – {{ transition }}, цел {{ number }}",
            "Искането на {{ requester }} за „{{ transition }}“ по цел {{ number }} „{{ title }}“ "
            "чака решението ви от {{ since|day(lang) }} ({{ days }} работни дни)." + _FOR["bg"],
        ),
        "en": (
            "Reminder: your decision is needed – {{ transition }}, goal {{ number }}",
            "{{ requester }}'s request to {{ transition }} goal {{ number }} '{{ title }}' has waited for your "
            "decision since {{ since|day(lang) }} ({{ days }} working days)." + _FOR["en"],
        ),
    },
    "approval_escalated": {
        "bg": (
            "Забавено одобрение: {{ transition }} – цел {{ number }}",
            "Искането на {{ requester }} за „{{ transition }}“ по цел {{ number }} „{{ title }}“ чака от "
            "{{ since|day(lang) }} ({{ days }} работни дни) решение на: {{ waiting_for }}." + _FOR["bg"],
        ),
        "en": (
            "Approval delayed: {{ transition }} – goal {{ number }}",
            "{{ requester }}'s request to {{ transition }} goal {{ number }} '{{ title }}' has waited since "
            "{{ since|day(lang) }} ({{ days }} working days) for: {{ waiting_for }}." + _FOR["en"],
        ),
    },
    "campaign_opened": {
        "bg": (
            "Тримесечни отчети за {{ quarter|quarter(year, lang) }}: срок {{ due|day(lang) }}",
            "Открита е кампанията за тримесечните отчети за {{ quarter|quarter(year, lang) }}. "
            "Подайте до {{ due|day(lang) }} отчетите на {{ unit }} за:\n{{ goals }}" + _FOR["bg"],
        ),
        "en": (
            "Quarterly reports for {{ quarter|quarter(year, lang) }}: due {{ due|day(lang) }}",
            "The campaign for the quarterly reports of {{ quarter|quarter(year, lang) }} is open. "
            "Submit the reports of {{ unit }} by {{ due|day(lang) }} for:\n{{ goals }}" + _FOR["en"],
        ),
    },
    "campaign_reminder": {
        "bg": (
            "{% if stage == 'before' %}Срокът за тримесечните отчети изтича на {{ due|day(lang) }}"
            "{% elif stage == 'today' %}Днес изтича срокът за тримесечните отчети"
            "{% else %}Просрочени тримесечни отчети (срок {{ due|day(lang) }}){% endif %}",
            "Не са подадени отчетите на {{ unit }} за {{ quarter|quarter(year, lang) }} за:\n{{ goals }}" + _FOR["bg"],
        ),
        "en": (
            "{% if stage == 'before' %}The quarterly reports are due on {{ due|day(lang) }}"
            "{% elif stage == 'today' %}The quarterly reports are due today"
            "{% else %}Quarterly reports overdue (due {{ due|day(lang) }}){% endif %}",
            "{{ unit }} has not submitted its reports for {{ quarter|quarter(year, lang) }} on:\n{{ goals }}" + _FOR["en"],
        ),
    },
    "campaign_review_reminder": {
        "bg": (
            "Тримесечни отчети за приемане (срок {{ due|day(lang) }})",
            "Отчетите на {{ unit }} за {{ quarter|quarter(year, lang) }} са подадени и чакат да ги приемете "
            "или върнете:\n{{ goals }}" + _FOR["bg"],
        ),
        "en": (
            "Quarterly reports to accept (due {{ due|day(lang) }})",
            "The reports of {{ unit }} for {{ quarter|quarter(year, lang) }} are submitted and wait for you to "
            "accept or return them:\n{{ goals }}" + _FOR["en"],
        ),
    },
    "campaign_escalated": {
        "bg": (
            "Липсващи тримесечни отчети за {{ quarter|quarter(year, lang) }}",
            "Срокът ({{ due|day(lang) }}) изтече, а тези отчети не са подадени:\n{{ goals }}" + _FOR["bg"],
        ),
        "en": (
            "Missing quarterly reports for {{ quarter|quarter(year, lang) }}",
            "The due date ({{ due|day(lang) }}) has passed and these reports are missing:\n{{ goals }}" + _FOR["en"],
        ),
    },
    "report_submitted": {
        "bg": (
            "Тримесечен отчет за приемане: цел {{ number }}",
            "{{ submitter }} подаде отчета на {{ unit }} за {{ quarter|quarter(year, lang) }} по цел {{ number }} "
            "„{{ title }}“. Приемете го или го върнете с причина." + _FOR["bg"],
        ),
        "en": (
            "A quarterly report to accept: goal {{ number }}",
            "{{ submitter }} submitted the report of {{ unit }} for {{ quarter|quarter(year, lang) }} on goal "
            "{{ number }} '{{ title }}'. Accept it, or return it with a reason." + _FOR["en"],
        ),
    },
    "report_returned": {
        "bg": (
            "Върнат тримесечен отчет: цел {{ number }}",
            "{{ decider }} върна отчета на {{ unit }} за {{ quarter|quarter(year, lang) }} по цел {{ number }} "
            "„{{ title }}“. Причина: {{ reason }}",
        ),
        "en": (
            "Quarterly report returned: goal {{ number }}",
            "{{ decider }} returned the report of {{ unit }} for {{ quarter|quarter(year, lang) }} on goal "
            "{{ number }} '{{ title }}'. Reason: {{ reason }}",
        ),
    },
    "quarter_summary": {
        "bg": (
            "Справка за {{ quarter|quarter(year, lang) }}: изпълнение на целите",
            "Кампанията за тримесечните отчети за {{ quarter|quarter(year, lang) }} приключи.\n"
            "Цели: {{ goals }}; приети отчети: {{ accepted }} от {{ reports }}; в риск: {{ at_risk }}.\n"
            "{% if missing %}Липсващи отчети:\n{{ missing }}\n{% endif %}"
            "Подробната справка е в приложения файл {{ filename }}." + _FOR["bg"],
        ),
        "en": (
            "Summary of {{ quarter|quarter(year, lang) }}: how the goals stand",
            "The campaign for the quarterly reports of {{ quarter|quarter(year, lang) }} is closed.\n"
            "Goals: {{ goals }}; reports accepted: {{ accepted }} of {{ reports }}; at risk: {{ at_risk }}.\n"
            "{% if missing %}Missing reports:\n{{ missing }}\n{% endif %}"
            "The full summary is in the attached file {{ filename }}." + _FOR["en"],
        ),
    },
}

OUTCOMES = {
    "approved": {"bg": "одобрено", "en": "approved"},
    "rejected": {"bg": "отхвърлено", "en": "rejected"},
}

FOOTER = {"bg": "Отворете: {link}", "en": "Open: {link}"}
_PAGE = (
    '<!doctype html><html lang="{{ lang }}"><head><meta charset="utf-8"></head>'
    '<body style="font-family:sans-serif">'
    '<p>{{ body }}</p><p><a href="{{ link }}">{{ action }}</a></p></body></html>'
)


def render(kind: str, lang: str, params: dict, link: str) -> tuple[str, str, str]:
    """(subject, text, html) for one message."""
    catalog = MESSAGES[kind]
    lang = lang if lang in catalog else "bg"
    subject_tpl, body_tpl = catalog[lang]
    context = {"on_behalf": "", **params, "lang": lang}
    subject = " ".join(_template(subject_tpl, False).render(**context).split())
    text = _template(body_tpl, False).render(**context)
    body_html = _template(body_tpl, True).render(**context).replace("\n", "<br>\n")
    footer = FOOTER[lang].format(link=link)
    html = _template(_PAGE, True).render(lang=lang, body=Markup(body_html), link=link, action=footer.split(":")[0])
    return subject, f"{text}\n\n{footer}\n", html
