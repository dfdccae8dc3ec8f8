"""Request and response schemas of the JSON API, declared once: they validate, serialise and document.

Input schemas reject unknown fields (marshmallow's RAISE) and say in the schema itself every limit
they enforce (lengths, ranges, patterns), so that what the OpenAPI document promises is what the
server accepts.
"""

from __future__ import annotations

from functools import cache

import marshmallow as ma
from marshmallow import fields, validate

from service.documents import in_language
from service.errors_http import reader_lang
from service.kernel.text import CONTROL_PROBLEM, NO_CONTROL_PATTERN, SOME_TEXT_PATTERN
from service.kernel.workflow_registry import workflow_for
from service.org.models import Role

MAX_ID = 2**31 - 1
# Text a database can keep: PostgreSQL refuses NUL characters in text (passwords: anything else).
NO_NUL = r"^[^\u0000]*$"
UNIT_KINDS = ("cabinet", "directorate", "department", "sector")
REQUEST_STATUSES = ("open", "approved", "rejected", "withdrawn")


def text(max_length: int = 10000, *, required: bool = False, **kwargs) -> fields.String:
    """A free text field with no control character (service.kernel.text); `required` ones must hold a visible character."""
    pattern, problem = (
        (SOME_TEXT_PATTERN, f"Must hold a visible character, and nothing that {CONTROL_PROBLEM}.") if required
        else (NO_CONTROL_PATTERN, f"Must not be text that {CONTROL_PROBLEM}.")
    )
    return fields.String(
        required=required,
        validate=[validate.Length(min=1 if required else 0, max=max_length), validate.Regexp(pattern, error=problem)],
        **kwargs,
    )


class InReaderLanguage(fields.String):
    """Words kept in both languages (an import warning): answered in the caller's alone, as
    Accept-Language asks (Bulgarian by default, English second)."""

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else in_language(value, reader_lang())


def ident(*, strict: bool = True, **kwargs) -> fields.Integer:
    """An id: strict in a JSON body (a number, not a text), lenient in a query string where all is text."""
    return fields.Integer(strict=strict, validate=validate.Range(min=1, max=MAX_ID), **kwargs)


class Bool(fields.Boolean):
    """JSON's true and false only: "yes" or 1 is not a boolean in a JSON body."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class Number(fields.Decimal):
    """A JSON number, kept exact as a Decimal (a text is refused, as the schema says)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.make_error("invalid")
        return super()._deserialize(str(value), attr, data, **kwargs)


def amount(maximum: int, **kwargs) -> fields.Decimal:
    # The bounds are also stated as numbers: apispec would write a Decimal field's bounds as text.
    return Number(
        allow_nan=False, validate=validate.Range(min=-maximum, max=maximum),
        metadata={"minimum": -maximum, "maximum": maximum}, **kwargs,
    )


class Strict(ma.Schema):
    class Meta:
        unknown = ma.RAISE


# -- common ---------------------------------------------------------------------------------


class ProblemSchema(ma.Schema):
    """RFC 9457 problem document."""

    type = fields.String(metadata={"description": "A stable URN naming the problem"})
    title = fields.String()
    status = fields.Integer()
    detail = fields.String(metadata={"description": "What went wrong, in the reader's language"})
    code = fields.String(metadata={"description": "The stable code (the last part of `type`)"})
    errors = fields.Dict(metadata={"description": "Per-field messages for invalid input"})


class PageArgs(Strict):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class PageMeta(ma.Schema):
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    total = fields.Integer(required=True)
    pages = fields.Integer(required=True)


@cache
def page_of(item: type[ma.Schema]) -> type[ma.Schema]:
    """The envelope of a list: its items and where they are in the whole."""
    return type(f"{item.__name__.removesuffix('Schema')}PageSchema", (PageMeta,), {"items": fields.List(fields.Nested(item))})


class UserRefSchema(ma.Schema):
    id = fields.Integer()
    name = fields.String()


# -- organisation ---------------------------------------------------------------------------


class AdministrationSchema(ma.Schema):
    id = fields.Integer()
    name = fields.String()
    official_name = fields.String()
    slug = fields.String()
    created_at = fields.DateTime()
    mail_from_name = fields.String(metadata={"description": "The name its emails come from"})
    mail_from_address = fields.String(
        metadata={"description": "The address its emails come from; empty: the installation's MAIL_FROM"}
    )


class AdministrationCreateSchema(Strict):
    name = text(300, required=True)
    official_name = text(300)
    slug = fields.String(validate=validate.Regexp(r"^[a-z0-9][a-z0-9-]{0,79}$"))


