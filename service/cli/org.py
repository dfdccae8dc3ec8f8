"""The organisation: administrations, units, people, substitutes, and the demo."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from service.cli.common import administration, fail, user
from service.demo import load_demo
from service.kernel.common import settings
from service.kernel.errors import GoalflowError
from service.org import service as org
from service.org.models import Role

cli = AppGroup("org", help="The organisation: administrations, units, people and substitutes.")


@cli.command("demo")
@click.option("--password", envvar="DEMO_PASSWORD", default=None)
def demo(password: str | None) -> None:
    """Load the Haskovo demo administration (idempotent)."""
    admin = load_demo(password or settings().DEMO_PASSWORD)
    click.echo(f"demo administration: {admin.name} (id {admin.id})")


@cli.command("create-unit")
@click.option("--administration", "slug", required=True)
@click.option("--code", required=True)
@click.option("--name", required=True)
@click.option("--kind", default="directorate", type=click.Choice(["cabinet", "directorate", "department", "sector"]))
@click.option("--parent", default=None, help="code of the parent unit")
def create_unit(slug, code, name, kind, parent):
    """Create an organisational unit."""
    admin = administration(slug)
    try:
        unit = org.create_unit(
            administration=admin, code=code, name=name, kind=kind,
            parent=org.unit_by_code(admin, parent) if parent else None,
        )
    except GoalflowError as exc:
        fail(exc)
    click.echo(f"unit {unit.code} (id {unit.id})")


@cli.command("create-administration")
@click.option("--name", required=True)
@click.option("--slug", required=True)
def create_administration(name, slug):
    """Create an administration."""
    try:
        admin = org.create_administration(name=name, slug=slug)
    except GoalflowError as exc:
        fail(exc)
    click.echo(f"administration {admin.slug} (id {admin.id})")


@cli.command("create-user")
@click.option("--administration", "slug", default=None)
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--role", "roles", multiple=True, help="ROLE or ROLE:UNITCODE, e.g. head:АПОФУС")
@click.option("--locale", default="bg", type=click.Choice(["bg", "en"]))
def create_user(slug, email, name, password, roles, locale):
    """Create a user with roles."""
    admin = administration(slug) if slug else None
    parsed = []
    for spec in roles:
        role, _, code = spec.partition(":")
        try:
            role = Role(role)
        except ValueError:
            raise click.ClickException(f"unknown role {role}; one of {', '.join(r.value for r in Role)}") from None
        unit = org.unit_by_code(admin, code) if code and admin else None
        if code and unit is None:
            raise click.ClickException(f"no unit {code}")
        parsed.append((role, unit))
    try:
        created = org.create_user(
            email=email, name=name, password=password, administration=admin, roles=parsed, locale=locale,
        )
    except GoalflowError as exc:
        fail(exc)
    click.echo(f"user {created.email} (id {created.id})")


@cli.command("substitute")
@click.option("--absent", required=True, help="email of the absent person")
@click.option("--substitute", "sub", required=True, help="email of the substitute")
@click.option("--from", "starts_on", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--to", "ends_on", required=True, type=click.DateTime(["%Y-%m-%d"]))
def substitute(absent, sub, starts_on, ends_on):
    """Name a substitute for a date range."""
    absent_user = user(absent)
    try:
        s = org.name_substitute(
            absent=absent_user, substitute=user(sub), starts_on=starts_on.date(), ends_on=ends_on.date(),
            actor=absent_user,
        )
    except GoalflowError as exc:
        fail(exc)
    click.echo(f"substitution {s.id}: {sub} for {absent} {s.starts_on}..{s.ends_on}")


@cli.command("conflicting-roles")
def conflicting_roles():
    """List the accounts holding a deciding role beside the administrator's (exit code 1 if any)."""
    found = org.conflicting_accounts(everywhere=True)
    for account in found:
        roles = ", ".join(f"{r.role}:{r.unit.code}" if r.unit else str(r.role) for r in account.roles)
        where = account.user.administration.slug if account.user.administration else "(installation)"
        click.echo(f"{account.user.email}\t{where}\t{roles}")
    if found:
        click.echo(f"{len(found)} account(s) hold a deciding role and the administrator role: "
                   "remove one of the roles on the people page", err=True)
        raise SystemExit(1)
    click.echo("no account holds a deciding role and the administrator role")
