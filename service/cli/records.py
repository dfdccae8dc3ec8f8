"""The records: the audit trail's hash chain, and the workflow diagrams from the definitions."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from service.audit.service import verify
from service.workflow_registry import workflows

cli = AppGroup("records", help="The audit trail and the workflow definitions.")


@cli.command("verify-audit")
def verify_audit():
    """Verify the hash chain of the audit trail; name the first broken link."""
    report = verify()
    if report.ok:
        click.echo(f"audit chain intact: {report.events_checked} events")
        return
    click.echo(
        f"audit chain BROKEN in chain {report.chain_id} at event {report.seq} (id {report.event_id}): {report.problem}",
        err=True,
    )
    sys.exit(1)


@cli.command("workflow-diagrams")
@click.option("--out", default="docs/workflows", type=click.Path(file_okay=False))
def workflow_diagrams(out):
    """Write a mermaid diagram of each workflow, generated from its definition."""
    Path(out).mkdir(parents=True, exist_ok=True)
    for name, wf in workflows().items():
        path = Path(out) / f"{name}.md"
        path.write_text(f"# {wf.label['en']} ({wf.label['bg']})\n\n```mermaid\n{wf.to_mermaid()}```\n", encoding="utf-8")
        click.echo(str(path))
