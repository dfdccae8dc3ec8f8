"""Declared workflows (goal, plan, quarterly progress) and the engine that runs them."""

from workflows.engine import (
    Context,
    GuardFailed,
    MissingData,
    Party,
    Registry,
    StageDef,
    TransitionDef,
    UndeclaredTransition,
    Workflow,
    WorkflowDefinitionError,
    WorkflowError,
    declared_states,
    load,
    load_all,
)

__all__ = [
    "Context", "GuardFailed", "MissingData", "Party", "Registry", "StageDef", "TransitionDef",
    "UndeclaredTransition", "Workflow", "WorkflowDefinitionError", "WorkflowError", "declared_states", "load",
    "load_all",
]