class AdministrationUpdateSchema(Strict):
    name = text(300)
    official_name = text(300)
    mail_from_name = text(200, metadata={"description": "The name its emails come from (default: its name)"})
    mail_from_address = fields.String(
        validate=[validate.Length(max=254), validate.Regexp(r"^$|^[^@\s]+@[^@\s]+\.[^@\s]+$")],
        metadata={"description": "The address its emails come from; empty: the installation's MAIL_FROM"},
    )


class UnitSchema(ma.Schema):
    id = fields.Integer()
    administration_id = fields.Integer()
    parent_id = fields.Integer(allow_none=True)
    code = fields.String()
    name = fields.String()
    kind = fields.String()


class UnitCreateSchema(Strict):
    code = text(40, required=True)
    name = text(300, required=True)
    kind = fields.String(load_default="directorate", validate=validate.OneOf(UNIT_KINDS))
    parent_id = ident(allow_none=True, load_default=None)
    administration_id = ident(metadata={"description": "Only for the installation's administrator"})


class UnitUpdateSchema(Strict):
    code = text(40, required=False)
    name = text(300, required=False)
    kind = fields.String(validate=validate.OneOf(UNIT_KINDS))
    parent_id = ident(allow_none=True)


class UnitArgs(Strict):
    administration_id = ident(strict=False)


class RoleSchema(Strict):
    role = fields.String(required=True, validate=validate.OneOf([r.value for r in Role]))
    unit_id = ident(allow_none=True, load_default=None, metadata={"description": "Heads and experts hold a role in a unit"})


class UserSchema(ma.Schema):
    id = fields.Integer()
    email = fields.String()
    name = fields.String()
    locale = fields.String()
    active = Bool()
    administration_id = fields.Integer(allow_none=True)
    roles = fields.Method("_roles")
    signing_identity = fields.String(metadata={"description": "Matched against the subject of the person's КЕП"})

    def _roles(self, user) -> list[dict]:
        return [{"role": str(r.role), "unit_id": r.unit_id} for r in user.roles]


class UserCreateSchema(Strict):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    name = text(200, required=True)
    password = fields.String(
        required=True, load_only=True,
        validate=[validate.Length(min=8, max=1000), validate.Regexp(NO_NUL)],
    )
    locale = fields.String(load_default="bg", validate=validate.OneOf(["bg", "en"]))
    roles = fields.List(fields.Nested(RoleSchema), load_default=list)
    administration_id = ident(metadata={"description": "Only for the installation's administrator"})


class UserUpdateSchema(Strict):
    name = text(200, required=False)
    locale = fields.String(validate=validate.OneOf(["bg", "en"]))
    active = Bool()
    roles = fields.List(fields.Nested(RoleSchema))
    signing_identity = fields.String(
        validate=validate.Length(max=64),
        metadata={"description": "The serialNumber of the person's qualified certificate, e.g. PNOBG-…; empty clears it"},
    )


class MeSchema(UserSchema):
    csrf_token = fields.Method(
        "_csrf_token",
        metadata={"type": "string", "nullable": True,
                  "description": "For a browser session: send it as X-CSRFToken with every change"},
    )
    via_token = fields.Method("_via_token", metadata={"type": "boolean"})

    def _csrf_token(self, user) -> str | None:
        from flask_wtf.csrf import generate_csrf

        from service.auth.login import via_token

        return None if via_token() else generate_csrf()

    def _via_token(self, user) -> bool:
        from service.auth.login import via_token

        return via_token()


class PasswordChangeSchema(Strict):
    current_password = fields.String(required=True, validate=validate.Length(max=1000))
    new_password = fields.String(required=True, validate=[validate.Length(min=8, max=1000), validate.Regexp(NO_NUL)])


class SubstitutionSchema(ma.Schema):
    id = fields.Integer()
    absent = fields.Nested(UserRefSchema)
    substitute = fields.Nested(UserRefSchema)
    starts_on = fields.Date()
    ends_on = fields.Date()
    cancelled = fields.Boolean()
    created_at = fields.DateTime()


class SubstitutionCreateSchema(Strict):
    absent_id = ident(metadata={"description": "Whom the substitute stands in for; default: me"})
    substitute_id = ident(required=True)
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)


# -- tokens ---------------------------------------------------------------------------------


class TokenRequestSchema(Strict):
    email = fields.String(required=True, validate=[validate.Length(min=1, max=254), validate.Regexp(NO_CONTROL_PATTERN)])
    password = fields.String(required=True, load_only=True, validate=[validate.Length(max=1000), validate.Regexp(NO_NUL)])
    name = text(100, load_default="api")
    days = fields.Integer(strict=True, validate=validate.Range(min=1, max=366), metadata={"description": "Lifetime; default 90"})


