"""The plan as a document and back.

Export: the database's plan and goals become the document layer's dataclasses
(`plan_document`), which every exporter writes. Import: a parsed document becomes the plan of
its year (`import_document`), goal by goal, matched by plan and goal number.

What an import may change depends on the plan it lands in:

* No plan for that year yet: the plan is created from the document, as a draft whose goals
  are all planned, whether the document is a plan or a report. An import never signs: the
  draft is adopted, and its year reported and signed off, through the approval path.
* An archive import (`archive=True`): a past year's report that was signed on paper, brought in
  as the record it is. Only into a year without a plan, only a report, only with the day of the
  paper signature: the plan is created archived, its goals in the states the report names
  (each with a "goal_imported" event), and it keeps who imported it, when, and the day it was
  signed on paper. Nobody signed it in goalflow, and nothing says so.
* A draft plan: goals are added and updated by number, every column taken from the document.
  Goals keep their state (new ones are planned): a state changes through the workflow.
* A plan in reporting, with a report document: only the narrative "progress" column changes.
  Everything else in an adopted plan is signed (the goals themselves, their indicators and
  values, their states); where the document says otherwise the goal keeps what it has, gets a
  warning and is flagged for review, and its document row is kept in `source_cells`. A goal
  number the adopted plan does not have refuses the whole import.
* Any other plan (submitted, approved, report submitted or approved, archived) and a plan
  document into a plan in reporting: refused with `plan_not_importable`, nothing written.

Nothing is lost: a row that did not fit is saved with its warnings, flagged for review, its
original cells kept; goals of the plan that the document does not name stay as they are.
Who imports: the chief secretary or an administrator of that administration; `actor=None` is
the operator at the command line. A dry run answers the same and writes nothing.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final

from sqlalchemy import select

from service.audit import service as audit
from service.db import utcnow
from service.documents import (
    DocumentError,
    PlanDocument,
    export_csv,
    export_docx,
    export_pdf,
    export_xlsx,
    limits,
    parse_document,
    state_label,
    status_to_state,
)
from service.documents import Goal as DocGoal
from service.documents import Indicator as DocIndicator
from service.documents.columns import (
    ACHIEVED,
    ACTIVITIES,
    BASELINE,
    EXTRA_COLUMNS,
    FINANCING_AMOUNT,
    FINANCING_SOURCE,
    INDICATOR,
    STRATEGIC_DOCUMENTS,
    STRATEGIC_GOAL,
    STRATEGIC_INDICATOR,
    TARGET,
    TITLE,
)
from service.documents.errors import Text
from service.documents.export_pdf import CHILD_SETUP as PDF_CHILD_SETUP
from service.documents.model import Kind, Lang
from service.documents.rendering import columns_for, goal_values
from service.documents.safety import check_bytes, check_zip
from service.documents.values import parse_quantity
from service.extensions import db
from service.goals import amendments
from service.goals import service as goals
from service.goals.models import Activity, Goal, Indicator, Plan, keep_unit_order
from service.kernel import authz
from service.kernel.common import local_today, settings
from service.kernel.errors import GoalflowError
from service.kernel.text import control_fields, printable
from service.kernel.uow import transaction
from service.kernel.workflow_registry import workflow_for
from service.org.models import Administration, Unit, User

KINDS: Final = ("plan", "report")
LANGS: Final = ("bg", "en")


def _leave_connections() -> None:
    """The PDF layout's child process never uses the database connections it inherits, and
    must not close them."""
    try:
        for engine in db.engines.values():
            engine.dispose(close=False)
    except RuntimeError:  # no application context: no engine was opened
        pass


PDF_CHILD_SETUP.append(_leave_connections)
FORMATS: Final[dict[str, tuple[Callable[..., bytes], str]]] = {
    "docx": (export_docx, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "xlsx": (export_xlsx, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "csv": (export_csv, "text/csv"),
    "pdf": (export_pdf, "application/pdf"),
}

CREATE, UPDATE, PROGRESS_ONLY, ARCHIVE = "create", "update", "progress_only", "archive"
ARCHIVED_PLAN_STATE: Final = "archived"
# Columns an adopted plan keeps whatever a later report document says (the progress note is not
# one; the status is compared on its own), with their names for the warning.
SIGNED_COLUMNS: Final[dict[str, tuple[str, str]]] = {
    TITLE: ("цел", "goal"),
    STRATEGIC_DOCUMENTS: ("стратегически документи", "strategic documents"),
    STRATEGIC_GOAL: ("стратегическа цел", "strategic goal"),
    STRATEGIC_INDICATOR: ("индикатор от стратегически документ", "strategic indicator"),
    INDICATOR: ("индикатори", "indicators"),
    BASELINE: ("текущо състояние", "baseline"),
    TARGET: ("целево състояние", "target"),
    ACHIEVED: ("постигнато състояние", "achieved state"),
    FINANCING_AMOUNT: ("финансиране", "financing"),
    FINANCING_SOURCE: ("източник на финансиране", "financing source"),
    ACTIVITIES: ("дейности", "activities"),
}


# -- export -----------------------------------------------------------------------------------


def report_states() -> frozenset[str]:
    """The plan's states in which its document is the report (the definition's `report` group)."""
    return frozenset(workflow_for("plan").group("report"))


def default_kind(plan: Plan) -> Kind:
    return "report" if plan.state in report_states() else "plan"


def plan_document(plan: Plan, kind: Kind, lang: Lang = "bg", plan_goals: Iterable[Goal] | None = None) -> PlanDocument:
    """The plan (or the year's report) as the document layer writes it, with the governor's
    approval: Plan.approved_by/approved_at for the plan, report_approved_by/_at for the report."""
    signer, signed_at = (
        (plan.approved_by, plan.approved_at) if kind == "plan" else (plan.report_approved_by, plan.report_approved_at)
    )
    return PlanDocument(
        kind=kind,
        administration=plan.administration.document_name,
        year=plan.year,
        currency=plan.currency,
        governor_name=signer.name if signer else "",
        approved_on=local_today(signed_at) if signed_at else None,
        amended_on=amendments.amended_on(plan),
        goals=[document_goal(goal, lang) for goal in (plan.goals if plan_goals is None else plan_goals)],
    )


def document_goal(goal: Goal, lang: Lang = "bg") -> DocGoal:
    return DocGoal(
        number=goal.number,
        title=goal.title,
        strategic_documents=goal.strategic_documents,
        strategic_goal=goal.strategic_goal,
        strategic_indicator=goal.strategic_indicator,
        indicators=[
            DocIndicator(
                name=i.name, unit=i.unit, baseline=plain(i.baseline), baseline_text=i.baseline_text,
                target=plain(i.target), target_text=i.target_text, achieved=plain(i.achieved),
                achieved_text=i.achieved_text,
            )
            for i in goal.indicators
        ],
        financing_amount=plain(goal.financing_amount),
        financing_not_applicable=goal.financing_not_applicable,
        financing_source=goal.financing_source,
        activities=[a.title for a in goal.activities],
        units=[u.code or u.name for u in goal.units],
        status_wording=status_wording(goal, lang),
        state=goal.state,
        progress_note=goal.progress_note,
        warnings=[Text.from_stored(w) for w in goal.import_warnings or []],
        needs_review=goal.needs_review,
        source_cells=list(goal.source_cells or []),
    )


def plain(value: Decimal | None) -> Decimal | None:
    """A stored number without the column's trailing zeros (1.0000 is 1), never in exponent form."""
    if value is None:
        return None
    value = value.normalize()
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value


def status_wording(goal: Goal, lang: Lang) -> str:
    """The document's own words while they still say the goal's state (in Bulgarian, the
    documents' language); otherwise the state's name in the language asked for."""
    words = goal.status_wording.strip()
    if lang == "bg" and words:
        meant = status_to_state(words)
        if meant == goal.state or (meant is None and goal.needs_review):
            return words
    return state_label(goal.state, lang)


@dataclass(frozen=True)
class Export:
    data: bytes
    filename: str
    mimetype: str


def render_document(document: PlanDocument, fmt: str, lang: Lang = "bg", extra_columns: Collection[str] = ()) -> bytes:
    """The official form's 14 columns, and the extra columns asked for (`achieved`)."""
    if fmt not in FORMATS:
        raise GoalflowError("invalid_input", fields={"format": f"one of {', '.join(FORMATS)}"})
    if set(extra_columns) - EXTRA_COLUMNS:
        raise GoalflowError("invalid_input", fields={"extra": f"any of {', '.join(sorted(EXTRA_COLUMNS))}"})
    return FORMATS[fmt][0](document, lang=lang, extra_columns=tuple(extra_columns))


def render(plan: Plan, *, fmt: str, kind: Kind | None = None, lang: Lang = "bg",
           plan_goals: Iterable[Goal] | None = None, extra_columns: Collection[str] = ()) -> Export:
    kind = kind or default_kind(plan)
    data = render_document(plan_document(plan, kind, lang, plan_goals), fmt, lang, extra_columns)
    slug = re.sub(r"[^a-z0-9-]+", "-", plan.administration.slug.lower()).strip("-") or "plan"
    return Export(data, f"{slug}-{plan.year}-{kind}-{lang}.{fmt}", FORMATS[fmt][1])


def export_plan(actor: User, plan_id: int, *, fmt: str, kind: Kind | None = None, lang: Lang = "bg",
                extra_columns: Collection[str] = ()) -> Export:
    """The plan or its report as a file, with the goals `actor` may see."""
    plan = goals.get_plan(actor, plan_id)
    visible = db.session.scalars(goals.list_goals(actor, plan_id=plan.id))
    return render(plan, fmt=fmt, kind=kind, lang=lang, plan_goals=list(visible), extra_columns=extra_columns)


# -- import -----------------------------------------------------------------------------------


def read_upload(data: bytes, filename: str = "") -> PlanDocument:
    """A file as sent: parsed, or refused with the document layer's code as a domain error."""
    try:
        return parse_document(data, filename, max_bytes=settings().MAX_CONTENT_LENGTH)
    except DocumentError as exc:
        raise document_problem(exc) from exc


def document_problem(exc: DocumentError) -> GoalflowError:
    """The document layer's refusal as a domain error; its words go in both languages, shown in the reader's."""
    return GoalflowError(exc.code, detail=exc.message.stored(), **exc.params)


def import_limits():
    """The bounds of one import, from the settings (IMPORT_*); the clock starts when entered."""
    s = settings()
    return limits.bounded(
        max_part_bytes=s.IMPORT_MAX_PART_BYTES, max_rows=s.IMPORT_MAX_ROWS, seconds=s.IMPORT_MAX_SECONDS,
    )


def check_package_early(data: bytes, filename: str = "") -> None:
    """What can be refused from the size and the zip's central directory alone (no part is
    decompressed): a file too large, a zip bomb, a part declared larger than the limit."""
    with import_limits():
        try:
            check_bytes(data, settings().MAX_CONTENT_LENGTH)
            if data.startswith(b"PK"):
                check_zip(data)
        except DocumentError as exc:
            message = exc.message.prefixed(f"{filename}: ") if filename else exc.message
            raise document_problem(DocumentError(exc.code, message, **exc.params)) from exc


def import_upload(
    data: bytes, filename: str, *, administration: Administration, actor: User | None, dry_run: bool = False,
    progress: Callable[[int], Any] | None = None, before_writing: Callable[[int], Any] | None = None,
    archive: bool = False, paper_signed_on: date | None = None,
) -> ImportResult:
    """A file as sent, read and imported (or its dry run) within the import's bounds: a part too
    large, too many rows or too long a time refuses it with its own code, and nothing is written.
    `before_writing(number of goals)` is called once the file is read."""
    with import_limits():
        document = read_upload(data, filename)
        if before_writing:
            before_writing(len(document.goals))
        try:
            return import_document(
                document, administration=administration, actor=actor, dry_run=dry_run, progress=progress,
                archive=archive, paper_signed_on=paper_signed_on,
            )
        except DocumentError as exc:  # the time ran out while writing: the transaction is rolled back
            raise document_problem(exc) from exc


def may_import(actor: User, administration_id: int) -> bool:
    """The chief secretary or an administrator of that administration."""
    return actor.administration_id == administration_id and authz.may(actor, "prepare_plans")


@dataclass
class GoalOutcome:
    number: int  # in the plan (the document's, unless it repeated one)
    goal: DocGoal  # as the document has it
    action: str  # create | update | progress_only
    state: str  # the goal's state after the import
    warnings: list[Text]
    needs_review: bool
    goal_id: int | None = None


@dataclass
class ImportResult:
    year: int
    kind: Kind
    dry_run: bool
    plan: Plan | None  # None only on a dry run for a year without a plan
    plan_created: bool
    goals: list[GoalOutcome] = field(default_factory=list)
    warnings: list[Text] = field(default_factory=list)  # about the document as a whole

    @property
    def created(self) -> int:
        return sum(1 for g in self.goals if g.action == CREATE)

    @property
    def updated(self) -> int:
        return len(self.goals) - self.created


def import_document(
    document: PlanDocument, *, administration: Administration, actor: User | None, dry_run: bool = False,
    progress: Callable[[int], Any] | None = None, now: datetime | None = None,
    archive: bool = False, paper_signed_on: date | None = None,
) -> ImportResult:
    """Save `document` as the plan of its year (see the module's notes); `progress(1)` after each goal.
    `archive` with `paper_signed_on`: a past year's report signed on paper, kept as its record."""
    now = now or utcnow()
    if actor is not None and not may_import(actor, administration.id):
        raise GoalflowError("forbidden")
    if document.year is None:
        raise GoalflowError("invalid_input", fields={"year": "the document does not say which year it covers"})
    if archive:
        _check_archive(document, paper_signed_on, now)
    with transaction():
        plan = goals.plan_for_year(administration, document.year)
        mode = _archive_mode(plan, document) if archive else _mode(plan, document)
        result = ImportResult(
            year=document.year, kind=document.kind, dry_run=dry_run, plan=plan, plan_created=plan is None,
            warnings=list(document.warnings),
        )
        numbered = _renumbered([_storable(_split_indicators(g)) for g in document.goals])
        existing = {g.number: g for g in plan.goals} if plan else {}
        if mode == PROGRESS_ONLY:
            _refuse_new_goals([number for number, _, _ in numbered if number not in existing])
        result.warnings += _missing_from_document(existing, {number for number, _, _ in numbered})
        resolve = _unit_resolver(administration)
        result.goals = [
            _outcome(doc_goal, number, notes, existing.get(number), mode, result.plan_created, resolve)
            for number, doc_goal, notes in numbered
        ]
        if dry_run:
            return result
        if plan is None:
            plan = _new_plan(administration, document, actor, now, paper_signed_on if archive else None)
            result.plan = plan
        for outcome in result.goals:
            limits.check_time()
            goal = existing.get(outcome.number) or Goal(plan=plan, number=outcome.number, financing_currency=plan.currency)
            _write(goal, outcome, resolve, administration, actor, now)
            if progress:
                progress(1)
        audit.record(
            chain_id=administration.id, action="plan_imported", subject_type="plan", subject_id=plan.id,
            actor_id=actor.id if actor else None, at=now,
            after={  # the document's own approval block has no column of its own: it is kept here
                "kind": document.kind, "archive": archive, "paper_signed_on": paper_signed_on,
                "created": result.created, "updated": result.updated,
                "warnings": stored(result.warnings), "administration": document.administration,
                "governor_name": document.governor_name, "approved_on": document.approved_on,
            },
        )
    return result


# What an import answers of each goal (besides its outcome): the document's columns as read.
_SUMMARY_GOAL_FIELDS: Final = (
    "title", "strategic_documents", "strategic_goal", "strategic_indicator", "financing_amount",
    "financing_not_applicable", "financing_source", "activities", "units", "status_wording", "progress_note",
    "source_cells",
)


def stored(warnings: Iterable[Text]) -> list[dict[str, str]]:
    """Warnings as the database and an import job keep them: each as {"bg": ..., "en": ...}."""
    return [warning.stored() for warning in warnings]


def result_summary(result: ImportResult) -> dict[str, Any]:
    """The import's answer as plain data: what the API answers and an import job keeps."""
    def goal(outcome: GoalOutcome) -> dict[str, Any]:
        doc = outcome.goal
        return {
            **{name: getattr(doc, name) for name in _SUMMARY_GOAL_FIELDS},
            "number": outcome.number, "goal_id": outcome.goal_id, "action": outcome.action, "state": outcome.state,
            "needs_review": outcome.needs_review, "warnings": stored(outcome.warnings),
            "indicators": [vars(i) for i in doc.indicators],
        }

    return {
        "dry_run": result.dry_run, "year": result.year, "kind": result.kind,
        "plan_id": result.plan.id if result.plan else None, "plan_created": result.plan_created,
        "created": result.created, "updated": result.updated, "warnings": stored(result.warnings),
        "goals": [goal(o) for o in result.goals],
    }


def preview_document(document: PlanDocument, *, administration: Administration, actor: User | None) -> ImportResult:
    """The dry run: everything the import would say, nothing written."""
    return import_document(document, administration=administration, actor=actor, dry_run=True)


def _check_archive(document: PlanDocument, paper_signed_on: date | None, now: datetime) -> None:
    """An archive is a past year's report, with the day it was signed on paper (in or after its
    year, and not in the future)."""
    problems = {}
    if document.kind != "report":
        problems["archive"] = "only a year's report is archived"
    elif document.year >= local_today(now).year:
        problems["archive"] = "only a past year's report is archived"
    if paper_signed_on is None:
        problems["paper_signed_on"] = "required"
    elif paper_signed_on > local_today(now) or paper_signed_on.year < document.year:
        problems["paper_signed_on"] = "not a date"
    if problems:
        raise GoalflowError("invalid_input", fields=problems)


def _archive_mode(plan: Plan | None, document: PlanDocument) -> str:
    if plan is not None:
        raise GoalflowError(
            "plan_not_importable", year=plan.year, state=workflow_for("plan").state_label(plan.state, "en"),
            state_bg=workflow_for("plan").state_label(plan.state, "bg"),
        )
    return ARCHIVE


def _mode(plan: Plan | None, document: PlanDocument) -> str:
    if plan is None or plan.state == workflow_for("plan").initial:
        return CREATE
    if plan.state == goals.REPORT_PLAN_STATE and document.kind == "report":
        return PROGRESS_ONLY
    raise GoalflowError(
        "plan_not_importable", year=plan.year, state=workflow_for("plan").state_label(plan.state, "en"),
        state_bg=workflow_for("plan").state_label(plan.state, "bg"),
    )


def _renumbered(doc_goals: list[DocGoal]) -> list[tuple[int, DocGoal, list[Text]]]:
    """(number, goal, notes): a number used twice in one document goes to the later row as the
    next free number, so that neither row is lost (and a second import renumbers the same way)."""
    taken: set[int] = set()
    free = max((g.number for g in doc_goals), default=0) + 1
    numbered = []
    for doc_goal in doc_goals:
        notes: list[Text] = []
        number = doc_goal.number
        if number in taken:
            notes.append(Text(
                f"Номер {number} се среща повече от веднъж; този ред е внесен като цел № {free}.",
                f"No. {number} appears more than once; this row was imported as goal No. {free}.",
            ))
            number, free = free, free + 1
        taken.add(number)
        numbered.append((number, doc_goal, notes))
    return numbered


# What the columns can hold: longer text is cut (the whole cell stays in source_cells), numbers
# beyond the column's precision are left out (their wording stays in the *_text fields and cells).
_TEXT_LIMITS: Final = {
    "financing_source": Goal.__table__.c.financing_source.type.length,
    "status_wording": Goal.__table__.c.status_wording.type.length,
}
_UNIT_LIMIT: Final = Indicator.__table__.c.unit.type.length
_AMOUNT_LIMIT: Final = Decimal(10) ** (Goal.__table__.c.financing_amount.type.precision - 2)
_VALUE_LIMIT: Final = Decimal(10) ** (Indicator.__table__.c.target.type.precision - 4)


def _storable(doc_goal: DocGoal) -> DocGoal:
    """The goal as the database can keep it, with a warning for each value that had to give way."""
    notes: list[Text] = []
    changes: dict[str, Any] = {}
    for name, limit in _TEXT_LIMITS.items():
        text = getattr(doc_goal, name)
        if len(text) > limit:
            changes[name] = text[:limit]
            notes.append(Text(
                f"Текстът „{text[:40]}…“ е съкратен до {limit} знака; целият е в клетките на реда.",
                f"The text “{text[:40]}…” was cut to {limit} characters; the whole is in the row's cells.",
            ))
    if doc_goal.financing_amount is not None and abs(doc_goal.financing_amount) >= _AMOUNT_LIMIT:
        changes["financing_amount"] = None
        notes.append(Text(
            f"Сумата {doc_goal.financing_amount} е твърде голяма и не е записана; тя е в клетките на реда.",
            f"The amount {doc_goal.financing_amount} is too large to keep; it is in the row's cells.",
        ))
    indicators = []
    for ind in doc_goal.indicators:
        values = {name: getattr(ind, name) for name in ("baseline", "target", "achieved")}
        too_large = [name for name, value in values.items() if value is not None and abs(value) >= _VALUE_LIMIT]
        if too_large or len(ind.unit) > _UNIT_LIMIT:
            notes.append(Text(
                f"Стойност на индикатора „{ind.name[:40]}“ е извън допустимото; пазят се текстът и клетките.",
                f"A value of the indicator “{ind.name[:40]}” is out of range; its text and the cells are kept.",
            ))
            ind = dataclasses.replace(ind, unit=ind.unit[:_UNIT_LIMIT], **dict.fromkeys(too_large))
        indicators.append(ind)
    if notes:
        doc_goal = dataclasses.replace(
            doc_goal, **changes, indicators=indicators, warnings=[*doc_goal.warnings, *notes], needs_review=True,
        )
    return _without_control(doc_goal)


def _without_control(doc_goal: DocGoal) -> DocGoal:
    """The row with its control characters removed (PostgreSQL keeps no NUL, XML none of most;
    a file decoded from UTF-16 or typed by hand may carry them), and a warning saying so."""
    clean = printable(doc_goal)
    if clean == doc_goal:
        return doc_goal
    fields = {path.split(".")[0] for path in control_fields(dataclasses.asdict(doc_goal))}
    where = ", ".join(sorted(fields - {"warnings", "source_cells"}))
    note = Text(
        f"Управляващите знаци в клетките на реда ({where or 'source_cells'}) са премахнати; останалият текст е запазен.",
        f"Control characters in the row's cells ({where or 'source_cells'}) were removed; the rest of the text is kept.",
    )
    return dataclasses.replace(clean, warnings=[*clean.warnings, note], needs_review=True)


def _split_indicators(doc_goal: DocGoal) -> DocGoal:
    """Indicators written line by line in one cell (as the exporters write several) become one
    indicator per line again, when every value cell has as many lines as the name cell (or none).
    The document layer keeps such a cell together, in its wording; the plan keeps indicators apart."""
    split = []
    for ind in doc_goal.indicators:
        names = ind.name.split("\n")
        columns = [_lines(text, len(names)) for text in (ind.baseline_text, ind.target_text, ind.achieved_text)]
        if len(names) < 2 or any(c is None for c in columns):
            split.append(ind)
            continue
        for name, baseline, target, achieved in zip(names, *columns, strict=True):
            (b, b_unit), (t, t_unit), (a, a_unit) = map(parse_quantity, (baseline, target, achieved))
            split.append(DocIndicator(
                name=name.strip(), unit=t_unit or b_unit or a_unit, baseline=b, baseline_text=baseline,
                target=t, target_text=target, achieved=a, achieved_text=achieved,
            ))
    return dataclasses.replace(doc_goal, indicators=split)


def _lines(text: str, count: int) -> list[str] | None:
    if not text.strip():
        return [""] * count
    lines = [line.strip() for line in text.split("\n")]
    return lines if len(lines) == count else None


def _refuse_new_goals(numbers: list[int]) -> None:
    if numbers:
        raise GoalflowError("import_new_goals", numbers=", ".join(map(str, numbers)))


def _missing_from_document(existing: dict[int, Goal], named: set[int]) -> list[Text]:
    return [
        Text(
            f"Цел № {number} я няма в документа; остава непроменена.",
            f"Goal No. {number} is not in the document; it stays as it is.",
        )
        for number in sorted(set(existing) - named)
    ]


Resolver = Callable[[list[str]], tuple[list[Unit], list[Text]]]


def _unit_resolver(administration: Administration) -> Resolver:
    """Units by code or full name, compared case-insensitively in Python (SQLite's lower() knows
    only ASCII, and the codes are Cyrillic)."""
    units = db.session.scalars(select(Unit).where(Unit.administration_id == administration.id).order_by(Unit.id)).all()
    index: dict[str, Unit] = {}
    for unit in units:
        index.setdefault(unit.code.casefold(), unit)
        index.setdefault(unit.name.casefold(), unit)

    def resolve(names: list[str]) -> tuple[list[Unit], list[Text]]:
        found: list[Unit] = []
        warnings: list[Text] = []
        for name in names:
            unit = index.get(name.strip().casefold())
            if unit is None:
                warnings.append(Text(
                    f"Няма отговорно звено „{name}“ в администрацията.",
                    f"No responsible unit “{name}” in the administration.",
                ))
            elif unit not in found:
                found.append(unit)
        if not names:
            warnings.append(Text("Не е посочено отговорно звено.", "No responsible unit is named."))
        return found, warnings

    return resolve


def _outcome(
    doc_goal: DocGoal, number: int, notes: list[Text], goal: Goal | None, mode: str, plan_created: bool,
    resolve: Resolver,
) -> GoalOutcome:
    goal_wf = workflow_for("goal")
    warnings = list(doc_goal.warnings) + notes
    units, unit_warnings = resolve(doc_goal.units)
    warnings += unit_warnings
    current = goal.state if goal else goal_wf.initial
    state = current
    if mode == ARCHIVE and doc_goal.state in goal_wf.states:
        state = doc_goal.state  # a year signed on paper: the states its report names
    elif doc_goal.status_wording and doc_goal.state not in goal_wf.states:
        warnings.append(Text(
            f"Статусът „{doc_goal.status_wording}“ не е разпознат; целта е „{state_label(state, 'bg')}“.",
            f"The status “{doc_goal.status_wording}” is not recognised; the goal is “{state_label(state, 'en')}”.",
        ))
    elif doc_goal.state and doc_goal.state != state:
        warnings.append(Text(
            f"Документът посочва „{doc_goal.status_wording}“, а целта е „{state_label(state, 'bg')}“: "
            "състоянието се променя с искане за преход.",
            f"The document says “{doc_goal.status_wording}” but the goal is “{state_label(state, 'en')}”: "
            "the state changes through a transition request.",
        ))
    if mode == PROGRESS_ONLY and goal is not None:
        warnings += _signed_differences(doc_goal, goal, units)
    action = PROGRESS_ONLY if mode == PROGRESS_ONLY else (UPDATE if goal else CREATE)  # an archive creates
    return GoalOutcome(
        number=number, goal=doc_goal, action=action, state=state, warnings=warnings,
        needs_review=bool(doc_goal.needs_review or warnings), goal_id=goal.id if goal else None,
    )


def _signed_differences(doc_goal: DocGoal, goal: Goal, units: list[Unit]) -> list[Text]:
    """The signed columns where the document's cells differ from what the plan would print."""
    columns = [c for c in columns_for(PlanDocument(kind="report"), extra_columns=[ACHIEVED]) if c.field in SIGNED_COLUMNS]
    theirs, ours = goal_values(doc_goal, columns), goal_values(document_goal(goal), columns)
    differ = [SIGNED_COLUMNS[c.field] for c, a, b in zip(columns, theirs, ours, strict=True) if a != b]
    if {u.id for u in units} != goal.unit_ids:
        differ.append(("отговорни звена", "responsible units"))
    if not differ:
        return []
    return [Text(
        f"Планът е утвърден и тези колони не се променят: {', '.join(bg for bg, _ in differ)}; "
        "документът се различава (редът му е запазен).",
        f"The plan is adopted and these columns are not changed: {', '.join(en for _, en in differ)}; "
        "the document differs (its row is kept).",
    )]


def _new_plan(administration: Administration, document: PlanDocument, actor: User | None, now: datetime,
              paper_signed_on: date | None) -> Plan:
    """A draft; or, for an archive (`paper_signed_on`), the archived record of a year signed on paper."""
    plan = Plan(
        administration_id=administration.id, year=document.year,
        currency=document.currency or goals.default_currency(document.year),
        state=ARCHIVED_PLAN_STATE if paper_signed_on else workflow_for("plan").initial,
    )
    if paper_signed_on:
        plan.paper_signed_on = paper_signed_on
        plan.archive_imported_by_id = actor.id if actor else None
        plan.archive_imported_at = now
    db.session.add(plan)
    db.session.flush()
    audit.record(
        chain_id=administration.id, action="plan_created", subject_type="plan", subject_id=plan.id,
        actor_id=actor.id if actor else None, at=now,
        after={"year": plan.year, "currency": plan.currency, "state": plan.state, "from": document.kind,
               "paper_signed_on": paper_signed_on},
    )
    return plan


def _write(goal: Goal, outcome: GoalOutcome, resolve: Resolver, administration: Administration,
           actor: User | None, now: datetime) -> None:
    doc_goal = outcome.goal
    before = snapshot(goal) if goal.id else None
    if outcome.action != PROGRESS_ONLY:
        for name in ("title", "strategic_documents", "strategic_goal", "strategic_indicator",
                     "financing_amount", "financing_source", "financing_not_applicable"):
            setattr(goal, name, getattr(doc_goal, name))
        goal.units = resolve(doc_goal.units)[0]
        goal.indicators = _indicators(goal.indicators if goal.id else [], doc_goal.indicators)
        goal.activities = _activities(goal.activities if goal.id else [], doc_goal.activities)
    if outcome.action != PROGRESS_ONLY or outcome.state == status_to_state(doc_goal.status_wording or ""):
        goal.status_wording = doc_goal.status_wording
    goal.state = outcome.state
    goal.progress_note = doc_goal.progress_note
    goal.needs_review = outcome.needs_review
    goal.import_warnings = stored(outcome.warnings)
    goal.source_cells = list(doc_goal.source_cells)
    goal.updated_at = now
    db.session.add(goal)
    keep_unit_order(goal)
    outcome.goal_id = goal.id
    audit.record(
        chain_id=administration.id, action="goal_imported", subject_type="goal", subject_id=goal.id,
        actor_id=actor.id if actor else None, before=before, after=snapshot(goal), at=now,
    )


def _indicators(old: list[Indicator], new: list[DocIndicator]) -> list[Indicator]:
    """The document's indicators in its order; a row whose name is already there is reused, so
    its id (which quarterly values point to) stays."""
    spare = {i.name: i for i in reversed(old)}
    rows = []
    for position, ind in enumerate(new):
        row = spare.pop(ind.name, None) or Indicator(name=ind.name)
        row.position = position
        for name in ("unit", "baseline", "baseline_text", "target", "target_text", "achieved", "achieved_text"):
            setattr(row, name, getattr(ind, name))
        rows.append(row)
    return rows


def _activities(old: list[Activity], titles: list[str]) -> list[Activity]:
    """Activities by title: one already there keeps its deadline and whether it is done."""
    spare = {a.title: a for a in reversed(old)}
    rows = []
    for position, title in enumerate(titles):
        row = spare.pop(title, None) or Activity(title=title)
        row.position = position
        rows.append(row)
    return rows


def snapshot(goal: Goal) -> dict[str, Any]:
    """What an import replaces, for the audit trail: nothing overwritten is lost."""
    doc = document_goal(goal)
    return {
        "number": goal.number, "title": goal.title, "state": goal.state, "status_wording": goal.status_wording,
        "strategic_documents": goal.strategic_documents, "strategic_goal": goal.strategic_goal,
        "strategic_indicator": goal.strategic_indicator, "financing_amount": goal.financing_amount,
        "financing_not_applicable": goal.financing_not_applicable, "financing_source": goal.financing_source,
        "units": doc.units, "activities": doc.activities,
        "indicators": [vars(i) for i in doc.indicators],
        "progress_note": goal.progress_note, "needs_review": goal.needs_review,
        "warnings": stored(Text.from_stored(w) for w in goal.import_warnings or []), "source_cells": list(goal.source_cells or []),
    }
