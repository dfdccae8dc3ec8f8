"""The approvals inbox: everything waiting for me, decided one by one or many at once."""

from __future__ import annotations

from dataclasses import dataclass

from flask import render_template, request
from flask_login import current_user, login_required

from service.approvals import service as approvals
from service.approvals.claims import Claim, claim_of
from service.approvals.models import TransitionRequest
from service.auth.login import is_fresh
from service.extensions import db
from service.http_inputs import parse_id
from service.kernel import subjects
from service.kernel.errors import GoalflowError
from service.kernel.workflow_registry import workflow_for
from service.notifications.messages import short_title
from service.web.common import field_errors, field_message, lang
from service.web.views import bp


@dataclass
class Item:
    request: TransitionRequest
    subject: object
    path: str
    transition: str
    on_behalf_of: list[str]
    stage: str
    number: int
    title: str
    claim: Claim


@dataclass
class Outcome:
    request_id: int
    label: str
    ok: bool
    message: str


def inbox_items() -> list[Item]:
    language = lang()
    items = []
    for req, claims in approvals.pending_for(current_user):
        subject = subjects.load(req.subject_type, req.subject_id)
        t = workflow_for(req.subject_type).transition(req.transition)
        stage = req.active_stage
        stage_label = next((s.label.get(language, s.name) for s in t.stages if stage and s.name == stage.name), "")
        items.append(
            Item(
                request=req,
                subject=subject,
                path=subjects.kind(req.subject_type).path(subject),
                transition=t.label.get(language, t.name),
                on_behalf_of=[c.on_behalf_of.name for c in claims if c.on_behalf_of],
                stage=stage_label,
                claim=claim_of(req, subject, language),
                **subjects.kind(req.subject_type).describe(subject),
            )
        )
    return items


@bp.get("/approvals")
@login_required
def inbox():
    return render_template("inbox.html", items=inbox_items(), outcomes=None, lang=lang(), form={}, errors={})


@bp.get("/approvals/<int:request_id>")
@login_required
def decision_page(request_id: int):
    """One request and its whole claim, decided here: where an approval email leads."""
    from service.web.common import request_view

    req = approvals.get_request(current_user, request_id)
    context = {
        "open": request_view(req, req.subject_type),
        "claims": approvals.claims(current_user, req),
        "wf": workflow_for(req.subject_type),
        "lang": lang(),
        "errors": {},
        "form": {},
        "error_for": "",
    }
    return render_template("decision.html", **context)


@bp.post("/approvals")
@login_required
def inbox_decide():
    """Each chosen request is decided on its own, in its own transaction, on the version shown
    for it; each outcome is reported. What the decision itself needs (a verdict, a reason to
    reject) is the service's to check: its field errors come back to the form."""
    verdict = request.form.get("verdict", "")
    comment = request.form.get("comment", "")
    chosen = [n for n in map(parse_id, request.form.getlist("request")) if n is not None]
    if not chosen:
        return _form_refused({"request": field_message("choose at least one request")})
    outcomes = []
    for request_id in chosen:
        label = f"#{request_id}"
        req = db.session.get(TransitionRequest, request_id)
        version = request.form.get(f"version-{request_id}", "")
        try:
            decided = approvals.decide(
                actor=current_user, request_id=request_id, verdict=verdict, comment=comment,
                expected_version=parse_id(version), fresh_login=is_fresh(),
            )
            label = _label(decided)
            outcomes.append(Outcome(request_id, label, True, ""))
        except GoalflowError as exc:
            db.session.rollback()
            if exc.fields:  # the form itself (the same for every request chosen)
                return _form_refused(field_errors(exc))
            if req is not None and exc.status != 404:
                label = _label(req)
            outcomes.append(Outcome(request_id, label, False, exc.message(lang())))
    return render_template(
        "inbox.html", items=inbox_items(), outcomes=outcomes, verdict=verdict, lang=lang(), form={}, errors={}
    )


def _form_refused(errors: dict):
    return render_template(
        "inbox.html", items=inbox_items(), outcomes=None, lang=lang(), form=request.form, errors=errors,
    ), 422


def _label(req: TransitionRequest) -> str:
    subject = subjects.load(req.subject_type, req.subject_id)
    described = subjects.kind(req.subject_type).describe(subject)
    t = workflow_for(req.subject_type).transition(req.transition)
    return f"#{req.id} {t.label.get(lang(), t.name)} – {described['number']}. {short_title(described['title'], 80)}"
