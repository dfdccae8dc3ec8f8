"""The declared workflows: the schema refuses broken definitions, and every transition fires."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from service.kernel.workflow_registry import REGISTRY, workflows
from workflows import (
    Context,
    GuardFailed,
    MissingData,
    UndeclaredTransition,
    Workflow,
    WorkflowDefinitionError,
    load,
)

DEFINITIONS = Path(__file__).resolve().parents[2] / "workflows"


def raw(name: str) -> dict:
    return yaml.safe_load((DEFINITIONS / f"{name}.yaml").read_text(encoding="utf-8"))


class Subject:
    """A stand-in object: the engine needs only `state` and whatever the guards read."""

    def __init__(self, state, **attrs):
        self.state = state
        self.__dict__.update(attrs)


def test_the_three_definitions_load():
    assert set(workflows()) == {"goal", "plan", "progress", "report_entry", "amendment"}
    goal = workflows()["goal"]
    assert goal.initial == "planned"
    assert set(goal.states) == {"planned", "in_progress", "done", "not_done", "dropped"}
    assert {t.name for t in goal.available("in_progress")} == {"complete", "fail", "drop"}


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d.pop("initial"), "'initial' is a required property"),
        (lambda d: d.__setitem__("initial", "nowhere"), "initial state 'nowhere' is not declared"),
        (lambda d: d["transitions"]["start"].__setitem__("to", "limbo"), "the state 'limbo' is not declared"),
        (lambda d: d["transitions"]["start"].__setitem__("guards", ["import_os"]), "'import_os' is not in the registry"),
        (lambda d: d["transitions"]["start"]["stages"][0].__setitem__("rule", "most_of"), "is not one of"),
        (lambda d: d["transitions"]["start"]["stages"][0].__setitem__("rule", "quorum"), "'quorum' is a required property"),
        (lambda d: d["transitions"]["start"].__setitem__("requesters", []), "should be non-empty"),
        (lambda d: d["transitions"]["start"]["requesters"][0].__setitem__("role", "king"), "is not one of"),
        (lambda d: d["states"].__setitem__("orphan", {"bg": "Сираче", "en": "Orphan"}), "unreachable states: orphan"),
        (lambda d: d["transitions"]["complete"].__setitem__("colour", "red"), "Additional properties are not allowed"),
        (lambda d: d["transitions"]["start"].__setitem__("reason", "sometimes"), "is not one of"),
    ],
)
def test_a_broken_definition_is_refused_with_a_clear_message(mutate, message):
    definition = copy.deepcopy(raw("goal"))
    mutate(definition)
    with pytest.raises(WorkflowDefinitionError) as caught:
        Workflow(definition, REGISTRY, source="goal.yaml")
    text = caught.value.message.format(**caught.value.params)
    assert "goal.yaml" in text
    assert message in text


def test_invalid_yaml_is_refused(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: [unclosed", encoding="utf-8")
    with pytest.raises(WorkflowDefinitionError, match="not valid YAML"):
        load(broken, REGISTRY)


def test_a_new_state_is_a_change_to_the_definition_only():
    definition = copy.deepcopy(raw("goal"))
    definition["states"]["partially_done"] = {"bg": "Частично изпълнена", "en": "Partially done"}
    definition["transitions"]["partial"] = {
        "label": {"bg": "Частично", "en": "Partial"},
        "from": ["in_progress"],
        "to": "partially_done",
        "requesters": [{"role": "head", "scope": "responsible_units"}],
    }
    wf = Workflow(definition, REGISTRY)
    subject = Subject("in_progress", plan=Subject("reporting"), indicators=[])
    assert wf.fire("partial", Context(subject=subject)) == "partially_done"


def _subject_for(wf_name: str, state: str) -> Subject:
    """A subject whose guards pass: plan in force, a campaign open, no indicators to fill, a
    report entry with its narrative."""
    plan = Subject("reporting", goals=[object()], id=0)
    return Subject(state, plan=plan, goals=[object()], id=0, indicators=[],
                   campaign=Subject("x", status="open"), goal=Subject("x", indicators=[], plan=plan),
                   values=[], narrative="Изпълнена.", risk="on_track")


ALL_TRANSITIONS = [
    (wf_name, t.name, source)
    for wf_name, wf in workflows().items()
    for t in wf.transitions.values()
    for source in t.sources
]


@pytest.mark.parametrize("wf_name, transition, source", ALL_TRANSITIONS)
def test_every_declared_transition_fires_from_every_source(wf_name, transition, source, monkeypatch):
    wf = workflows()[wf_name]
    # Actions that stamp rows need a database; here only the state change is under test.
    monkeypatch.setattr(wf, "registry", REGISTRY.__class__(
        guards=wf.registry.guards, requirements=wf.registry.requirements,
        actions={name: (lambda ctx: None) for name in wf.registry.actions},
    ))
    if wf_name == "plan" and transition == "submit_report":
        monkeypatch.setitem(wf.registry.guards, "no_open_goal_requests", lambda ctx: None)
    if wf_name == "plan" and transition == "approve_report":  # reads the settings and the signatures
        monkeypatch.setitem(wf.registry.guards, "report_signed", lambda ctx: None)
    subject = _subject_for(wf_name, source)
    assert wf.fire(transition, Context(subject=subject, data={"achieved": {}})) == wf.transitions[transition].dest
    assert subject.state == wf.transitions[transition].dest


@pytest.mark.parametrize("wf_name", sorted(workflows()))
def test_undeclared_moves_are_refused(wf_name):
    wf = workflows()[wf_name]
    for state in wf.states:
        declared = {t.name for t in wf.available(state)}
        for name in set(wf.transitions) - declared:
            subject = _subject_for(wf_name, state)
            with pytest.raises(UndeclaredTransition):
                wf.fire(name, Context(subject=subject))
            assert subject.state == state
    with pytest.raises(UndeclaredTransition):
        wf.transition("teleport")


def test_a_guard_refuses_and_leaves_the_state():
    wf = workflows()["goal"]
    subject = Subject("in_progress", plan=Subject("draft"), indicators=[])
    with pytest.raises(GuardFailed, match="not approved"):
        wf.fire("fail", Context(subject=subject))
    assert subject.state == "in_progress"


def test_complete_needs_an_achieved_value_for_every_indicator():
    wf = workflows()["goal"]
    indicator = Subject("x", id=7, name="Проверки")
    subject = Subject("in_progress", plan=Subject("reporting"), indicators=[indicator])
    with pytest.raises(MissingData) as caught:
        wf.fire("complete", Context(subject=subject, data={"achieved": {}}))
    assert "achieved.7" in caught.value.fields
    assert subject.state == "in_progress"


def test_mermaid_diagram_comes_from_the_definition():
    text = workflows()["goal"].to_mermaid(current="in_progress")
    assert text.startswith("stateDiagram-v2")
    for source, dest, name in [("planned", "in_progress", "start"), ("in_progress", "done", "complete"),
                               ("dropped", "in_progress", "reopen")]:
        assert f"{source} --> {dest} : {name}" in text
    assert "class in_progress current" in text


def test_domains_provide_what_the_kernel_does_not_name():
    """The report's signature and the amendments live in their domains; the kernel imports neither,
    and a second function under a taken name is refused rather than silently replacing the first."""
    from service.goals import amendments
    from service.kernel.workflow_registry import provides
    from service.signatures import service as signatures

    assert REGISTRY.guards["report_signed"] is signatures.report_signed
    assert REGISTRY.actions["apply_plan_amendment"] is amendments.apply_plan_amendment
    with pytest.raises(WorkflowDefinitionError):
        provides("guard", "report_signed")(lambda ctx: None)
    assert REGISTRY.guards["report_signed"] is signatures.report_signed
