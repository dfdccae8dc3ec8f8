"""Import every model so that metadata (Alembic, create_all) sees the whole schema."""

from service.approvals.models import Decision, RequestStage, StageSlot, TransitionRequest
from service.audit.models import ChainHead, Checkpoint, Event
from service.auth.models import LoginFailure
from service.goals.models import Activity, Goal, ImportJob, Indicator, Plan, goal_units
from service.notifications.models import Attachment, Notification
from service.org.models import Administration, ApiToken, Role, RoleAssignment, Substitution, Unit, User
from service.progress.models import Campaign, ProgressReport, ProgressValue
from service.signatures.models import ReportSignature, SigningCopy

__all__ = [
    "Activity", "Administration", "ApiToken", "Attachment", "Campaign", "ChainHead", "Checkpoint", "Decision", "Event",
    "Goal", "ImportJob", "Indicator", "LoginFailure", "Notification", "Plan", "ProgressReport", "ProgressValue",
    "RequestStage", "ReportSignature", "Role", "RoleAssignment", "SigningCopy", "StageSlot", "Substitution",
    "TransitionRequest", "Unit", "User", "goal_units",
]
