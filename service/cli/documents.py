"""`flask --app service import-plan FILE --administration SLUG [--dry-run] [--lang bg|en]` and `export-plan ...`."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from service.cli.common import actor, administration, fail
from service.goals import documents
from service.goals.service import plan_for_year
from service.kernel.errors import GoalflowError

cli = AppGroup("documents", help="The official goals table: import a plan or a report, export one.")


def _show(result, *, verbose: bool, lang: str) -> None:
    for outcome in result.goals:
        if not (verbose or outcome.warnings):
            continue
        flag = " [review]" if outcome.needs_review else ""
        click.echo(f"  {outcome.number}. {outcome.action} [{outcome.state}]{flag} {outcome.goal.title[:80]}")
        for warning in outcome.warnings:
            click.echo(f"       ! {warning.in_(lang)}")
    for warning in result.warnings:
        click.echo(f"  ! {warning.in_(lang)}")


@cli.command("import-plan")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--administration", "slug", required=True)
@click.option("--dry-run", is_flag=True, help="List every goal with its warnings; write nothing.")
@click.option("--as", "email", default=None, help="Import as this person (their rights apply).")
@click.option("--archive", is_flag=True,
              help="A past year's report signed on paper: kept archived, as signed on --paper-signed-on.")
@click.option("--paper-signed-on", type=click.DateTime(formats=["%Y-%m-%d", "%d.%m.%Y"]), default=None,
              help="The day the paper report was signed (with --archive).")
@click.option("--lang", default="bg", type=click.Choice(["bg", "en"]), show_default=True,
              help="The language of the warnings and of a refusal.")
def import_plan(file: Path, slug: str, dry_run: bool, email: str | None, archive: bool, paper_signed_on,
                lang: str) -> None:
    """Import a plan or a year's report (DOCX, XLSX, CSV or extracted text) into the plan of its year.

    It never signs: a year without a plan gets a draft, adopted through the approval path. A past
    year's report signed on paper is brought in with --archive --paper-signed-on DATE."""
    archived = {"archive": archive, "paper_signed_on": paper_signed_on.date() if paper_signed_on else None}
    admin, person = administration(slug), actor(email)
    if person is not None and not documents.may_import(person, admin.id):
        fail(GoalflowError("forbidden"), lang)
    try:
        document = documents.read_upload(file.read_bytes(), file.name)
        if dry_run:
            result = documents.import_document(document, administration=admin, actor=person, dry_run=True,
                                               **archived)
        else:
            with click.progressbar(length=len(document.goals), label="goals", show_pos=True) as bar:
                result = documents.import_document(document, administration=admin, actor=person,
                                                   progress=bar.update, **archived)
    except GoalflowError as exc:
        fail(exc, lang)
    what = "would import" if dry_run else "imported"
    plan = f"plan {result.plan.id}" if result.plan else "a new plan"
    click.echo(
        f"{what} the {result.kind} of {result.year} into {plan}: {result.created} new goals, {result.updated} updated"
    )
    _show(result, verbose=dry_run, lang=lang)


@cli.command("export-plan")
@click.option("--administration", "slug", required=True)
@click.option("--year", required=True, type=int)
@click.option("--format", "fmt", required=True, type=click.Choice(["docx", "xlsx", "csv", "pdf"]))
@click.option("--kind", default=None, type=click.Choice(["plan", "report"]),
              help="Default: the report once reporting has opened, the plan before.")
@click.option("--lang", default="bg", type=click.Choice(["bg", "en"]))
@click.option("--extra", multiple=True, type=click.Choice(["achieved"]),
              help="A column beyond the official form's 14 (the achieved values).")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
def export_plan(slug: str, year: int, fmt: str, kind: str | None, lang: str, extra: tuple[str, ...],
                out: Path) -> None:
    """Write the plan of a year, or its report, as DOCX, XLSX, CSV or PDF."""
    plan = plan_for_year(administration(slug), year)
    if plan is None:
        raise click.ClickException(f"no plan for {year} in {slug}")
    export = documents.render(plan, fmt=fmt, kind=kind, lang=lang, extra_columns=extra)
    out.write_bytes(export.data)
    click.echo(f"{out}: {len(export.data)} bytes, {len(plan.goals)} goals")
