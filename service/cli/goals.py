"""`flask goal ...`: drive a goal through its workflow, as a named person (the one path decides)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from service.approvals import service as approvals
from service.cli.common import fail, user
from service.goals import service as goals
from service.kernel.errors import GoalflowError

cli = AppGroup("goal", help="Drive a goal through its workflow.")


@cli.command("show")
@click.argument("goal_id", type=int)
@click.option("--as", "email", required=True)
def goal_show(goal_id, email):
    actor = user(email)
    try:
        goal = goals.get_goal(actor, goal_id)
    except GoalflowError as exc:
        fail(exc)
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


@cli.command("request")
@click.argument("goal_id", type=int)
@click.argument("transition")
@click.option("--as", "email", required=True)
@click.option("--reason", default="")
@click.option("--achieved", multiple=True, help="INDICATOR_ID=VALUE")
def goal_request(goal_id, transition, email, reason, achieved):
    data = {"achieved": dict(a.split("=", 1) for a in achieved)} if achieved else {}
    try:
        req = approvals.request_transition(
            actor=user(email), subject_type="goal", subject_id=goal_id, transition=transition,
            reason=reason, data=data,
        )
    except GoalflowError as exc:
        fail(exc)
    click.echo(f"request {req.id}: {req.status}")


@cli.command("decide")
@click.argument("request_id", type=int)
@click.argument("verdict", type=click.Choice(["approve", "reject"]))
@click.option("--as", "email", required=True)
@click.option("--comment", default="")
def goal_decide(request_id, verdict, email, comment):
    try:
        req = approvals.decide(actor=user(email), request_id=request_id, verdict=verdict, comment=comment)
    except GoalflowError as exc:
        fail(exc)
    click.echo(f"request {req.id}: {req.status}")


@cli.command("withdraw")
@click.argument("request_id", type=int)
@click.option("--as", "email", required=True)
@click.option("--reason", default="")
def goal_withdraw(request_id, email, reason):
    try:
        req = approvals.withdraw(actor=user(email), request_id=request_id, reason=reason)
    except GoalflowError as exc:
        fail(exc)
    click.echo(f"request {req.id}: {req.status}")
