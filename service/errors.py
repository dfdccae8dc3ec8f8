"""Domain errors: a stable code, an HTTP status, and a message in Bulgarian and English.

Every entry point turns these into its own form (a problem document, a flash message, a CLI
error); none of them invents its own wording.
"""

from __future__ import annotations

from typing import Any

from workflows import GuardFailed, MissingData, UndeclaredTransition, WorkflowDefinitionError, WorkflowError

PROBLEM_BASE = "urn:goalflow:problem:"

# code -> (status, bulgarian, english)
CATALOG: dict[str, tuple[int, str, str]] = {
    "not_found": (404, "Няма такъв обект или нямате достъп до него.", "No such object, or it is not visible to you."),
    "forbidden": (403, "Нямате право на това действие.", "You are not allowed to do this."),
    "unauthenticated": (401, "Необходимо е да влезете в системата.", "You need to sign in."),
    "invalid_input": (422, "Невалидни данни.", "The input is not valid."),
    "conflict": (409, "Обектът е променен междувременно. Заредете го отново.", "The object changed meanwhile. Reload it."),
    "stale_version": (
        412,
        "Версията е остаряла: очаквана {expected}, текуща {actual}.",
        "Stale version: you sent {expected}, the current one is {actual}.",
    ),
    "transition_not_declared": (
        422,
        "Преходът „{transition}“ не е деклариран от това състояние.",
        "The transition '{transition}' is not declared from this state.",
    ),
    "transition_not_allowed_now": (409, "Преходът не е възможен сега: {why}", "The transition is not possible now: {why}"),
    "transition_data_invalid": (
        422,
        "Попълнете отбелязаните полета: без тях искането не може да се подаде.",
        "Fill in the marked fields: the request cannot be made without them.",
    ),
    "workflow_definition_invalid": (500, "Невалидна дефиниция на работен процес: {why}", "Invalid workflow definition: {why}"),
    "reason_required": (422, "Посочете причина.", "A reason is required."),
    "not_a_requester": (
        403,
        "Нямате право да поискате „{transition}“ за този обект.",
        "You may not ask for '{transition}' on this object.",
    ),
    "not_an_approver": (
        403,
        "Не сте одобряващ на текущия етап на това искане.",
        "You are not an approver of this request's current stage.",
    ),
    "already_decided": (409, "Вече сте взели решение по това искане.", "You have already decided this request."),
    "separation_of_duties": (
        403,
        "Не можете да одобрите искане, което сте подали.",
        "You cannot approve a request you made yourself.",
    ),
    "request_closed": (409, "Искането вече е приключено ({status}).", "The request is already closed ({status})."),
    "open_request_exists": (
        409,
        "За този обект вече има отворено искане (№ {request_id}).",
        "This object already has an open request (#{request_id}).",
    ),
    "not_requester": (403, "Само подателят може да оттегли искането.", "Only the requester may withdraw the request."),
    "fresh_login_required": (
        401,
        "За подписване влезте отново в системата.",
        "Sign in again to sign this off.",
    ),
    "invalid_substitute": (422, "{why}", "{why}"),
    "duplicate": (409, "Вече съществува: {what}.", "Already exists: {what}."),
    "campaign_closed": (
        409,
        "Кампанията за тримесечните отчети е приключена.",
        "The campaign for the quarterly reports is closed.",
    ),
    "report_wrong_unit": (
        403,
        "Отчетът е на {unit}: подават го и го приемат нейните експерти и директор.",
        "The report belongs to {unit}: its experts and head submit and accept it.",
    ),
    "plan_not_in_force": (
        409,
        "Планът не е утвърден или вече не е отворен за отчитане.",
        "The plan is not approved, or no longer open for reporting.",
    ),
    "quarter_not_started": (
        409,
        "Тримесечието още не е започнало.",
        "The quarter has not begun yet.",
    ),
    "plan_not_draft": (
        409,
        "Целите се добавят и променят само докато планът е проект.",
        "Goals are added and changed only while the plan is a draft.",
    ),
    "precondition_required": (
        428,
        "Изпратете заглавие If-Match с версията, която променяте.",
        "Send an If-Match header with the version you are changing.",
    ),
    "invalid_credentials": (401, "Грешен имейл или парола.", "Wrong email or password."),
    "unsupported_media_type": (415, "Изпратете JSON (Content-Type: application/json).", "Send JSON (Content-Type: application/json)."),
    # Importing a document (service/goals/documents.py); the file problems keep the document layer's codes.
    "plan_not_importable": (
        409,
        "Планът за {year} г. е „{state_bg}“: документ се внася в проект на план, а отчет – и в план в отчитане.",
        "The plan for {year} is '{state}': a document is imported into a draft plan, a report also into a plan being reported on.",
    ),
    "import_new_goals": (
        409,
        "Утвърденият план няма цели с номера {numbers}: нови цели се добавят само в проект на план.",
        "The adopted plan has no goals numbered {numbers}: new goals are added only to a draft plan.",
    ),
    # Roles (service/org/service.py, authz.DECIDING_ROLES).
    "roles_conflict": (
        422,
        "Ролите с право на решение (областен управител, заместник областен управител, главен секретар, директор) "
        "не може да са на един профил с ролята „Администратор“.",
        "A deciding role (regional governor, deputy governor, chief secretary, head) cannot sit on one account "
        "with the administrator role.",
    ),
    "own_roles": (403, "Не можете да променяте собствените си роли.", "You cannot change your own roles."),
    "empty": (422, "{detail}", "{detail}"),
    "not_a_table": (422, "{detail}", "{detail}"),
    "encoding": (422, "{detail}", "{detail}"),
    "too_large": (413, "{detail}", "{detail}"),
    "zip_bomb": (413, "{detail}", "{detail}"),
    "unsupported": (415, "{detail}", "{detail}"),
}


class GoalflowError(Exception):
    def __init__(self, code: str, *, fields: dict[str, str] | None = None, **params: Any):
        super().__init__(code)
        self.code = code
        self.fields = fields or {}
        self.params = params

    @property
    def status(self) -> int:
        return CATALOG.get(self.code, (400,))[0]

    @property
    def type(self) -> str:
        return PROBLEM_BASE + self.code

    def message(self, lang: str = "bg") -> str:
        _, bg, en = CATALOG.get(self.code, (400, self.code, self.code))
        template = bg if lang == "bg" else en
        try:
            return template.format(**self.params)
        except (KeyError, IndexError):
            return template

    def __str__(self) -> str:
        return self.message("en")


def not_found() -> GoalflowError:
    return GoalflowError("not_found")


def forbidden() -> GoalflowError:
    return GoalflowError("forbidden")


def from_workflow(exc: WorkflowError) -> GoalflowError:
    """The engine speaks in its own exceptions; entry points see only GoalflowError."""
    if isinstance(exc, MissingData):
        return GoalflowError("transition_data_invalid", fields=exc.fields, **exc.params)
    if isinstance(exc, GuardFailed):
        return GoalflowError("transition_not_allowed_now", why=exc.message, **exc.params)
    if isinstance(exc, UndeclaredTransition):
        return GoalflowError("transition_not_declared", **exc.params)
    if isinstance(exc, WorkflowDefinitionError):
        return GoalflowError("workflow_definition_invalid", why=exc.message.format(**exc.params))
    return GoalflowError("invalid_input", why=exc.message)
