"""The one transaction of a user action: commit on success, roll back everything otherwise."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError

from service.errors import GoalflowError, from_workflow
from service.extensions import db
from workflows import WorkflowError


@contextmanager
def transaction() -> Iterator[None]:
    try:
        yield
        db.session.commit()
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
