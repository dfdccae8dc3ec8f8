"""The public, read-only page of an administration's year: the approved plan and, later, its report."""

from __future__ import annotations

from flask import render_template
from sqlalchemy import select

from service.errors import GoalflowError
from service.extensions import db
from service.goals import amendments
from service.goals import service as goals
from service.org.models import Administration
from service.web.common import lang, states_from
from service.web.views import bp
from service.workflow_registry import workflow_for

# The first state in which each document is public; every later state keeps it public.
PLAN_PUBLIC_FROM = "approved"
REPORT_PUBLIC_FROM = "report_approved"


def public_states(first: str) -> frozenset[str]:
    return frozenset(states_from(workflow_for("plan"), first))


@bp.get("/public/<slug>/<int:year>")
def public_year(slug: str, year: int):
    administration = db.session.scalar(select(Administration).where(Administration.slug == slug))
    plan = goals.plan_for_year(administration, year) if administration else None
    if plan is None or plan.state not in public_states(PLAN_PUBLIC_FROM):
        raise GoalflowError("not_found")  # a draft is nobody's business yet: as if it did not exist
    return render_template(
        "public.html", administration=administration, plan=plan, goals=plan.goals,
        with_report=plan.state in public_states(REPORT_PUBLIC_FROM),
        wf=workflow_for("goal"), plan_wf=workflow_for("plan"), lang=lang(), versions=amendments.versions(plan),
    )
