"""Administration pages (admin role): people, roles, units, substitutes, the outbox, the audit chain."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from service.extensions import db
from service.kernel import authz
from service.kernel.common import settings
from service.kernel.errors import GoalflowError
from service.notifications import service as outbox
from service.org import service as org
from service.org.models import UNIT_ROLES, Role, Unit, User
from service.web.account import name_substitute_from_form
from service.web.common import error_message, field_errors, form_int, int_arg, lang, role_required, today
from service.web.views import bp

UNIT_KINDS = ("cabinet", "directorate", "department", "sector")


def _units() -> list[Unit]:
    return list(db.session.scalars(org.list_units(current_user, administration_id=current_user.administration_id)))


def _people() -> list[User]:
    return list(db.session.scalars(org.list_users(current_user).order_by(None).order_by(User.name)))


def _own_unit(unit_id: int | None) -> Unit | None:
    unit = db.session.get(Unit, unit_id) if unit_id else None
    if unit is not None and unit.administration_id != current_user.administration_id:
        return None
    return unit


def _own_user(user_id: int | None) -> User:
    return org.get_visible_user(current_user, user_id or 0)


def _conflicts() -> list[org.ConflictingAccount]:
    """Accounts holding a deciding role beside the administrator's, shown with a warning until fixed."""
    if current_user.administration_id is None:  # the installation's administrator sees every administration's
        return org.conflicting_accounts(everywhere=True)
    return org.conflicting_accounts(current_user.administration_id)


def _people_page(status: int = 200, **extra):
    context = {
        "people": _people(),
        "conflicts": _conflicts(),
        "units": _units(),
        "roles": list(Role),
        "unit_roles": UNIT_ROLES,
        "kinds": UNIT_KINDS,
        "errors": {},
        "form": {},
        "error_for": "",
        "problem": "",
    }
    context.update(extra)
    return render_template("admin/people.html", **context), status


def _refused(exc: GoalflowError, which: str, page=_people_page):
    if exc.status == 404:
        raise exc
    db.session.rollback()
    errors = field_errors(exc, {"unit": "unit_id", "roles": "role"}) or {"_": error_message(exc)}
    return page(exc.status, errors=errors, form=request.form,
                error_for=which, problem=error_message(exc))


@bp.get("/admin")
@role_required(Role.ADMIN)
def admin_home():
    return _people_page()


def _role_and_unit() -> tuple[Role, Unit | None]:
    problems = {}
    try:
        role = Role(request.form.get("role", ""))
    except ValueError:
        role = None
        problems["role"] = "no such role"
    unit_id = form_int("unit_id")
    unit = _own_unit(unit_id)
    if unit_id and unit is None:
        problems["unit_id"] = "no such unit"
    if problems:
        raise GoalflowError("invalid_input", fields=problems)
    return role, unit


@bp.post("/admin/users")
@role_required(Role.ADMIN)
def admin_create_user():
    try:
        role, unit = _role_and_unit()
        org.create_user(
            email=request.form.get("email", ""), name=request.form.get("name", ""),
            password=request.form.get("password", ""), administration=current_user.administration,
            roles=[(role, unit)], locale=request.form.get("locale", "bg"), actor=current_user,
        )
    except GoalflowError as exc:
        return _refused(exc, "user")
    flash(_("The user was created."), "success")
    return redirect(url_for("web.admin_home"))


@bp.post("/admin/roles")
@role_required(Role.ADMIN)
def admin_assign_role():
    try:
        user_id = form_int("user_id")
        if user_id is None:
            raise GoalflowError("invalid_input", fields={"user_id": "no such person"})
        user = _own_user(user_id)
        role, unit = _role_and_unit()
        org.assign_role(user=user, role=role, unit=unit, actor=current_user)
    except GoalflowError as exc:
        if exc.status == 404:
            exc = GoalflowError("invalid_input", fields={"user_id": "no such person"})
        return _refused(exc, "role")
    flash(_("The role was assigned."), "success")
    return redirect(url_for("web.admin_home"))


@bp.post("/admin/roles/<int:assignment_id>/remove")
@role_required(Role.ADMIN)
def admin_remove_role(assignment_id: int):
    """Takes one role off an account: how a deciding role beside the administrator's is undone."""
    try:
        org.remove_role(actor=current_user, assignment_id=assignment_id)
    except GoalflowError as exc:
        return _refused(exc, "remove")
    flash(_("The role was removed."), "success")
    return redirect(url_for("web.admin_home"))


@bp.post("/admin/users/<int:user_id>/<any(enable, disable):what>")
@role_required(Role.ADMIN)
def admin_user_active(user_id: int, what: str):
    """A disabled account can no longer sign in; its sessions and tokens stop at once."""
    if user_id == current_user.id:
        raise GoalflowError("forbidden")  # an administrator cannot lock themselves out
    user = org.update_user(actor=current_user, user_id=user_id, changes={"active": what == "enable"})
    flash(_("%(name)s can sign in again.", name=user.name) if user.active else
          _("%(name)s can no longer sign in.", name=user.name), "success")
    return redirect(url_for("web.admin_home"))


