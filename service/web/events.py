"""Audit events told as a person reads them: who did what, for whom, and why."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from service.audit.models import Event
from service.extensions import db
from service.kernel.workflow_registry import workflow_for
from service.org.models import User
from workflows import UndeclaredTransition

ACTIONS = {
    "transition_requested": _l("Asked for a transition"),
    "approved": _l("Approved"),
    "rejected": _l("Rejected"),
    "request_withdrawn": _l("Withdrew the request"),
    "state_changed": _l("The state changed"),
    "goal_imported": _l("Imported from a document"),
    "report_entry_saved": _l("The report entry was saved"),
    "goal_created": _l("Goal created"),
    "goal_edited": _l("Goal edited"),
    "plan_created": _l("Plan created"),
    "plan_imported": _l("Plan imported"),
    "administration_created": _l("Administration created"),
    "unit_created": _l("Unit created"),
    "unit_changed": _l("Unit changed"),
    "administration_renamed": _l("Administration renamed"),
    "user_changed": _l("User changed"),
    "campaign_opened": _l("Quarterly campaign opened"),
    "campaign_closed": _l("Quarterly campaign closed"),
    "user_created": _l("User created"),
    "role_assigned": _l("Role assigned"),
    "deciding_role_granted": _l("Deciding role granted"),
    "role_removed": _l("Role removed"),
    "administration_changed": _l("Administration changed"),
    "password_changed": _l("Password changed"),
    "substitute_named": _l("Substitute named"),
    "substitute_cancelled": _l("Substitution cancelled"),
    "token_issued": _l("API token issued"),
    "token_revoked": _l("API token revoked"),
}


@dataclass
class TimelineEntry:
    at: datetime
    action: str
    title: str
    detail: str
    actor: str
    on_behalf_of: str
    reason: str


def _transition_label(subject_type: str, name: str, lang: str) -> str:
    try:
        return workflow_for(subject_type).transition(name).label.get(lang, name)
    except (KeyError, UndeclaredTransition):
        return name


def _state_label(subject_type: str, state: str, lang: str) -> str:
    try:
        return workflow_for(subject_type).state_label(state, lang)
    except KeyError:
        return state


def describe(event: Event, lang: str) -> TimelineEntry:
    after, before = event.after or {}, event.before or {}
    title = str(ACTIONS.get(event.action, event.action.replace("_", " ")))
    detail = ""
    if event.action == "transition_requested" and after.get("transition"):
        detail = "„" + _transition_label(event.subject_type, after["transition"], lang) + "“"
    elif event.action == "state_changed":
        detail = _("%(before)s → %(after)s", before=_state_label(event.subject_type, before.get("state", ""), lang),
                   after=_state_label(event.subject_type, after.get("state", ""), lang))
    elif event.action in ("approved", "rejected") and after.get("stage"):
        detail = _stage_label(event, after["stage"], lang)
    return TimelineEntry(
        at=event.at,
        action=event.action,
        title=title,
        detail=detail,
        actor=event.actor.name if event.actor else _("the system"),
        on_behalf_of=event.on_behalf_of.name if event.on_behalf_of else "",
        reason=event.reason or "",
    )


def _stage_label(event: Event, stage_name: str, lang: str) -> str:
    try:
        wf = workflow_for(event.subject_type)
    except KeyError:
        return stage_name
    for t in wf.transitions.values():
        for stage in t.stages:
            if stage.name == stage_name:
                return stage.label.get(lang, stage_name)
    return stage_name


def timeline(subject_type: str, subject_id: int, lang: str) -> list[TimelineEntry]:
    """The object's events in order, with the people who acted read in the same query (not one
    query, and another for their roles, per person)."""
    events = db.session.scalars(
        select(Event)
        .where(Event.subject_type == subject_type, Event.subject_id == subject_id)
        .options(*(joinedload(person).lazyload(User.roles) for person in (Event.actor, Event.on_behalf_of)))
        .order_by(Event.seq)
    ).all()
    return [describe(e, lang) for e in events]
