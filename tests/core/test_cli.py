"""The CLI drives a goal through its workflow, as an administrator without the web UI would."""

from __future__ import annotations

import re

from service.extensions import db


def test_cli_creates_people_and_drives_a_goal_to_done(world, ctx):
    runner = ctx.test_cli_runner()
    made = runner.invoke(args=["create-user", "--administration", "test", "--email", "Nova@Test.bg", "--name",
                               "Нов експерт", "--password", "long enough 1", "--role", "expert:АПОФУС"])
    assert made.exit_code == 0, made.output
    bad = runner.invoke(args=["create-user", "--administration", "test", "--email", "x@test.bg", "--name", "X",
                              "--password", "long enough 1", "--role", "king"])
    assert bad.exit_code != 0 and "unknown role" in bad.output

    goal = world.g_a
    shown = runner.invoke(args=["goal", "show", str(goal.id), "--as", "nova@test.bg"])
    assert "[in_progress]" in shown.output and "complete" in shown.output
    indicator = re.search(r"indicator (\d+)", shown.output).group(1)

    asked = runner.invoke(args=["goal", "request", str(goal.id), "complete", "--as", "nova@test.bg",
                                "--achieved", f"{indicator}=1"])
    assert asked.exit_code == 0, asked.output
    request_id = re.search(r"request (\d+)", asked.output).group(1)
    refused = runner.invoke(args=["goal", "decide", request_id, "reject", "--as", world.head_a.email])
    assert refused.exit_code != 0 and "reason_required" in refused.output
    assert runner.invoke(args=["goal", "decide", request_id, "approve", "--as", world.head_a.email]).exit_code == 0
    done = runner.invoke(args=["goal", "decide", request_id, "approve", "--as", world.governor.email])
    assert done.exit_code == 0 and "approved" in done.output
    db.session.expire_all()
    assert goal.state == "done"


def test_cli_names_a_substitute(world, ctx):
    runner = ctx.test_cli_runner()
    result = runner.invoke(args=["substitute", "--absent", world.governor.email, "--substitute", world.head_a.email,
                                 "--from", "2030-01-01", "--to", "2030-01-10"])
    assert result.exit_code != 0 and "deputy governor" in result.output
    result = runner.invoke(args=["substitute", "--absent", world.governor.email, "--substitute", world.deputy.email,
                                 "--from", "2030-01-01", "--to", "2030-01-10"])
    assert result.exit_code == 0 and "substitution" in result.output
