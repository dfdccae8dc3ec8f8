"""Domain errors: a stable code, an HTTP status, and a message in Bulgarian and English.

Every entry point turns these into its own form (a problem document, a flash message, a CLI
error); none of them invents its own wording.
"""

from __future__ import annotations

from collections.abc import Mapping
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
    "request_changed": (
        409,
        "Искането се промени, докато го разглеждахте: сега е на етап „{stage_bg}“, решили са: {deciders}. "
        "Прегледайте го отново, преди да решите.",
        "The request changed while you were looking at it: it is now at the stage '{stage_en}', decided by: "
        "{deciders}. Look at it again before you decide.",
    ),
    "claim_changed": (
        409,
        "Обектът на искането е променен, след като то беше подадено: решението би било за нещо друго. "
        "Искането трябва да бъде подадено отново.",
        "The object changed after the request was made: the decision would be on something else. "
        "The request has to be made again.",
    ),
    "decision_overtaken": (
        409,
        "Етапът, по който решавате, вече е решен.",
        "The stage you are deciding on has already been decided.",
    ),
    "request_closed": (
        409,
        "Искането вече е приключено: {status_bg}.{then_bg}",
        "The request is already closed: {status_en}.{then_en}",
    ),
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
    "plan_not_amendable": (
        409,
        "Актуализира се само утвърден план, преди отчетът му да е внесен.",
        "Only an adopted plan is amended, before its report is submitted.",
    ),
    "report_entry_frozen": (
        409,
        "Записът в годишния отчет вече не е проект: внесен е, включен в отчета или подписан.",
        "The entry in the year's report is no longer a draft: it is submitted, compiled or signed.",
    ),
    "report_entry_missing": (
        409,
        "Целта още няма запис в годишния отчет: попълнете и запазете записа.",
        "The goal has no entry in the year's report yet: fill it in and save it.",
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
    # The governor's signed report (service/signatures): each refusal says why in plain words.
    "signature_not_expected": (
        409,
        "Отчетът не чака Вашия подпис: подписва го областният управител, след като отчетът е внесен.",
        "The report is not waiting for your signature: the regional governor signs it once it is submitted.",
    ),
    "signing_identity_missing": (
        409,
        "В профила Ви няма идентификатор за КЕП (напр. PNOBG-…): администраторът трябва да го впише.",
        "Your profile has no identifier for a qualified signature (e.g. PNOBG-…): an administrator must enter it.",
    ),
    "not_signed": (
        422,
        "Файлът не е подписан PDF. Подпишете изтегления „за подпис“ PDF с КЕП и го качете.",
        "The file is not a signed PDF. Sign the PDF downloaded \"for signing\" with your qualified signature and upload it.",
    ),
    "signature_broken": (
        422,
        "Подписът е невалиден: файлът е променен след подписването или подписът е повреден.",
        "The signature is broken: the file changed after it was signed, or the signature is damaged.",
    ),
    "document_changed": (
        422,
        "Подписаният документ не е отчетът, изготвен от системата за подпис: документът е променен преди или при подписването.",
        "The signed document is not the report the system produced for signing: {detail}",
    ),
    "document_outdated": (
        409,
        "Отчетът е променен, след като е изтеглен за подпис. Изтеглете го отново и го подпишете.",
        "The report changed after it was downloaded for signing. Download it again and sign it.",
    ),
    "signer_untrusted": (
        422,
        "Удостоверението на подписа не е издадено от доверен доставчик на квалифицирани удостоверителни услуги или не е валидно.",
        "The signature's certificate was not issued by a trusted qualified trust service provider: {detail}",
    ),
    "certificate_revoked": (
        422,
        "Удостоверението на подписа е отменено или спряно.",
        "The signature's certificate is revoked or suspended.",
    ),
    "revocation_unchecked": (
        422,
        "Не може да се провери дали удостоверението на подписа е отменено (OCSP и CRL не отговарят). Опитайте по-късно.",
        "Whether the signature's certificate is revoked could not be checked (neither OCSP nor CRL answered). Try again later.",
    ),
    "signer_mismatch": (
        403,
        "Документът е подписан от друго лице – {signer}; подписът трябва да е на {expected}.",
        "The document is signed by another person – {signer}; it must be signed by {expected}.",
    ),
    "seal_unavailable": (
        503,
        "Печатът на администрацията не е наличен: {detail}",
        "The administration's seal is not available: {detail}",
    ),
    # The bounds of one import (service/documents/limits.py, set from IMPORT_* in service/config.py).
    "part_too_large": (
        413,
        "Частта „{part}“ на файла се разархивира до {size_mb} MB, а допустимото е до {limit_mb} MB.",
        "The part '{part}' of the file expands to {size_mb} MB; the limit is {limit_mb} MB.",
    ),
    "too_many_rows": (
        413,
        "Таблицата има {rows} реда, а допустимото е до {limit}: разделете документа.",
        "The table has {rows} rows; the limit is {limit}: split the document.",
    ),
    "too_slow": (
        413,
        "Файлът не беше обработен за {seconds} секунди и е отхвърлен: разделете го на по-малки.",
        "The file was not processed within {seconds} seconds and was refused: split it up.",
    ),
    "import_queue_unavailable": (
        503,
        "Фоновата обработка не е достъпна в момента; опитайте отново след малко.",
        "Background processing is not available right now; try again shortly.",
    ),
}


def in_lang(value: Any, lang: str) -> Any:
    """A value given in both languages ({"bg": ..., "en": ...}) in `lang`; any other value as it is."""
    if isinstance(value, Mapping) and set(value) == {"bg", "en"}:
        return value["en" if lang == "en" else "bg"]
    return value


class GoalflowError(Exception):
    def __init__(self, code: str, *, fields: dict[str, str] | None = None, **params: Any):
        super().__init__(code)
        self.code = code
        self.fields = fields or {}
        self.params = params
        self.current: dict | None = None  # the object as it is now, where a conflict shows it

    @property
    def status(self) -> int:
        return CATALOG.get(self.code, (400,))[0]

    @property
    def type(self) -> str:
        return PROBLEM_BASE + self.code

    def message(self, lang: str = "bg") -> str:
        """The message in `lang`; a parameter given in both languages ({"bg": ..., "en": ...}, as the
        document layer's words come) is filled in in the same language."""
        _, bg, en = CATALOG.get(self.code, (400, self.code, self.code))
        template = bg if lang == "bg" else en
        try:
            return template.format(**{name: in_lang(value, lang) for name, value in self.params.items()})
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
