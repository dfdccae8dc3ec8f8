"""Quarterly progress: campaigns, and the reports that units submit and heads accept or return."""

from __future__ import annotations

from flask_smorest import Blueprint

from service.api import schemas as s
from service.api.common import (
    ETAG_HEADER_DOC,
    ID,
    IF_MATCH_DOC,
    actor,
    expected_version,
    page_list,
    with_etag,
)
from service.progress import service as progress

bp = Blueprint("progress", __name__, url_prefix="/api/v1", description="Quarterly progress reports")


@bp.get("/campaigns")
@bp.arguments(s.CampaignArgs, location="query")
@bp.response(200, s.page_of(s.CampaignSchema))
def list_campaigns(args: dict):
    """The quarters' campaigns of my administration, newest first."""
    return page_list(progress.list_campaigns(actor=actor(), plan_id=args.get("plan"), status=args.get("status")), args)


@bp.post("/campaigns")
@bp.arguments(s.CampaignOpenSchema)
@bp.response(201, s.CampaignSchema)
def open_campaign(body: dict):
    """Open a quarter's campaign: one report per active goal and responsible unit (the chief secretary)."""
    return progress.open_campaign(plan_id=body["plan_id"], quarter=body["quarter"], actor=actor())


@bp.get(f"/campaigns/<{ID}:campaign_id>")
@bp.response(200, s.CampaignSchema)
def get_campaign(campaign_id: int):
    return progress.get_campaign(actor=actor(), campaign_id=campaign_id)


@bp.post(f"/campaigns/<{ID}:campaign_id>/close")
@bp.response(200, s.CampaignSchema)
def close_campaign(campaign_id: int):
    """Close a campaign by hand; the governor and the chief secretary receive its summary."""
    return progress.close_campaign(campaign_id=campaign_id, actor=actor())


@bp.get("/progress-reports")
@bp.arguments(s.ProgressReportArgs, location="query")
@bp.response(200, s.page_of(s.ProgressReportSchema))
def list_reports(args: dict):
    """The progress reports I may see; filter by `campaign`, `state` and `unit`."""
    found = progress.list_reports(
        actor=actor(), campaign_id=args.get("campaign"), state=args.get("state"), unit_id=args.get("unit"),
    )
    return page_list(found, args)


@bp.get(f"/progress-reports/<{ID}:report_id>")
@bp.response(200, s.ProgressReportSchema, headers=ETAG_HEADER_DOC)
def get_report(report_id: int):
    report = progress.get_report(actor=actor(), report_id=report_id)
    return with_etag(report, report.version)


@bp.post(f"/progress-reports/<{ID}:report_id>/submit")
@bp.arguments(s.ProgressSubmitSchema)
@bp.response(200, s.ProgressReportSchema, headers=ETAG_HEADER_DOC)
@bp.doc(parameters=[IF_MATCH_DOC])
def submit_report(body: dict, report_id: int):
    """Submit the achieved values, a narrative and a risk flag (an expert or the head of the report's unit)."""
    report = progress.submit_report(
        actor=actor(), report_id=report_id, achieved=body["achieved"], narrative=body.get("narrative", ""),
        risk=body["risk"], expected_version=expected_version(required=False),
    )
    return with_etag(report, report.version)


@bp.post(f"/progress-reports/<{ID}:report_id>/accept")
@bp.arguments(s.ProgressAcceptSchema, required=False)
@bp.response(200, s.ProgressReportSchema, headers=ETAG_HEADER_DOC)
@bp.doc(parameters=[IF_MATCH_DOC])
def accept_report(body: dict, report_id: int):
    """Accept a submitted report (the head of its unit)."""
    report = progress.accept_report(
        actor=actor(), report_id=report_id, comment=(body or {}).get("comment", ""),
        expected_version=expected_version(required=False),
    )
    return with_etag(report, report.version)


@bp.post(f"/progress-reports/<{ID}:report_id>/return")
@bp.arguments(s.ProgressReturnSchema)
@bp.response(200, s.ProgressReportSchema, headers=ETAG_HEADER_DOC)
@bp.doc(parameters=[IF_MATCH_DOC])
def return_report(body: dict, report_id: int):
    """Send a submitted report back to its unit, saying what to change (the head of its unit)."""
    report = progress.return_report(
        actor=actor(), report_id=report_id, reason=body["reason"], expected_version=expected_version(required=False),
    )
    return with_etag(report, report.version)
