"""The one transaction of a user action: commit on success, roll back everything otherwise."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy import event
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError

from service.errors import GoalflowError, from_workflow
from service.extensions import db
from workflows import WorkflowError


@contextmanager
def transaction(*, keep_loaded: bool = False) -> Iterator[None]:
    """`keep_loaded`: what the transaction read and wrote stays loaded after the commit, so that the
    answer built from it (a decision's request) is not read again; only for objects the
    transaction itself locked or wrote, which nobody else can have changed meanwhile."""
    session = db.session()
    expire_on_commit = session.expire_on_commit
    session.expire_on_commit = not keep_loaded
    try:
        yield
        session.commit()
    except GoalflowError:
        db.session.rollback()
        raise
    except WorkflowError as exc:
        db.session.rollback()
        raise from_workflow(exc) from exc
    except (StaleDataError, IntegrityError) as exc:
        # Someone else changed the same rows first: one wins, the other is told so.
        db.session.rollback()
        raise GoalflowError("conflict") from exc
    except OperationalError as exc:
        db.session.rollback()
        if "locked" in str(exc).lower() or "could not serialize" in str(exc).lower():
            raise GoalflowError("conflict") from exc
        raise
    except BaseException:
        db.session.rollback()
        raise
    finally:
        session.expire_on_commit = expire_on_commit


# -- reads remembered for one transaction ------------------------------------------------------

_REMEMBERED = "uow_remembered"
T = TypeVar("T")


def remembered(name: str, key: Hashable, read: Callable[[], T], *, until_changed: tuple[type, ...] = ()) -> T:
    """`read()` once per transaction for this `name` and `key`: a decision asks the same questions
    (whose units, who stands in for whom, the chain's head) several times. Forgotten when the
    transaction ends, and when a flush writes an object of a type in `until_changed`."""
    answers, depends = db.session.info.setdefault(_REMEMBERED, ({}, {}))
    depends[name] = until_changed
    found = answers.setdefault(name, {})
    if key not in found:
        found[key] = read()
    return found[key]


@event.listens_for(db.session, "before_flush")
def _forget_changed(session, flush_context, instances) -> None:
    if _REMEMBERED not in session.info:
        return
    answers, depends = session.info[_REMEMBERED]
    changed = (*session.new, *session.dirty, *session.deleted)
    for name, types in depends.items():
        if types and name in answers and any(isinstance(obj, types) for obj in changed):
            del answers[name]


@event.listens_for(db.session, "after_transaction_end")
def _forget_all(session, transaction) -> None:
    if transaction.parent is None:  # the outer transaction, not a savepoint inside it
        session.info.pop(_REMEMBERED, None)
