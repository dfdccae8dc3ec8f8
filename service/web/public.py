"""The public, read-only page of an administration's year: the approved plan and, later, its report."""

from __future__ import annotations

from flask import render_template
from sqlalchemy import select

from service.extensions import db
from service.goals import amendments
from service.goals import service as goals
from service.kernel.errors import GoalflowError
from service.kernel.workflow_registry import workflow_for
from service.org.models import Administration
from service.web.common import lang
from service.web.views import bp


@bp.get("/public/<slug>/<int:year>")
def public_year(slug: str, year: int):
    administration = db.session.scalar(select(Administration).where(Administration.slug == slug))
    plan = goals.plan_for_year(administration, year) if administration else None
    plan_wf = workflow_for("plan")
    if plan is None or plan.state not in plan_wf.group("public"):
        raise GoalflowError("not_found")  # a draft is nobody's business yet: as if it did not exist
    return render_template(
        "public.html", administration=administration, plan=plan, goals=plan.goals,
        with_report=plan.state in plan_wf.group("report_public"),
        wf=workflow_for("goal"), plan_wf=plan_wf, lang=lang(), versions=amendments.versions(plan),
    )
