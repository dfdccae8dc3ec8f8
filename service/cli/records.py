"""The records: the audit trail's hash chain, and the workflow diagrams from the definitions."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from service.audit.checkpoints import create_all, verify
from service.kernel.workflow_registry import workflows

cli = AppGroup("records", help="The audit trail and the workflow definitions.")


@cli.command("verify-audit")
def verify_audit():
    """Verify the hash chain of the audit trail and hold it against its sealed checkpoints
    (database and archive folder); name the first broken link or the checkpoint contradicted."""
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


@cli.command("audit-checkpoint")
def audit_checkpoint():
    """Seal a checkpoint of every audit chain now (the scheduler does it daily)."""
    for checkpoint in create_all(reason="manual"):
        click.echo(f"chain {checkpoint.chain_id}: event {checkpoint.seq} {checkpoint.hash} "
                   f"{'sealed' if checkpoint.seal else 'not sealed'} -> {checkpoint.file_name}")


@cli.command("workflow-diagrams")
@click.option("--out", default="docs/workflows", type=click.Path(file_okay=False))
def workflow_diagrams(out):
    """Write a mermaid diagram of each workflow, generated from its definition."""
    Path(out).mkdir(parents=True, exist_ok=True)
    for name, wf in workflows().items():
        path = Path(out) / f"{name}.md"
        path.write_text(f"# {wf.label['en']} ({wf.label['bg']})\n\n```mermaid\n{wf.to_mermaid()}```\n", encoding="utf-8")
        click.echo(str(path))
