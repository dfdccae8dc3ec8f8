"""Administrations, units, people and substitutes: read by everyone inside, managed by the administrator."""

from __future__ import annotations

from flask_smorest import Blueprint

from service.api import schemas as s
from service.api.common import ID, actor, no_content, page
from service.kernel.errors import GoalflowError
from service.org import service as org
from service.org.models import Role

bp = Blueprint("org", __name__, url_prefix="/api/v1", description="Administrations, units, users and substitutes")


def _target_administration(body: dict):
    """Where a new unit or person goes: my administration, or (for the installation's administrator) the one named."""
    me = actor()
    wanted = body.get("administration_id") or me.administration_id
    if wanted is None:
        raise GoalflowError("invalid_input", fields={"administration_id": "required"})
    return org.get_administration(me, wanted)


# -- administrations ------------------------------------------------------------------------


@bp.get("/administrations")
@bp.arguments(s.PageArgs, location="query")
@bp.response(200, s.page_of(s.AdministrationSchema))
def list_administrations(args: dict):
    """The administrations I belong to (all of them, for the installation's administrator)."""
    return page(org.list_administrations(actor()), args)


@bp.post("/administrations")
@bp.arguments(s.AdministrationCreateSchema)
@bp.response(201, s.AdministrationSchema)
def create_administration(body: dict):
    """Add an administration (the installation's administrator only)."""
    return org.create_administration(
        name=body["name"], official_name=body.get("official_name", ""), slug=body.get("slug"), actor=actor()
    )


@bp.get(f"/administrations/<{ID}:administration_id>")
@bp.response(200, s.AdministrationSchema)
def get_administration(administration_id: int):
    return org.get_administration(actor(), administration_id)


@bp.patch(f"/administrations/<{ID}:administration_id>")
@bp.arguments(s.AdministrationUpdateSchema)
@bp.response(200, s.AdministrationSchema)
def update_administration(body: dict, administration_id: int):
    """Rename it, or set the sender of its emails (the installation's administrator, or its own)."""
    return org.update_administration(actor=actor(), administration_id=administration_id, changes=body)


# -- units ----------------------------------------------------------------------------------


@bp.get("/units")
@bp.arguments(s.UnitArgs, location="query")
@bp.response(200, s.UnitSchema(many=True))
def list_units(args: dict):
    """The units of my administration, directorates and the departments below them."""
    from service.extensions import db

    return db.session.scalars(org.list_units(actor(), administration_id=args.get("administration_id"))).all()


@bp.post("/units")
@bp.arguments(s.UnitCreateSchema)
@bp.response(201, s.UnitSchema)
def create_unit(body: dict):
    me = actor()
    administration = _target_administration(body)
    parent = org.get_unit(me, body["parent_id"]) if body.get("parent_id") else None
    if parent is not None and parent.administration_id != administration.id:
        raise GoalflowError("invalid_input", fields={"parent_id": "the parent belongs to another administration"})
    return org.create_unit(
        administration=administration, code=body["code"], name=body["name"], kind=body["kind"], parent=parent, actor=me,
    )


@bp.get(f"/units/<{ID}:unit_id>")
@bp.response(200, s.UnitSchema)
def get_unit(unit_id: int):
    return org.get_unit(actor(), unit_id)


@bp.patch(f"/units/<{ID}:unit_id>")
@bp.arguments(s.UnitUpdateSchema)
@bp.response(200, s.UnitSchema)
def update_unit(body: dict, unit_id: int):
    return org.update_unit(actor=actor(), unit_id=unit_id, changes=body)


# -- users ----------------------------------------------------------------------------------


def _roles(me, body_roles: list[dict]) -> list[tuple[Role, object]]:
    return [(Role(r["role"]), org.get_unit(me, r["unit_id"]) if r["unit_id"] else None) for r in body_roles]


@bp.get("/users")
@bp.arguments(s.PageArgs, location="query")
@bp.response(200, s.page_of(s.UserSchema))
def list_users(args: dict):
    """The people of my administration and their roles."""
    return page(org.list_users(actor()), args)


@bp.post("/users")
@bp.arguments(s.UserCreateSchema)
@bp.response(201, s.UserSchema)
def create_user(body: dict):
    me = actor()
    administration = _target_administration(body)
    return org.create_user(
        email=body["email"], name=body["name"], password=body["password"], administration=administration,
        roles=_roles(me, body["roles"]), locale=body["locale"], actor=me,
    )


@bp.get(f"/users/<{ID}:user_id>")
@bp.response(200, s.UserSchema)
def get_user(user_id: int):
    return org.get_visible_user(actor(), user_id)


@bp.patch(f"/users/<{ID}:user_id>")
@bp.arguments(s.UserUpdateSchema)
@bp.response(200, s.UserSchema)
def update_user(body: dict, user_id: int):
    """Change a person's name, language, roles (the list replaces the old one) or disable the account."""
    changes = dict(body)
    if "roles" in changes:
        changes["roles"] = [(r["role"], r["unit_id"]) for r in changes["roles"]]
    return org.update_user(actor=actor(), user_id=user_id, changes=changes)


# -- substitutes ----------------------------------------------------------------------------


@bp.get("/substitutes")
@bp.arguments(s.PageArgs, location="query")
@bp.response(200, s.page_of(s.SubstitutionSchema))
def list_substitutes(args: dict):
    """My substitutions, as the absent person or as the substitute (the administrator sees all)."""
    return page(org.list_substitutions(actor()), args)


@bp.post("/substitutes")
@bp.arguments(s.SubstitutionCreateSchema)
@bp.response(201, s.SubstitutionSchema)
def name_substitute(body: dict):
    """Name who sees and decides my approvals while I am away (an administrator may name one for anyone)."""
    me = actor()
    absent = org.get_visible_user(me, body["absent_id"]) if body.get("absent_id") else me
    substitute = org.get_visible_user(me, body["substitute_id"])
    return org.name_substitute(
        absent=absent, substitute=substitute, starts_on=body["starts_on"], ends_on=body["ends_on"], actor=me,
    )


@bp.delete(f"/substitutes/<{ID}:substitution_id>")
@bp.response(204)
def cancel_substitute(substitution_id: int):
    me = actor()
    org.cancel_substitute(substitution=org.get_substitution(me, substitution_id), actor=me)
    return no_content()
