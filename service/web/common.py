"""What every page shares: the language, form errors in the reader's words, roles, dates."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import date
from functools import cache, wraps

from flask import current_app, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from service.approvals.claims import claim_of
from service.approvals.models import TransitionRequest
from service.http_inputs import parse_id
from service.kernel.common import local_today
from service.kernel.errors import GoalflowError
from service.kernel.text import CONTROL_PROBLEM
from service.kernel.workflow_registry import workflow_for
from service.org.models import Role, User
from workflows import Workflow

# Roles that see the year at a glance on their home page.


def lang() -> str:
    return str(get_locale() or "bg")[:2]


def int_arg(name: str) -> int | None:
    """A query-string number; anything else counts as absent rather than an error page."""
    return parse_id(request.args.get(name))


def form_int(name: str) -> int | None:
    return parse_id(request.form.get(name))


def has_any_role(user: User, roles: Iterable[Role]) -> bool:
    return any(user.has_role(role) for role in roles)


def role_required(*roles: Role) -> Callable:
    """Pages of one role: anyone else gets 403 even when typing the address by hand."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()
            if not has_any_role(current_user, roles):
                raise GoalflowError("forbidden")
            return view(*args, **kwargs)

        return wrapper

    return decorate


# -- the words of field problems ------------------------------------------------------------
# Services describe a bad field in English; these are the ones people meet in forms.
FIELD_MESSAGES = {
    "required": _l("This field is required."),
    "does not match": _l("The current password does not match."),
    "at least 8 characters": _l("Use at least 8 characters."),
    "not a valid email address": _l("This is not a valid email address."),
    "bg or en": _l("Choose Bulgarian or English."),
    "between 1 and 366": _l("Enter a number of days between 1 and 366."),
    "a rejection needs a reason": _l("A rejection needs a reason."),
    "must be a number or a text": _l("Enter a number or a short text."),
    "no such indicator on this goal": _l("No such indicator on this goal."),
    "must be one of on_track, at_risk, off_track": _l("Choose one of the risk levels."),
    "must be a text": _l("Enter a text."),
    "not a date": _l("Enter a date as dd.mm.yyyy."),
    "no such person": _l("Choose a person from the list."),
    "no such unit": _l("Choose a unit from the list."),
    "no such role": _l("Choose a role from the list."),
    "the unit belongs to another administration": _l("The unit belongs to another administration."),
    "passwords differ": _l("The two new passwords differ."),
    CONTROL_PROBLEM: _l("This text holds a control character: only tab, line feed and carriage return are allowed."),
    "choose at least one request": _l("Tick at least one request."),
    "must be one line": _l("Write it on one line."),
    "only a year's report is archived": _l("Only a year's report is kept as an archive, not a plan."),
    "only a past year's report is archived": _l("Only a past year's report is kept as an archive."),
    "a deciding role and the administrator role": _l(
        "A role that decides cannot sit beside the administrator's on one account."
    ),
}
_PATTERNS: list[tuple[re.Pattern, Callable[[re.Match], str]]] = [
    (re.compile(r"^the achieved value of .* is required$"), lambda m: _("The achieved value is required.")),
    (re.compile(r"^the role (\w+) needs a unit$"), lambda m: _("This role needs a unit.")),
    (re.compile(r"^the role (\w+) holds for the whole administration$"),
     lambda m: _("This role holds for the whole administration: leave the unit empty.")),
]


def field_message(text: str) -> str:
    known = FIELD_MESSAGES.get(text)
    if known is not None:
        return str(known)
    for pattern, words in _PATTERNS:
        match = pattern.match(text)
        if match:
            return words(match)
    return text


def field_errors(exc: GoalflowError, aliases: dict[str, str] | None = None) -> dict[str, str]:
    """Per-field problems keyed by form field name (achieved.12 -> achieved-12; a service's
    name for a field -> the form's, through `aliases`)."""
    aliases = aliases or {}
    return {aliases.get(name, name).replace(".", "-"): field_message(str(text)) for name, text in exc.fields.items()}


def achieved_from_form() -> dict:
    """Achieved values typed per indicator (fields achieved-<indicator id>)."""
    achieved = {
        key.removeprefix("achieved-"): value for key, value in request.form.items() if key.startswith("achieved-")
    }
    return {"achieved": achieved} if achieved else {}


def error_message(exc: GoalflowError) -> str:
    return exc.message(lang())


def parse_date(value: str) -> date | None:
    """A date as typed: ISO from a date input, or the Bulgarian dd.mm.yyyy."""
    value = (value or "").strip()
    for pattern in (r"^(\d{4})-(\d{1,2})-(\d{1,2})$", r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$"):
        match = re.match(pattern, value)
        if match:
            parts = [int(p) for p in match.groups()]
            y, m, d = parts if pattern.startswith("^(\\d{4})") else parts[::-1]
            try:
                return date(y, m, d)
            except ValueError:
                return None
    return None


# -- what the definition says about states ---------------------------------------------------


@cache
def _depths(wf: Workflow) -> dict[str, int]:
    """Distance of each state from the initial one, following declared transitions."""
    depth, frontier = {wf.initial: 0}, [wf.initial]
    while frontier:
        nxt = []
        for state in frontier:
            for t in wf.available(state):
                if t.dest not in depth:
                    depth[t.dest] = depth[state] + 1
                    nxt.append(t.dest)
        frontier = nxt
    return depth


def open_states(wf: Workflow) -> frozenset[str]:
    """States that still lead forward: a goal in one of them is still being worked on.

    Read from the definition, not named here: a transition leads forward when it moves further
    from the initial state; final states (and ones only reopened from) have none.
    """
    depth = _depths(wf)
    return frozenset(
        state for state in wf.states
        if any(depth.get(t.dest, 0) > depth.get(state, 0) for t in wf.available(state))
    )


def goal_deadline(goal) -> date:
    return goal.deadline or date(goal.plan.year, 12, 31)


def today() -> date:
    return local_today()


def request_view(req: TransitionRequest | None, subject_type: str) -> dict | None:
    """An open request with its stages labelled as the definition names them."""
    if req is None:
        return None
    t = workflow_for(subject_type).transition(req.transition)
    labels = {s.name: s.label.get(lang(), s.name) for s in t.stages}
    return {"request": req, "transition": t, "stage_labels": labels, "claim": claim_of(req, lang=lang())}


def request_outcome(asked: TransitionRequest) -> str:
    """What became of a request just made: applied at once (nobody else had to approve), or waiting."""
    if asked.status == "approved":
        state = workflow_for(asked.subject_type).state_label(asked.to_state, lang())
        return _("Done: it is now “%(state)s”.", state=state)
    return _("Your request was recorded: it now waits for approval.")