class TokenSchema(ma.Schema):
    id = fields.Integer()
    name = fields.String()
    prefix = fields.String(metadata={"description": "The first characters, to recognise it by"})
    created_at = fields.DateTime()
    expires_at = fields.DateTime()
    last_used_at = fields.DateTime(allow_none=True)
    revoked_at = fields.DateTime(allow_none=True)


class TokenCreatedSchema(TokenSchema):
    token = fields.String(metadata={"description": "The secret; shown this once, stored only as a hash"})


# -- plans and goals ------------------------------------------------------------------------


class PlanSchema(ma.Schema):
    id = fields.Integer()
    administration_id = fields.Integer()
    year = fields.Integer()
    currency = fields.String()
    state = fields.String()
    version = fields.Integer()
    approved_at = fields.DateTime(allow_none=True)
    report_approved_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()


class PlanCreateSchema(Strict):
    year = fields.Integer(required=True, strict=True, validate=validate.Range(min=2000, max=2100))
    currency = fields.String(validate=validate.OneOf(["BGN", "EUR"]))


class PlanArgs(PageArgs):
    year = fields.Integer(validate=validate.Range(min=2000, max=2100))
    state = fields.String(validate=validate.OneOf(list(workflow_for("plan").states)))


class GoalArgs(PageArgs):
    state = fields.String(validate=validate.OneOf(list(workflow_for("goal").states)))
    unit = ident(strict=False, metadata={"description": "Goals of this responsible unit"})
    year = fields.Integer(validate=validate.Range(min=2000, max=2100))
    plan = ident(strict=False)


class UnitRefSchema(ma.Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()


class IndicatorSchema(ma.Schema):
    id = fields.Integer()
    position = fields.Integer()
    name = fields.String()
    unit = fields.String()
    # Decimals travel as text: JSON numbers would lose their exact value.
    baseline = fields.String(allow_none=True, metadata={"format": "decimal"})
    baseline_text = fields.String()
    target = fields.String(allow_none=True, metadata={"format": "decimal"})
    target_text = fields.String()
    achieved = fields.String(allow_none=True, metadata={"format": "decimal"})
    achieved_text = fields.String()


class ActivitySchema(ma.Schema):
    id = fields.Integer()
    position = fields.Integer()
    title = fields.String()
    deadline = fields.Date(allow_none=True)
    done = Bool()


class GoalSchema(ma.Schema):
    id = fields.Integer()
    plan_id = fields.Integer()
    year = fields.Function(lambda g: g.plan.year, metadata={"type": "integer"})
    number = fields.Integer()
    title = fields.String()
    strategic_documents = fields.String()
    strategic_goal = fields.String()
    strategic_indicator = fields.String()
    financing_amount = fields.String(allow_none=True, metadata={"format": "decimal"})
    financing_currency = fields.String()
    financing_source = fields.String()
    financing_not_applicable = Bool()
    state = fields.String()
    status_wording = fields.String()
    progress_note = fields.String()
    deadline = fields.Date(allow_none=True)
    needs_review = fields.Boolean()
    import_warnings = fields.List(InReaderLanguage(), metadata={"description": "In the language Accept-Language asks for"})
    version = fields.Integer()
    units = fields.List(fields.Nested(UnitRefSchema))
    indicators = fields.List(fields.Nested(IndicatorSchema))
    activities = fields.List(fields.Nested(ActivitySchema))


class IndicatorInSchema(Strict):
    name = text(2000, required=True)
    unit = text(40)
    baseline = amount(10**13, allow_none=True)
    baseline_text = text(2000)
    target = amount(10**13, allow_none=True)
    target_text = text(2000)


class ActivityInSchema(Strict):
    title = text(2000, required=True)
    deadline = fields.Date(allow_none=True)
    done = Bool()


class GoalChangesSchema(Strict):
    title = text(5000, required=False)
    strategic_documents = text()
    strategic_goal = text()
    strategic_indicator = text()
    financing_amount = amount(10**11, allow_none=True)
    financing_source = text(300)
    financing_not_applicable = Bool()
    progress_note = text()
    deadline = fields.Date(allow_none=True)
    unit_ids = fields.List(ident(), validate=validate.Length(min=1, max=50))
    indicators = fields.List(fields.Nested(IndicatorInSchema), validate=validate.Length(max=100))
    activities = fields.List(fields.Nested(ActivityInSchema), validate=validate.Length(max=200))


class GoalCreateSchema(GoalChangesSchema):
    number = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=10000))
    title = text(5000, required=True)
    unit_ids = fields.List(ident(), required=True, validate=validate.Length(min=1, max=50))


