"""Command-line operations: `flask --app service ...` or the `goalflow` console script."""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import FlaskGroup

from service.errors import GoalflowError
from service.extensions import db


def _fail(exc: GoalflowError) -> None:
    detail = f" {exc.fields}" if exc.fields else ""
    raise click.ClickException(f"{exc.code}: {exc.message('en')}{detail}")


def _user(email: str):
    from service.org.service import user_by_email

    user = user_by_email(email)
    if user is None:
        raise click.ClickException(f"no user {email}")
    return user


def register(app: Flask) -> None:
    @app.cli.command("demo")
    @click.option("--password", envvar="DEMO_PASSWORD", default=None)
    def demo(password: str | None) -> None:
        """Load the Haskovo demo administration (idempotent)."""
        from service.common import settings
        from service.demo import load_demo

        admin = load_demo(password or settings().DEMO_PASSWORD)
        click.echo(f"demo administration: {admin.name} (id {admin.id})")

    @app.cli.command("create-unit")
    @click.option("--administration", "slug", required=True)
    @click.option("--code", required=True)
    @click.option("--name", required=True)
    @click.option("--kind", default="directorate", type=click.Choice(["cabinet", "directorate", "department", "sector"]))
    @click.option("--parent", default=None, help="code of the parent unit")
    def create_unit(slug, code, name, kind, parent):
        """Create an organisational unit."""
        from service.org import service as org
        from service.org.models import Administration

        admin = db.session.scalar(db.select(Administration).where(Administration.slug == slug))
        if admin is None:
            raise click.ClickException(f"no administration {slug}")
        try:
            unit = org.create_unit(
                administration=admin, code=code, name=name, kind=kind,
                parent=org.unit_by_code(admin, parent) if parent else None,
            )
        except GoalflowError as exc:
            _fail(exc)
        click.echo(f"unit {unit.code} (id {unit.id})")

    @app.cli.command("create-administration")
    @click.option("--name", required=True)
    @click.option("--slug", required=True)
    def create_administration(name, slug):
        """Create an administration."""
        from service.org import service as org

        try:
            admin = org.create_administration(name=name, slug=slug)
        except GoalflowError as exc:
            _fail(exc)
        click.echo(f"administration {admin.slug} (id {admin.id})")

    @app.cli.command("create-user")
    @click.option("--administration", "slug", default=None)
    @click.option("--email", required=True)
    @click.option("--name", required=True)
    @click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
    @click.option("--role", "roles", multiple=True, help="ROLE or ROLE:UNITCODE, e.g. head:АПОФУС")
    @click.option("--locale", default="bg", type=click.Choice(["bg", "en"]))
    def create_user(slug, email, name, password, roles, locale):
        """Create a user with roles."""
        from service.org import service as org
        from service.org.models import Administration, Role

        admin = db.session.scalar(db.select(Administration).where(Administration.slug == slug)) if slug else None
        if slug and admin is None:
            raise click.ClickException(f"no administration {slug}")
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
            user = org.create_user(email=email, name=name, password=password, administration=admin, roles=parsed, locale=locale)
        except GoalflowError as exc:
            _fail(exc)
        click.echo(f"user {user.email} (id {user.id})")

    @app.cli.command("substitute")
    @click.option("--absent", required=True, help="email of the absent person")
    @click.option("--substitute", "sub", required=True, help="email of the substitute")
    @click.option("--from", "starts_on", required=True, type=click.DateTime(["%Y-%m-%d"]))
    @click.option("--to", "ends_on", required=True, type=click.DateTime(["%Y-%m-%d"]))
    def substitute(absent, sub, starts_on, ends_on):
        """Name a substitute for a date range."""
        from service.org import service as org

        absent_user = _user(absent)
        try:
            s = org.name_substitute(
                absent=absent_user, substitute=_user(sub), starts_on=starts_on.date(), ends_on=ends_on.date(),
                actor=absent_user,
            )
        except GoalflowError as exc:
            _fail(exc)
        click.echo(f"substitution {s.id}: {sub} for {absent} {s.starts_on}..{s.ends_on}")

    @app.cli.group("goal")
    def goal_group():
        """Drive a goal through its workflow."""

    @goal_group.command("show")
    @click.argument("goal_id", type=int)
    @click.option("--as", "email", required=True)
    def goal_show(goal_id, email):
        from service.approvals import service as approvals
        from service.goals import service as goals

        actor = _user(email)
        try:
            goal = goals.get_goal(actor, goal_id)
        except GoalflowError as exc:
            _fail(exc)
        click.echo(f"goal {goal.id} no. {goal.number} [{goal.state}] v{goal.version}: {goal.title}")
        req = approvals.open_request("goal", goal.id)
        if req:
            click.echo(f"open request {req.id}: {req.transition} ({req.from_state} -> {req.to_state})")
            for stage in req.stages:
                slots = ", ".join(f"{s.role}{'@' + s.unit.code if s.unit else ''}={s.status}" for s in stage.slots)
                click.echo(f"  stage {stage.name} [{stage.status}]: {slots}")
        allowed = [t.name for t in approvals.allowed_transitions(actor, "goal", goal)]
        click.echo(f"you may ask for: {', '.join(allowed) or 'nothing'}")
        for ind in goal.indicators:
            click.echo(f"  indicator {ind.id}: target {ind.target_text!r} achieved {ind.achieved_text!r}")

    @goal_group.command("request")
    @click.argument("goal_id", type=int)
    @click.argument("transition")
    @click.option("--as", "email", required=True)
    @click.option("--reason", default="")
    @click.option("--achieved", multiple=True, help="INDICATOR_ID=VALUE")
    def goal_request(goal_id, transition, email, reason, achieved):
        from service.approvals import service as approvals

        data = {"achieved": dict(a.split("=", 1) for a in achieved)} if achieved else {}
        try:
            req = approvals.request_transition(
                actor=_user(email), subject_type="goal", subject_id=goal_id, transition=transition,
                reason=reason, data=data,
            )
        except GoalflowError as exc:
            _fail(exc)
        click.echo(f"request {req.id}: {req.status}")

    @goal_group.command("decide")
    @click.argument("request_id", type=int)
    @click.argument("verdict", type=click.Choice(["approve", "reject"]))
    @click.option("--as", "email", required=True)
    @click.option("--comment", default="")
    def goal_decide(request_id, verdict, email, comment):
        from service.approvals import service as approvals

        try:
            req = approvals.decide(actor=_user(email), request_id=request_id, verdict=verdict, comment=comment)
        except GoalflowError as exc:
            _fail(exc)
        click.echo(f"request {req.id}: {req.status}")

    @goal_group.command("withdraw")
    @click.argument("request_id", type=int)
    @click.option("--as", "email", required=True)
    @click.option("--reason", default="")
    def goal_withdraw(request_id, email, reason):
        from service.approvals import service as approvals

        try:
            req = approvals.withdraw(actor=_user(email), request_id=request_id, reason=reason)
        except GoalflowError as exc:
            _fail(exc)
        click.echo(f"request {req.id}: {req.status}")

    @app.cli.command("verify-audit")
    def verify_audit():
        """Verify the hash chain of the audit trail and hold it against its sealed checkpoints
        (database and archive folder); name the first broken link or the checkpoint contradicted."""
        from service.audit.checkpoints import verify

        report = verify()
        if report.ok:
            click.echo(f"audit chain intact: {report.events_checked} events, {report.checkpoints_checked} checkpoints")
            for chain_id, checkpoint in sorted(report.latest.items()):
                seal = "sealed" if checkpoint.sealed else "not sealed"
                click.echo(f"  chain {chain_id}: latest checkpoint at event {checkpoint.seq} of {checkpoint.at} "
                           f"({seal}, statement SHA-256 {checkpoint.statement_sha256})")
            return
        if report.checkpoint is None:
            click.echo(f"audit chain BROKEN in chain {report.chain_id} at event {report.seq} (id {report.event_id}): "
                       f"{report.problem}", err=True)
        else:
            click.echo(f"audit chain BROKEN in chain {report.chain_id}: {report.problem} "
                       f"[checkpoint statement SHA-256 {report.checkpoint.statement_sha256}]", err=True)
        sys.exit(1)

    @app.cli.command("audit-checkpoint")
    def audit_checkpoint():
        """Seal a checkpoint of every audit chain now (the scheduler does it daily)."""
        from service.audit.checkpoints import create_all

        for checkpoint in create_all(reason="manual"):
            click.echo(f"chain {checkpoint.chain_id}: event {checkpoint.seq} {checkpoint.hash} "
                       f"{'sealed' if checkpoint.seal else 'not sealed'} -> {checkpoint.file_name}")

    @app.cli.command("workflow-diagrams")
    @click.option("--out", default="docs/workflows", type=click.Path(file_okay=False))
    def workflow_diagrams(out):
        """Write a mermaid diagram of each workflow, generated from its definition."""
        from pathlib import Path

        from service.workflow_registry import workflows

        Path(out).mkdir(parents=True, exist_ok=True)
        for name, wf in workflows().items():
            path = Path(out) / f"{name}.md"
            path.write_text(f"# {wf.label['en']} ({wf.label['bg']})\n\n```mermaid\n{wf.to_mermaid()}```\n", encoding="utf-8")
            click.echo(str(path))

    from worker.cli import register as register_operations

    register_operations(app)  # outbox, sweep, campaigns

    from service.goals.documents_cli import register as register_documents

    register_documents(app)  # import-plan, export-plan


def main() -> None:
    """The `goalflow` console script: the same commands as `flask --app service`."""
    from service.app import create_app

    FlaskGroup(create_app=lambda: create_app())(prog_name="goalflow")
