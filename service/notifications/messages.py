"""The words of every email, in Bulgarian and English, as plain text and HTML."""

from __future__ import annotations

from jinja2 import Environment, StrictUndefined

_env = Environment(autoescape=True, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
_text_env = Environment(autoescape=False, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)

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
}

OUTCOMES = {
    "approved": {"bg": "одобрено", "en": "approved"},
    "rejected": {"bg": "отхвърлено", "en": "rejected"},
}

FOOTER = {"bg": "Отворете: {link}", "en": "Open: {link}"}


def render(kind: str, lang: str, params: dict, link: str) -> tuple[str, str, str]:
    """(subject, text, html) for one message."""
    catalog = MESSAGES[kind]
    subject_tpl, body_tpl = catalog.get(lang) or catalog["bg"]
    subject = _text_env.from_string(subject_tpl).render(**params)
    text = _text_env.from_string(body_tpl).render(**params)
    body_html = _env.from_string(body_tpl).render(**params)
    footer = FOOTER.get(lang, FOOTER["bg"]).format(link=link)
    html = _env.from_string(
        '<!doctype html><html lang="{{ lang }}"><body style="font-family:sans-serif">'
        "<p>{{ body }}</p><p><a href=\"{{ link }}\">{{ action }}</a></p></body></html>"
    ).render(lang=lang, body=body_html, link=link, action=footer.split(":")[0])
    return subject, f"{text}\n\n{footer}\n", html
