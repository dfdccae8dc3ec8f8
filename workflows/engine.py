"""Builds `transitions` machines from the declared definitions and fires them.

The engine knows nothing of Flask or of the database: it receives a context that carries the
subject (any object with a ``state`` attribute), the request's data and the actor, runs the
guards and actions named by the definition from a fixed registry, and changes ``subject.state``.
It never commits: the caller owns the transaction and rolls back on any exception.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from transitions import Machine, MachineError

DEFINITIONS_DIR = Path(__file__).resolve().parent
SCHEMA_PATH = DEFINITIONS_DIR / "schema.json"


class WorkflowError(Exception):
    """A rule of a workflow refused something. `code` is stable; `params` fill the message."""

    code = "workflow_error"

    def __init__(self, message: str, **params: Any):
        super().__init__(message)
        self.message = message
        self.params = params


class WorkflowDefinitionError(WorkflowError):
    code = "workflow_definition_invalid"


class UndeclaredTransition(WorkflowError):
    code = "transition_not_declared"


class GuardFailed(WorkflowError):
    code = "transition_not_allowed_now"


class MissingData(WorkflowError):
    code = "transition_data_invalid"

    def __init__(self, message: str, fields: dict[str, str], **params: Any):
        super().__init__(message, **params)
        self.fields = fields


@dataclass
class Context:
    """What a guard, requirement or action sees."""

    subject: Any
    data: Mapping[str, Any] = field(default_factory=dict)
    actor: Any = None
    extra: dict[str, Any] = field(default_factory=dict)


Guard = Callable[[Context], str | None]  # returns why it refuses, or None
Requirement = Callable[[Context], dict[str, str]]  # returns per-field problems
Action = Callable[[Context], None]


@dataclass(frozen=True)
class Registry:
    """The fixed set of names a definition may use, with their implementations."""

    guards: Mapping[str, Guard] = field(default_factory=dict)
    requirements: Mapping[str, Requirement] = field(default_factory=dict)
    actions: Mapping[str, Action] = field(default_factory=dict)


@dataclass(frozen=True)
class Party:
    role: str
    scope: str = "administration"  # or responsible_units


@dataclass(frozen=True)
class StageDef:
    name: str
    label: Mapping[str, str]
    approvers: Party
    rule: str
    quorum: int | None
    requester_counts: bool


@dataclass(frozen=True)
class TransitionDef:
    name: str
    label: Mapping[str, str]
    sources: tuple[str, ...]
    dest: str
    reason_required: bool
    requires: tuple[str, ...]
    guards: tuple[str, ...]
    actions: tuple[str, ...]
    fresh_login: bool
    requesters: tuple[Party, ...]
    stages: tuple[StageDef, ...]
    # Once applied, the same person asks for `then` (a submission asks for its signature).
    then: str | None = None
    # A request for this transition that is rejected applies `rejected` (the signer returns it).
    rejected: str | None = None


class _Subject:
    """The model `transitions` moves; kept apart from ORM objects so that the machine adds
    no attributes to them."""

    def __init__(self, state: str):
        self.state = state


class Workflow:
    def __init__(self, raw: Mapping[str, Any], registry: Registry, *, source: str = "<definition>"):
        _validate(raw, registry, source)
        self.name: str = raw["name"]
        self.subject: str = raw["subject"]
        self.label: Mapping[str, str] = raw["label"]
        self.initial: str = raw["initial"]
        self.states: Mapping[str, Mapping[str, str]] = raw["states"]
        # Named sets of states the product asks about ("active": reported on and reminded of).
        self.groups: Mapping[str, tuple[str, ...]] = {k: tuple(v) for k, v in raw.get("groups", {}).items()}
        self.registry = registry
        self.transitions: dict[str, TransitionDef] = {
            name: _transition(name, t) for name, t in raw["transitions"].items()
        }
        self._machine_spec = [
            {"trigger": t.name, "source": list(t.sources), "dest": t.dest} for t in self.transitions.values()
        ]

    # -- questions -------------------------------------------------------------------------

    def transition(self, name: str) -> TransitionDef:
        try:
            return self.transitions[name]
        except KeyError:
            raise UndeclaredTransition(
                "The {workflow} workflow declares no transition '{transition}'.",
                workflow=self.name,
                transition=name,
            ) from None

    def available(self, state: str) -> list[TransitionDef]:
        """Transitions declared from `state`, in definition order (who may ask is the caller's rule)."""
        return [t for t in self.transitions.values() if state in t.sources]

    def group(self, name: str) -> tuple[str, ...]:
        """The states of a declared group, in definition order; KeyError if it is not declared."""
        members = set(self.groups[name])
        return tuple(state for state in self.states if state in members)

    def state_label(self, state: str, lang: str = "bg") -> str:
        return self.states.get(state, {}).get(lang, state)

    def refusing_guard(self, t: TransitionDef, ctx: Context) -> tuple[str, str] | None:
        """The first guard that refuses, as (its name, its message); None when all pass."""
        for name in t.guards:
            why = self.registry.guards[name](ctx)
            if why:
                return name, why
        return None

    def refusal(self, t: TransitionDef, ctx: Context) -> str | None:
        """The first guard that refuses, as its message; None when all pass."""
        found = self.refusing_guard(t, ctx)
        return found[1] if found else None

    def data_problems(self, t: TransitionDef, ctx: Context) -> dict[str, str]:
        problems: dict[str, str] = {}
        for name in t.requires:
            problems.update(self.registry.requirements[name](ctx))
        return problems

    # -- the one way a state changes ---------------------------------------------------------

    def fire(self, name: str, ctx: Context) -> str:
        """Apply transition `name` to ctx.subject: check source, guards and data, run the actions."""
        t = self.transition(name)
        state = ctx.subject.state
        if state not in t.sources:
            raise UndeclaredTransition(
                "'{transition}' is not declared from the state '{state}' in the {workflow} workflow.",
                workflow=self.name,
                transition=name,
                state=state,
            )
        why = self.refusal(t, ctx)
        if why:
            raise GuardFailed(why, transition=name)
        problems = self.data_problems(t, ctx)
        if problems:
            raise MissingData("The transition needs more data.", problems, transition=name)
        model = _Subject(state)
        machine = Machine(
            model=model,
            states=list(self.states),
            transitions=self._machine_spec,
            initial=state,
            auto_transitions=False,
            ignore_invalid_triggers=False,
        )
        try:
            model.trigger(name)
        except MachineError as exc:  # the definition and the machine disagree: a bug, not input
            raise UndeclaredTransition(str(exc), transition=name, state=state) from exc
        del machine
        ctx.subject.state = model.state
        for action in t.actions:
            self.registry.actions[action](ctx)
        return model.state

    def to_mermaid(self, current: str | None = None, lang: str = "en") -> str:
        lines = ["stateDiagram-v2", f"    [*] --> {self.initial}"]
        for state, label in self.states.items():
            lines.append(f'    {state} : {label[lang]}')
        for t in self.transitions.values():
            for source in t.sources:
                lines.append(f"    {source} --> {t.dest} : {t.name}")
        if current:
            lines += ["    classDef current fill:#ffd54f,stroke:#333,stroke-width:2px", f"    class {current} current"]
        return "\n".join(lines) + "\n"


def _transition(name: str, raw: Mapping[str, Any]) -> TransitionDef:
    return TransitionDef(
        name=name,
        label=raw["label"],
        sources=tuple(raw["from"]),
        dest=raw["to"],
        reason_required=raw.get("reason", "optional") == "required",
        requires=tuple(raw.get("requires", ())),
        guards=tuple(raw.get("guards", ())),
        actions=tuple(raw.get("actions", ())),
        fresh_login=bool(raw.get("fresh_login", False)),
        requesters=tuple(Party(**p) for p in raw["requesters"]),
        stages=tuple(
            StageDef(
                name=s["name"],
                label=s.get("label", {"bg": s["name"], "en": s["name"]}),
                approvers=Party(**s["approvers"]),
                rule=s["rule"],
                quorum=s.get("quorum"),
                requester_counts=bool(s.get("requester_counts", False)),
            )
            for s in raw.get("stages", ())
        ),
        then=raw.get("then"),
        rejected=raw.get("rejected"),
    )


@cache
def _schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def _validate(raw: Any, registry: Registry, source: str) -> None:
    """Schema first, then the cross-references a schema cannot express."""
    errors = sorted(jsonschema.Draft202012Validator(_schema()).iter_errors(raw), key=lambda e: list(e.path))
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.absolute_path) or "(top level)"
        raise WorkflowDefinitionError(
            "Workflow definition {source} is invalid at {where}: {problem}",
            source=source,
            where=where,
            problem=first.message,
        )
    states = set(raw["states"])

    def fail(where: str, problem: str) -> None:
        raise WorkflowDefinitionError(
            "Workflow definition {source} is invalid at {where}: {problem}",
            source=source,
            where=where,
            problem=problem,
        )

    if raw["initial"] not in states:
        fail("initial", f"the initial state '{raw['initial']}' is not declared in states")
    kinds = (("guards", registry.guards), ("requires", registry.requirements), ("actions", registry.actions))
    for name, t in raw["transitions"].items():
        for state in [*t["from"], t["to"]]:
            if state not in states:
                fail(f"transitions/{name}", f"the state '{state}' is not declared in states")
        for key, known in kinds:
            for item in t.get(key, ()):
                if item not in known:
                    fail(f"transitions/{name}/{key}", f"'{item}' is not in the registry ({', '.join(sorted(known))})")
        follow = t.get("then")
        if follow is not None and (follow not in raw["transitions"] or t["to"] not in raw["transitions"][follow]["from"]):
            fail(f"transitions/{name}/then", f"'{follow}' is not a transition declared from '{t['to']}'")
        rejected = t.get("rejected")
        if rejected is not None:
            if rejected not in raw["transitions"] or not set(t["from"]) <= set(raw["transitions"][rejected]["from"]):
                fail(f"transitions/{name}/rejected", f"'{rejected}' is not a transition declared from {t['from']}")
            if not t.get("stages"):
                fail(f"transitions/{name}/rejected", "only a transition with stages can be rejected")
        stage_names = [s["name"] for s in t.get("stages", ())]
        if len(stage_names) != len(set(stage_names)):
            fail(f"transitions/{name}/stages", "stage names must be unique")
    for group, members in raw.get("groups", {}).items():
        for state in members:
            if state not in states:
                fail(f"groups/{group}", f"the state '{state}' is not declared in states")
    reachable = {raw["initial"]} | {t["to"] for t in raw["transitions"].values()}
    unreachable = states - reachable
    if unreachable:
        fail("states", f"unreachable states: {', '.join(sorted(unreachable))}")


def load(path: Path | str, registry: Registry) -> Workflow:
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise WorkflowDefinitionError(
            "Workflow definition {source} is not valid YAML: {problem}", source=path.name, problem=str(exc)
        ) from exc
    return Workflow(raw, registry, source=path.name)


def load_all(registry: Registry, directory: Path | str | None = None) -> dict[str, Workflow]:
    workflows = {}
    for path in sorted(Path(directory or DEFINITIONS_DIR).glob("*.yaml")):
        wf = load(path, registry)
        workflows[wf.name] = wf
    return workflows


def declared_states(subject: str, directory: Path | str | None = None) -> dict[str, dict[str, str]]:
    """The states of the workflow of `subject` with their labels, in definition order, read from
    the definitions themselves (for code that must not load the service: the documents)."""
    return _declared_states(str(directory or DEFINITIONS_DIR), subject)


@cache
def _declared_states(directory: str, subject: str) -> dict[str, dict[str, str]]:
    for path in sorted(Path(directory).glob("*.yaml")):
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        if isinstance(raw, dict) and raw.get("subject") == subject:
            return {state: dict(label) for state, label in raw["states"].items()}
    raise KeyError(subject)
