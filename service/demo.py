"""The embedded demo: the Haskovo administration, its units, one user per role, and its 2023 report."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from service.documents import parse_document
from service.goals import service as goals
from service.org import service as org
from service.org.models import Administration, Role

HASKOVO_REPORT = Path(__file__).resolve().parent / "data" / "haskovo-2023-goals-report.txt"
ADMINISTRATION = "Областна администрация Хасково"
OFFICIAL_NAME = "Областна администрация на област Хасково"  # as the documents' titles name it
SLUG = "haskovo"

UNITS = [
    ("КАБИНЕТ", "Политически кабинет на областния управител", "cabinet"),
    ("АПОФУС", 'Дирекция "Административно-правно обслужване, финанси и управление на собствеността"', "directorate"),
    ("АКРРДС", 'Дирекция "Административен контрол, регионално развитие и държавна собственост"', "directorate"),
]

# email, name, role, unit code
USERS = [
    ("governor@haskovo.demo", "Областен управител (демо)", Role.GOVERNOR, None),
    ("deputy@haskovo.demo", "Заместник областен управител (демо)", Role.DEPUTY_GOVERNOR, None),
    ("secretary@haskovo.demo", "Главен секретар (демо)", Role.CHIEF_SECRETARY, None),
    ("head.apofus@haskovo.demo", "Директор АПОФУС (демо)", Role.HEAD, "АПОФУС"),
    ("head.akrrds@haskovo.demo", "Директор АКРРДС (демо)", Role.HEAD, "АКРРДС"),
    ("expert.apofus@haskovo.demo", "Експерт АПОФУС (демо)", Role.EXPERT, "АПОФУС"),
    ("expert.akrrds@haskovo.demo", "Експерт АКРРДС (демо)", Role.EXPERT, "АКРРДС"),
    ("observer@haskovo.demo", "Наблюдател (демо)", Role.OBSERVER, None),
    ("admin@haskovo.demo", "Администратор (демо)", Role.ADMIN, None),
]


def load_demo(password: str) -> Administration:
    """Idempotent: a second run finds the administration and changes nothing."""
    from service.extensions import db

    admin = db.session.scalar(select(Administration).where(Administration.slug == SLUG))
    if admin is not None:
        return admin
    admin = org.create_administration(name=ADMINISTRATION, official_name=OFFICIAL_NAME, slug=SLUG)
    org.update_administration(actor=None, administration_id=admin.id,
                              changes={"mail_from_name": ADMINISTRATION, "mail_from_address": "noreply@haskovo.demo"})
    units = {code: org.create_unit(administration=admin, code=code, name=name, kind=kind) for code, name, kind in UNITS}
    for email, name, role, unit_code in USERS:
        org.create_user(
            email=email, name=name, password=password, administration=admin,
            roles=[(role, units[unit_code] if unit_code else None)],
        )
    document = parse_document(HASKOVO_REPORT.read_bytes(), filename=HASKOVO_REPORT.name)
    # The import gives a draft (an import never signs): the demo's people adopt the plan, open its
    # reporting and bring each goal to the state its report names, through the approval path,
    # as they would by hand. The timeline of every goal shows who asked and who approved.
    reported = {g.number: g.state for g in document.goals}
    plan = goals.save_plan_document(document, administration=admin, actor=None).plan
    people = [org.user_by_email(email) for email, *_ in USERS]
    drive(plan, "reporting", people)
    for goal in plan.goals:
        if reported.get(goal.number):
            drive(goal, reported[goal.number], people)
    return admin


def drive(subject, target: str, people: list) -> None:
    """Bring `subject` (a plan or a goal) to the state `target` along the declared transitions: each
    asked for by someone entitled to, every stage approved by those who hold it. Nothing is set directly."""
    from service.approvals import service as approvals
    from service.extensions import db
    from service.kernel import authz, subjects
    from service.kernel.workflow_registry import workflow_for

    subject_type = "plan" if subject.__tablename__ == "plans" else "goal"
    wf = workflow_for(subject_type)
    k = subjects.kind(subject_type)
    for t in _path(wf, subject.state, target):
        request = approvals.open_request(subject_type, subject.id)
        if request is None or request.transition != t.name:  # not opened already by the step before (`then:`)
            asker = next(p for p in people
                         if authz.can_request(p, t, k.unit_ids(subject), k.administration_id(subject)))
            data = {}
            if "achieved_values" in t.requires:
                data["achieved"] = {str(i.id): i.achieved_text or "–" for i in subject.indicators}
            request = approvals.request_transition(
                actor=asker, subject_type=subject_type, subject_id=subject.id, transition=t.name,
                reason="Според отчета за изпълнението на целите." if t.reason_required else "", data=data,
            )
        while request.status == "open":
            stage = request.active_stage
            decider = next(p for p in people for slot in stage.slots if slot.status == "pending"
                           and approvals.claims(p, request))
            request = approvals.decide(actor=decider, request_id=request.id, verdict="approve")
        db.session.refresh(subject)


def _path(wf, start: str, target: str) -> list:
    """The shortest run of declared transitions from `start` to `target`."""
    paths, seen = [(start, [])], {start}
    while paths:
        state, path = paths.pop(0)
        if state == target:
            return path
        for t in wf.available(state):
            if t.dest not in seen:
                seen.add(t.dest)
                paths.append((t.dest, [*path, t]))
    raise ValueError(f"no way from {start} to {target}")
