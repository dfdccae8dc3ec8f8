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


def short_title(text: str, length: int = 60) -> str:
    """A title cut at a word, never inside one."""
    text = " ".join(str(text).split())
    if len(text) <= length:
        return text
    return text[: length - 1].rsplit(" ", 1)[0].rstrip(",;:–-") + "…"


def role_name(code: str, lang: str = "bg") -> str:
    return ROLE_NAMES.get(code, {}).get(lang, code)


def _environment(autoescape: bool) -> Environment:
    env = Environment(autoescape=autoescape, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["day"] = format_day
    env.filters["quarter"] = format_quarter
    env.filters["short"] = short_title
    env.filters["role"] = role_name
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

# The object of a request: a goal, or the year's plan (its "number" is the year).
_OBJECT = {
    "bg": "{% if subject_type == 'plan' %}плана за {{ number }} г.{% else %}цел {{ number }} „{{ title }}“{% endif %}",
    "en": "{% if subject_type == 'plan' %}the plan for {{ number }}{% else %}goal {{ number }} '{{ title }}'{% endif %}",
}
_OBJECT_SHORT = {
    "bg": "{% if subject_type == 'plan' %}план {{ number }}{% else %}цел {{ number }} „{{ title|short }}“{% endif %}",
    "en": "{% if subject_type == 'plan' %}plan {{ number }}{% else %}goal {{ number }} '{{ title|short }}'{% endif %}",
}
# What a request claims (claim_context below), what to do, and by when: in every message that
# asks someone to decide, so that the email alone says what the decision is about. Line breaks
# are written {{ nl }}: a newline right after a block tag would be trimmed.
_CLAIM = {
    "bg": "{% if claim %}{{ nl }}{{ nl }}Искането: от „{{ claim.from_label }}“ в „{{ claim.to_label }}“."
    "{% for i in claim.indicators %}{{ nl }}- {{ i.name }}: целева стойност {{ i.target or '–' }}, "
    "заявено постигнато {{ i.claimed or '–' }}{% if i.current and i.current != i.claimed %} (записано досега: "
    "{{ i.current }}){% endif %}{% endfor %}"
    "{% for f in claim.fields %}{{ nl }}- {{ f.label }}: {{ f.before or '–' }} → {{ f.after or '–' }}{% endfor %}"
    "{{ nl }}Причина: {{ claim.reason or '–' }}"
    "{{ nl }}Решили досега: {{ claim.decided or 'никой' }}"
    "{% if claim.awaited %}{{ nl }}Очакват се още: {{ claim.awaited }}{% endif %}"
    "{% if claim.decide_by %}{{ nl }}Срок за решение: {{ claim.decide_by|day(lang) }} – след него искането се "
    "докладва на главния секретар.{% endif %}{% endif %}",
    "en": "{% if claim %}{{ nl }}{{ nl }}The request: from '{{ claim.from_label }}' to '{{ claim.to_label }}'."
    "{% for i in claim.indicators %}{{ nl }}- {{ i.name }}: target {{ i.target or '–' }}, "
    "claimed achieved {{ i.claimed or '–' }}{% if i.current and i.current != i.claimed %} (recorded so far: "
    "{{ i.current }}){% endif %}{% endfor %}"
    "{% for f in claim.fields %}{{ nl }}- {{ f.label }}: {{ f.before or '–' }} → {{ f.after or '–' }}{% endfor %}"
    "{{ nl }}Reason: {{ claim.reason or '–' }}"
    "{{ nl }}Decided so far: {{ claim.decided or 'nobody' }}"
    "{% if claim.awaited %}{{ nl }}Still awaited: {{ claim.awaited }}{% endif %}"
    "{% if claim.decide_by %}{{ nl }}Decide by: {{ claim.decide_by|day(lang) }} – after that the request is reported "
    "to the chief secretary.{% endif %}{% endif %}",
}
_TODO = {
    "bg": "{% if claim %}{{ nl }}{{ nl }}Какво да направите: отворете искането от връзката по-долу, прочетете заявеното и "
    "изберете „Одобрявам“ или „Отхвърлям“ (при отхвърляне напишете причината).{% endif %}",
    "en": "{% if claim %}{{ nl }}{{ nl }}What to do: open the request from the link below, read what is claimed and choose "
    "Approve or Reject (a rejection needs a reason).{% endif %}",
}

# kind -> lang -> (subject, body); the body is shared by the text and HTML forms.
MESSAGES: dict[str, dict[str, tuple[str, str]]] = {
    "approval_needed": {
        "bg": (
            "Очаква се вашето решение: искане за „{{ transition }}“ – " + _OBJECT_SHORT["bg"],
            "{{ requester }} поиска „{{ transition }}“ за " + _OBJECT["bg"] + "."
            "{% if on_behalf %} Получавате това като заместник на {{ on_behalf }}.{% endif %}"
            "{% if reason and not claim %} Причина: {{ reason }}{% endif %}" + _CLAIM["bg"] + _TODO["bg"],
        ),
        "en": (
            "Your decision is needed: request to {{ transition }} – " + _OBJECT_SHORT["en"],
            "{{ requester }} asked to {{ transition }} " + _OBJECT["en"] + "."
            "{% if on_behalf %} You receive this as the substitute of {{ on_behalf }}.{% endif %}"
            "{% if reason and not claim %} Reason: {{ reason }}{% endif %}" + _CLAIM["en"] + _TODO["en"],
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
    "deciding_role_granted": {
        "bg": (
            "Дадена роля с право на решение: {{ role|role(lang) }} – {{ person }}",
            "{{ actor }} даде на {{ person }} ({{ email }}) ролята „{{ role|role(lang) }}“"
            "{% if unit %} в {{ unit }}{% endif %} на {{ at|day(lang) }}. С нея {{ person }} решава по исканията."
            " Ако не сте знаели за това, проверете го с администратора: всяко даване на роля е записано в журнала.",
        ),
        "en": (
            "A deciding role was granted: {{ role|role(lang) }} – {{ person }}",
            "{{ actor }} gave {{ person }} ({{ email }}) the role '{{ role|role(lang) }}'"
            "{% if unit %} in {{ unit }}{% endif %} on {{ at|day(lang) }}. With it {{ person }} decides requests."
            " If you did not know of it, check it with the administrator: every grant is recorded in the audit trail.",
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
            "Напомняне: очаква се вашето решение – искане за „{{ transition }}“, " + _OBJECT_SHORT["bg"],
            "Искането на {{ requester }} за „{{ transition }}“ по " + _OBJECT["bg"] + " "
            "чака решението ви от {{ since|day(lang) }} ({{ days }} работни дни)." + _FOR["bg"]
            + _CLAIM["bg"] + _TODO["bg"],
        ),
        "en": (
            "Reminder: your decision is needed – request to {{ transition }}, " + _OBJECT_SHORT["en"],
            "{{ requester }}'s request to {{ transition }} " + _OBJECT["en"] + " has waited for your "
            "decision since {{ since|day(lang) }} ({{ days }} working days)." + _FOR["en"] + _CLAIM["en"] + _TODO["en"],
        ),
    },
    "approval_escalated": {
        "bg": (
            "Забавено одобрение: искане за „{{ transition }}“ – " + _OBJECT_SHORT["bg"],
            "Искането на {{ requester }} за „{{ transition }}“ по " + _OBJECT["bg"] + " чака от "
            "{{ since|day(lang) }} ({{ days }} работни дни) решение на: {{ waiting_for }}." + _FOR["bg"] + _CLAIM["bg"],
        ),
        "en": (
            "Approval delayed: request to {{ transition }} – " + _OBJECT_SHORT["en"],
            "{{ requester }}'s request to {{ transition }} " + _OBJECT["en"] + " has waited since "
            "{{ since|day(lang) }} ({{ days }} working days) for: {{ waiting_for }}." + _FOR["en"] + _CLAIM["en"],
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
# Messages that ask for a decision lead to the decision itself.
DECIDE_FOOTER = {"bg": "Решете тук: {link}", "en": "Decide here: {link}"}
DECISION_KINDS = frozenset({"approval_needed", "approval_reminder"})
# Every message about a request carries its claim (service.approvals.claims.claim_context).
CLAIM_KINDS = DECISION_KINDS | {"approval_escalated"}

ROLE_NAMES = {
    "governor": {"bg": "Областен управител", "en": "Regional governor"},
    "deputy_governor": {"bg": "Заместник областен управител", "en": "Deputy governor"},
    "chief_secretary": {"bg": "Главен секретар", "en": "Chief secretary"},
    "head": {"bg": "Директор", "en": "Directorate head"},
    "expert": {"bg": "Експерт", "en": "Expert"},
    "observer": {"bg": "Наблюдател", "en": "Observer"},
    "admin": {"bg": "Администратор", "en": "Administrator"},
}
FIELD_NAMES = {
    "risk": {"bg": "Риск", "en": "Risk"},
    "narrative": {"bg": "Информация за напредъка", "en": "Progress information"},
}
RISK_NAMES = {
    "on_track": {"bg": "по план", "en": "on track"},
    "at_risk": {"bg": "в риск", "en": "at risk"},
    "off_track": {"bg": "изоставане", "en": "off track"},
}
_VERDICTS = {"approve": {"bg": "одобри", "en": "approved"}, "reject": {"bg": "отхвърли", "en": "rejected"}}
_FOR_WORD = {"bg": "за", "en": "for"}
_THEN = {"bg": "след това", "en": "then"}


def claim_context(claim, lang: str) -> dict:
    """A request's claim (service.approvals.claims.Claim) in the words of one language."""
    lang = lang if lang in ("bg", "en") else "bg"

    def field_value(name: str, value: str) -> str:
        return RISK_NAMES.get(value, {}).get(lang, value) if name == "risk" else value

    decided = "; ".join(
        f"{d.person}{f' ({_FOR_WORD[lang]} {d.on_behalf_of})' if d.on_behalf_of else ''} "
        f"{_VERDICTS.get(d.verdict, {}).get(lang, d.verdict)} ({d.stage})"
        for d in claim.decided
    )
    awaited = "; ".join(
        ("" if a.current else f"{_THEN[lang]}: ")
        + ROLE_NAMES.get(a.role, {}).get(lang, a.role) + (f" {a.unit}" if a.unit else "")
        + (f" ({', '.join(name for _, name in a.people)})" if a.people else "")
        for a in claim.awaited
    )
    return {
        "from_label": claim.from_label,
        "to_label": claim.to_label,
        "indicators": claim.indicators,
        "fields": [
            {"label": FIELD_NAMES.get(f.field, {}).get(lang, f.field), "before": field_value(f.field, f.before),
             "after": field_value(f.field, f.after)}
            for f in claim.fields
        ],
        "reason": claim.reason,
        "decided": decided,
        "awaited": awaited,
        "decide_by": claim.decide_by,
    }
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
    context = {"on_behalf": "", "claim": None, "subject_type": "goal", **params, "lang": lang, "nl": "\n"}
    subject = " ".join(_template(subject_tpl, False).render(**context).split())
    text = _template(body_tpl, False).render(**context)
    body_html = _template(body_tpl, True).render(**context).replace("\n", "<br>\n")
    footer = (DECIDE_FOOTER if kind in DECISION_KINDS else FOOTER)[lang].format(link=link)
    html = _template(_PAGE, True).render(lang=lang, body=Markup(body_html), link=link, action=footer.split(":")[0])
    return subject, f"{text}\n\n{footer}\n", html
