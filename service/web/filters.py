"""Template filters and words for the codes that pages show (roles, statuses, risk levels)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask_babel import format_date, format_datetime, format_decimal
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm import lazyload

from service.extensions import db
from service.kernel import authz, subjects
from service.kernel.workflow_registry import workflow_for
from service.notifications.messages import ROMAN, short_title
from service.web.common import lang
from service.web.views import bp

ROLES = {
    "governor": _l("Regional governor"),
    "deputy_governor": _l("Deputy governor"),
    "chief_secretary": _l("Chief secretary"),
    "head": _l("Directorate head"),
    "expert": _l("Expert"),
    "observer": _l("Observer"),
    "admin": _l("Administrator"),
}
STAGE_STATUSES = {
    "waiting": _l("waiting"),
    "active": _l("in progress"),
    "approved": _l("approved"),
    "rejected": _l("rejected"),
}
SLOT_STATUSES = {"pending": _l("pending"), "approved": _l("approved"), "rejected": _l("rejected")}
REQUEST_STATUSES = {
    "open": _l("open"), "approved": _l("approved"), "rejected": _l("rejected"), "withdrawn": _l("withdrawn"),
}
RISKS = {"on_track": _l("On track"), "at_risk": _l("At risk"), "off_track": _l("Off track")}
OUTBOX_STATUSES = {"pending": _l("pending"), "sending": _l("sending"), "sent": _l("sent"), "failed": _l("failed")}
SUBJECT_WORDS = {"goal": _l("Goal"), "plan": _l("Plan"), "progress_report": _l("Quarterly report on goal")}
# Fields a request may change beside the state and the achieved values (approvals/claims.py).
CLAIM_FIELDS = {"risk": _l("Risk"), "narrative": _l("Progress information")}
UNIT_KINDS = {
    "cabinet": _l("cabinet"), "directorate": _l("directorate"), "department": _l("department"), "sector": _l("sector"),
}



def _word(table: dict, code) -> str:
    return str(table.get(str(code), code))


@bp.app_template_filter("moment")
def moment(value: datetime | None) -> str:
    return format_datetime(value, "dd.MM.yyyy HH:mm") if value else ""


@bp.app_template_filter("day")
def day(value: date | None) -> str:
    """dd.mm.yyyy in every language. A date is written directly (format_date's pattern and
    locale lookups cost more than a page's row); a datetime is first moved to the reader's zone."""
    if not value:
        return ""
    if isinstance(value, datetime):
        return format_date(value, "dd.MM.yyyy")
    return f"{value.day:02d}.{value.month:02d}.{value.year:04d}"


@bp.app_template_filter("money")
def money(value: Decimal | None) -> str:
    return format_decimal(value, format="#,##0.00") if value is not None else ""


@bp.app_template_filter("currency")
def currency(code: str | None) -> str:
    """A currency as the documents write it: "лв." and "евро" in Bulgarian, the code in English."""
    from service.documents.rendering import _CURRENCY_WORDS

    words = _CURRENCY_WORDS.get(code or "")
    return (words[0] if lang() == "bg" else words[1]) if words else (code or "")


@bp.app_template_filter("with_unit")
def with_unit(text: str | None, unit: str | None) -> str:
    """A value with its unit, unless the value already says it ("2 бр" with the unit "бр" is not "2 бр бр")."""
    text, unit = (text or "").strip(), (unit or "").strip()
    if not unit or not text or unit.casefold() in text.casefold().split():
        return text
    return f"{text} {unit}"


@bp.app_template_filter("in_my_language")
def in_my_language(text: object) -> str:
    """An import warning (kept in both languages, see service.documents.Text) in the reader's language."""
    from service.documents import in_language

    return in_language(text, lang())


def quarter_name(quarter: int) -> str:
    """"I тримесечие" … "IV тримесечие"; "Q1" … "Q4" in English."""
    if lang() == "bg" and 1 <= int(quarter) <= 4:
        return f"{ROMAN[int(quarter) - 1]} тримесечие"
    return f"Q{quarter}"


@bp.app_template_filter("person_option")
def person_option(user) -> tuple[int, str]:
    return user.id, user.name


@bp.app_template_filter("role_option")
def role_option(role) -> tuple[str, str]:
    return str(role), _word(ROLES, role)


@bp.app_template_filter("unit_option")
def unit_option(unit) -> tuple[int, str]:
    return unit.id, short_title(f"{unit.code} – {unit.name}", 90)


@bp.app_template_filter("kind_option")
def kind_option(kind: str) -> tuple[str, str]:
    return kind, _word(UNIT_KINDS, kind)


@bp.app_template_filter("plan_option")
def plan_option(plan) -> tuple[int, str]:
    return plan.id, str(plan.year)


@bp.app_template_filter("state_of")
def state_of(state: str, wf, lang: str) -> str:
    return wf.state_label(state, lang)


HTTP_TITLES = {
    400: _l("The request could not be understood."),
    401: _l("You need to sign in."),
    403: _l("You are not allowed to see this page."),
    404: _l("There is no such page, or it is not visible to you."),
    405: _l("This address does not take this kind of request."),
    409: _l("Someone changed this meanwhile."),
    412: _l("Someone changed this meanwhile."),
    413: _l("The file is too large."),
    422: _l("Some of the input is not valid."),
    429: _l("Too many attempts. Wait a minute and try again."),
    500: _l("Something went wrong on our side. Nothing was changed."),
}


def http_title(status: int | None) -> str:
    return str(HTTP_TITLES.get(status or 500, HTTP_TITLES[500]))


def generic_description(status: int | None, message: str) -> bool:
    """Werkzeug's own English wording, which the page replaces with the reader's language."""
    from werkzeug.exceptions import default_exceptions

    known = default_exceptions.get(status or 0)
    return message in ("Internal Server Error", None, "") or (known is not None and message == known.description)


def claim_value(field: str, value: str) -> str:
    """A claimed field's value as people read it (a risk level's name, not its code)."""
    return _word(RISKS, value) if field == "risk" and value else value


def progress_enabled() -> bool:
    from service.web.progress import progress_service

    return progress_service() is not None


def transition_label(req) -> str:
    """The declared label of a request's transition, in the reader's language."""
    t = workflow_for(req.subject_type).transition(req.transition)
    return t.label.get(lang(), t.name)


def subject_path(req) -> str:
    """The page of a request's object: from the session when the page has read it already (see
    home.load_subjects), else read alone, without the collections a goal loads with it."""
    kind = subjects.kind(req.subject_type)
    return kind.path(db.session.get(kind.model, req.subject_id, options=[lazyload("*")]))


def paper_signature(plan) -> str:
    """What an archived year signed on paper says of itself: when it was signed, who entered it."""
    who = plan.archive_imported_by.name if plan.archive_imported_by else _l("the operator")
    return str(_l("Signed on paper on %(day)s, entered by %(name)s on %(entered)s", day=day(plan.paper_signed_on),
                  name=who, entered=day(plan.archive_imported_at)))


def subject_label(req) -> str:
    """"Goal 5. Its title" for a request's object, from the session where the page has read it."""
    kind = subjects.kind(req.subject_type)
    described = kind.describe(db.session.get(kind.model, req.subject_id, options=[lazyload("*")]))
    title = short_title(described["title"], 80)
    return f"{_word(SUBJECT_WORDS, req.subject_type)} {described['number']}. {title}"


@bp.record_once
def _globals(state) -> None:
    """Words for codes, usable in every template and macro (macros do not see context processors)."""
    state.app.jinja_env.globals.update(
        role_name=lambda code: _word(ROLES, code),
        stage_status=lambda code: _word(STAGE_STATUSES, code),
        slot_status=lambda code: _word(SLOT_STATUSES, code),
        request_status=lambda code: _word(REQUEST_STATUSES, code),
        risk_name=lambda code: _word(RISKS, code),
        outbox_status=lambda code: _word(OUTBOX_STATUSES, code),
        unit_kind=lambda code: _word(UNIT_KINDS, code),
        subject_word=lambda code: _word(SUBJECT_WORDS, code),
        claim_field=lambda code: _word(CLAIM_FIELDS, code),
        claim_value=claim_value,
        progress_enabled=progress_enabled,
        transition_label=transition_label,
        subject_path=subject_path,
        subject_label=subject_label,
        paper_signature=paper_signature,
        quarter_name=quarter_name,
        http_title=http_title,
        generic_description=generic_description,
        may=lambda question: authz.may(current_user, question),  # who may do what: service/kernel/authz.py
    )