@bp.post("/admin/administration")
@role_required(Role.ADMIN)
def admin_administration_names():
    try:
        org.rename_administration(
            actor=current_user, administration_id=current_user.administration_id,
            name=request.form.get("name", ""), official_name=request.form.get("official_name", ""),
        )
    except GoalflowError as exc:
        return _refused(exc, "names")
    flash(_("The administration's names were saved."), "success")
    return redirect(url_for("web.admin_home"))


@bp.post("/admin/units")
@role_required(Role.ADMIN)
def admin_create_unit():
    kind = request.form.get("kind", "directorate")
    parent_id = form_int("parent_id")
    try:
        if kind not in UNIT_KINDS:
            raise GoalflowError("invalid_input", fields={"kind": "required"})
        parent = _own_unit(parent_id)
        if parent_id and parent is None:
            raise GoalflowError("invalid_input", fields={"parent_id": "no such unit"})
        org.create_unit(
            administration=current_user.administration, code=request.form.get("code", ""),
            name=request.form.get("name", ""), kind=kind, parent=parent, actor=current_user,
        )
    except GoalflowError as exc:
        return _refused(exc, "unit")
    flash(_("The unit was created."), "success")
    return redirect(url_for("web.admin_home"))


# -- substitutes ----------------------------------------------------------------------------


def _substitutes_page(status: int = 200, **extra):
    rows = db.session.scalars(org.list_substitutions(current_user)).all()
    context = {"substitutions": rows, "people": _people(), "today": today(), "errors": {}, "form": {},
               "error_for": "", "problem": ""}
    context.update(extra)
    return render_template("admin/substitutes.html", **context), status


@bp.get("/admin/substitutes")
@role_required(Role.ADMIN)
def admin_substitutes():
    return _substitutes_page()


@bp.post("/admin/substitutes")
@role_required(Role.ADMIN)
def admin_name_substitute():
    try:
        absent = _own_user(form_int("absent_id"))
    except GoalflowError:
        return _refused(GoalflowError("invalid_input", fields={"absent_id": "no such person"}), "substitute",
                        _substitutes_page)
    try:
        name_substitute_from_form(absent, current_user)
    except GoalflowError as exc:
        return _refused(exc, "substitute", _substitutes_page)
    flash(_("The substitute was named."), "success")
    return redirect(url_for("web.admin_substitutes"))


@bp.post("/admin/substitutes/<int:substitution_id>/cancel")
@role_required(Role.ADMIN)
def admin_cancel_substitute(substitution_id: int):
    org.cancel_substitute(substitution=org.get_substitution(current_user, substitution_id), actor=current_user)
    flash(_("The substitution was cancelled."), "success")
    return redirect(url_for("web.admin_substitutes"))


# -- the outbox -----------------------------------------------------------------------------


@bp.get("/admin/outbox")
@role_required(Role.ADMIN)
def admin_outbox(status_code: int = 200, **extra):
    status = request.args.get("status", "")
    status = status if status in outbox.STATUSES else ""
    listing = outbox.list_outbox(status=status or None, page=int_arg("page") or 1, actor=current_user)
    context = {"errors": {}, "form": {}, "problem": "", "default_sender": settings().MAIL_FROM, **extra}
    return render_template("admin/outbox.html", listing=listing, status=status, statuses=outbox.STATUSES,
                           **context), status_code


@bp.post("/admin/sender")
@role_required(Role.ADMIN)
def admin_sender():
    """The name and address the administration's emails come from (empty address: MAIL_FROM)."""
    try:
        org.update_administration(actor=current_user, administration_id=current_user.administration_id or 0,
                                  changes={k: request.form.get(k, "") for k in ("mail_from_name", "mail_from_address")})
    except GoalflowError as exc:
        if exc.status == 404:
            raise
        db.session.rollback()
        return admin_outbox(exc.status, errors=field_errors(exc), form=request.form, problem=error_message(exc))
    flash(_("The sender was saved."), "success")
    return redirect(url_for("web.admin_outbox"))


@bp.get("/admin/outbox/<int:message_id>")
@role_required(Role.ADMIN)
def admin_message(message_id: int):
    return render_template("admin/message.html", view=outbox.read_message(message_id, actor=current_user))


@bp.post("/admin/outbox/retry")
@role_required(Role.ADMIN)
def admin_retry_failed():
    count = outbox.retry_failed(actor=current_user)  # the failed messages of this administration only
    flash(_("%(n)s failed messages will be sent again.", n=count), "success")
    return redirect(url_for("web.admin_outbox", status="pending"))


# -- the audit chain ------------------------------------------------------------------------


@bp.get("/admin/audit")
@role_required(Role.ADMIN)
def admin_audit():
    report = None
    if request.args.get("check"):
        from service.audit.checkpoints import verify  # the chain, then its sealed checkpoints

        report = verify(authz.administered(current_user))  # this administration's chain only
    return render_template("admin/audit.html", report=report, lang=lang())
