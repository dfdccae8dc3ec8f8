"""The one transaction of a user action: commit on success, roll back everything otherwise."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy import event, inspect
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError

from service.extensions import db
from service.kernel.errors import GoalflowError, from_workflow
from workflows import WorkflowError


@contextmanager
def transaction(*, keep: list | None = None) -> Iterator[None]:
    """`keep`: the objects the block puts in this list stay loaded after the commit, as the
    transaction wrote them, so that the answer built from them is not read again (a decision's
    request); everything else the session holds is expired by the commit as usual.

    A block inside another joins it: the outer block commits or rolls back the whole (a decision
    whose last approval applies the transition is one transaction, not two)."""
    session = db.session()
    if session.info.get(_DEPTH):
        yield
        return
    session.info[_DEPTH] = True
    try:
        yield
        if keep is None:
            session.commit()
        else:
            _commit_keeping(session, keep)
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
        session.info.pop(_DEPTH, None)


_DEPTH = "uow_in_transaction"
_KEPT = "uow_kept"


def _commit_keeping(session, keep: list) -> None:
    expire_on_commit, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
    finally:
        session.expire_on_commit = expire_on_commit
    # Held by the session until its next such commit: the identity map holds its objects weakly, and
    # the answer may need one the caller does not hold (a decision's object, named by its claim).
    session.info[_KEPT] = list(keep)
    kept = {id(obj) for obj in keep}
    for obj in list(session.identity_map.values()):
        if id(obj) not in kept:
            session.expire(obj)


def mark_written(*objects) -> None:
    """The flush's hooks wrote these objects' changes themselves (one statement for several rows):
    each is marked as in the database now, so that the unit of work finds nothing of them to write.
    SQLAlchemy's own step after a flush (`InstanceState._commit_all`), as no public call does it."""
    session = db.session()
    for obj in objects:
        state = inspect(obj)
        state._commit_all(state.dict, session.identity_map)


# -- reads remembered for one transaction ------------------------------------------------------

_REMEMBERED = "uow_remembered"
T = TypeVar("T")


def remembered(name: str, key: Hashable, read: Callable[[], T], *, until_changed: tuple[type, ...] = ()) -> T:
    """`read()` once per transaction for this `name` and `key`: a decision asks the same questions
    (whose units, who stands in for whom, the chain's head) several times. Forgotten when the
    transaction ends or a savepoint in it rolls back, and when a flush writes an object of a type
    in `until_changed`."""
    answers, depends = db.session.info.setdefault(_REMEMBERED, ({}, {}))
    depends[name] = until_changed
    found = answers.setdefault(name, {})
    if key not in found:
        found[key] = read()
    return found[key]


def remember(name: str, key: Hashable, value: T, *, until_changed: tuple[type, ...] = ()) -> None:
    """Remember an answer read together with another one (`remembered` then finds it), unless a
    read of its own came first."""
    remembered(name, key, lambda: value, until_changed=until_changed)


def remembered_answers(name: str) -> dict:
    """What is remembered under `name` in this transaction, by key (empty: nothing)."""
    answers = db.session.info.get(_REMEMBERED)
    return answers[0].get(name, {}) if answers else {}


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


@event.listens_for(db.session, "after_soft_rollback")
def _forget_rolled_back(session, previous_transaction) -> None:
    # A savepoint rolled back may take rows (a new chain head) and row locks with it.
    session.info.pop(_REMEMBERED, None)