# -- transitions and approvals --------------------------------------------------------------


class TransitionOfferSchema(ma.Schema):
    name = fields.String()
    label = fields.Dict(keys=fields.String(), values=fields.String())
    to = fields.String()
    reason_required = fields.Boolean()
    requires = fields.List(fields.String())
    fresh_login = fields.Boolean()


def transition_names(subject_type: str) -> list[str]:
    return list(workflow_for(subject_type).transitions)


class GoalTransitionSchema(Strict):
    transition = fields.String(required=True, validate=validate.OneOf(transition_names("goal")))
    reason = text(5000)
    achieved = fields.Dict(
        keys=fields.String(validate=validate.Regexp(r"^[0-9]{1,10}$")),
        values=text(2000),
        metadata={"description": "For `complete`: the achieved value of every indicator, by indicator id"},
    )


class PlanTransitionSchema(Strict):
    transition = fields.String(required=True, validate=validate.OneOf(transition_names("plan")))
    reason = text(5000)
    password = fields.String(
        load_only=True, validate=[validate.Length(max=1000), validate.Regexp(NO_NUL)],
        metadata={"description": "The governor's password, for a sign-off (approve, approve_report) made with a token"},
    )


class SlotSchema(ma.Schema):
    id = fields.Integer()
    role = fields.String()
    unit_id = fields.Integer(allow_none=True)
    status = fields.String()


class StageSchema(ma.Schema):
    position = fields.Integer()
    name = fields.String()
    rule = fields.String()
    status = fields.String()
    slots = fields.List(fields.Nested(SlotSchema))


class DecisionSchema(ma.Schema):
    verdict = fields.String()
    decided_by = fields.Nested(UserRefSchema)
    on_behalf_of = fields.Nested(UserRefSchema, allow_none=True)
    as_requester = fields.Boolean()
    comment = fields.String()
    created_at = fields.DateTime()


class ClaimSchema(ma.Schema):
    slot_id = fields.Integer()
    role = fields.String()
    unit_id = fields.Integer(allow_none=True)
    on_behalf_of = fields.Nested(UserRefSchema, allow_none=True)


class ClaimedIndicatorSchema(ma.Schema):
    id = fields.Integer()
    name = fields.String()
    unit = fields.String()
    baseline = fields.String()
    target = fields.String()
    current = fields.String(metadata={"description": "The value the object holds now"})
    claimed = fields.String(allow_none=True, metadata={"description": "The value the request asks to record"})


class ClaimedChangeSchema(ma.Schema):
    field = fields.String()
    from_ = fields.String(data_key="from", attribute="from")
    to = fields.String()


class ClaimedDecisionSchema(ma.Schema):
    stage = fields.String()
    verdict = fields.String()
    by = fields.Nested(UserRefSchema)
    on_behalf_of = fields.Nested(UserRefSchema, allow_none=True)
    as_requester = fields.Boolean()
    at = fields.String(metadata={"format": "date-time"})


class AwaitedSchema(ma.Schema):
    stage = fields.String()
    role = fields.String()
    unit_id = fields.Integer(allow_none=True)
    current = fields.Boolean(metadata={"description": "false: a later stage, not active yet"})
    people = fields.List(fields.Nested(UserRefSchema))


class SubjectRefSchema(ma.Schema):
    type = fields.String()
    id = fields.Integer()
    number = fields.Raw(metadata={"description": "The goal's number (the plan's year)"})
    title = fields.String()


class RequestClaimSchema(ma.Schema):
    subject = fields.Nested(SubjectRefSchema)
    transition = fields.String()
    from_state = fields.String()
    to_state = fields.String()
    indicators = fields.List(fields.Nested(ClaimedIndicatorSchema))
    changes = fields.List(fields.Nested(ClaimedChangeSchema))
    reason = fields.String()
    decided = fields.List(fields.Nested(ClaimedDecisionSchema))
    awaiting = fields.List(fields.Nested(AwaitedSchema))
    decide_by = fields.String(
        allow_none=True, metadata={"format": "date", "description": "The day the request escalates if undecided"}
    )


class RequestSchema(ma.Schema):
    id = fields.Integer()
    subject_type = fields.String()
    subject_id = fields.Integer()
    transition = fields.String()
    from_state = fields.String()
    to_state = fields.String()
    reason = fields.String()
    data = fields.Dict()
    status = fields.String()
    requested_by = fields.Nested(UserRefSchema)
    created_at = fields.DateTime()
    closed_at = fields.DateTime(allow_none=True)
    close_reason = fields.String()
    version = fields.Integer()
    stages = fields.List(fields.Nested(StageSchema))
    decisions = fields.List(fields.Nested(DecisionSchema))
    claim = fields.Nested(
        RequestClaimSchema,
        metadata={"description": "What the request changes, who decided and who is awaited: what a decider sees"},
    )
    awaiting_me = fields.List(
        fields.Nested(ClaimSchema),
        metadata={"description": "The approvals of the current stage that I may give now, and for whom"},
    )


class ApprovalArgs(PageArgs):
    status = fields.String(
        validate=validate.OneOf(["pending", *REQUEST_STATUSES]),
        metadata={"description": "`pending` is the same as `open`"},
    )
    mine = fields.Boolean(
        load_default=False,
        metadata={"description": "Only those waiting for my decision, including those I hold as a substitute"},
    )


class ApproveSchema(Strict):
    comment = text(5000)
    password = fields.String(
        load_only=True, validate=[validate.Length(max=1000), validate.Regexp(NO_NUL)],
        metadata={"description": "The signer's password, when this approval signs a sign-off off (made with a token)"},
    )


class RejectSchema(Strict):
    comment = text(5000, required=True, metadata={"description": "A rejection always says why"})


class WithdrawSchema(Strict):
    reason = text(5000)


class EventSchema(ma.Schema):
    id = fields.Integer()
    seq = fields.Integer()
    at = fields.DateTime()
    action = fields.String()
    actor = fields.Nested(UserRefSchema, allow_none=True)
    on_behalf_of = fields.Nested(UserRefSchema, allow_none=True)
    request_id = fields.Integer(allow_none=True)
    before = fields.Dict(allow_none=True)
    after = fields.Dict(allow_none=True)
    reason = fields.String()


# -- quarterly progress ---------------------------------------------------------------------

RISKS = ("on_track", "at_risk", "off_track")


class GoalRefSchema(ma.Schema):
    id = fields.Integer()
    number = fields.Integer()
    title = fields.String()


class CampaignSchema(ma.Schema):
    id = fields.Integer()
    plan_id = fields.Integer()
    year = fields.Function(lambda c: c.plan.year, metadata={"type": "integer"})
    quarter = fields.Integer()
    status = fields.String()
    opened_at = fields.DateTime()
    due_on = fields.Date()
    closed_at = fields.DateTime(allow_none=True)


class CampaignArgs(PageArgs):
    plan = ident(strict=False)
    status = fields.String(validate=validate.OneOf(["open", "closed"]))


class CampaignOpenSchema(Strict):
    plan_id = ident(required=True)
    quarter = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=4))


class ProgressValueSchema(ma.Schema):
    indicator_id = fields.Integer()
    achieved = fields.String(allow_none=True, metadata={"format": "decimal"})
    achieved_text = fields.String()


class ProgressReportSchema(ma.Schema):
    id = fields.Integer()
    campaign_id = fields.Integer()
    year = fields.Function(lambda r: r.campaign.plan.year, metadata={"type": "integer"})
    quarter = fields.Function(lambda r: r.campaign.quarter, metadata={"type": "integer"})
    goal = fields.Nested(GoalRefSchema)
    unit = fields.Nested(UnitRefSchema)
    state = fields.String()
    narrative = fields.String()
    risk = fields.String()
    submitted_by = fields.Nested(UserRefSchema, allow_none=True)
    submitted_at = fields.DateTime(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    return_reason = fields.String()
    version = fields.Integer()
    values = fields.List(fields.Nested(ProgressValueSchema))


class ProgressReportArgs(PageArgs):
    campaign = ident(strict=False)
    state = fields.String(validate=validate.OneOf(list(workflow_for("progress_report").states)))
    unit = ident(strict=False)


class ProgressSubmitSchema(Strict):
    achieved = fields.Dict(
        keys=fields.String(validate=validate.Regexp(r"^[0-9]{1,10}$")), values=text(2000), required=True,
        metadata={"description": "The value achieved so far for every indicator of the goal, by indicator id"},
    )
    narrative = text(10000)
    risk = fields.String(load_default="on_track", validate=validate.OneOf(RISKS))


class ProgressAcceptSchema(Strict):
    comment = text(5000)


class ProgressReturnSchema(Strict):
    reason = text(5000, required=True, metadata={"description": "What to change"})
