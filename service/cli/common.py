"""What every command does alike: a domain error as the command's failure, people and
administrations named on the command line."""

from __future__ import annotations

from typing import NoReturn

import click

from service.extensions import db
from service.kernel.errors import GoalflowError
from service.org.models import Administration, User
from service.org.service import user_by_email


def fail(exc: GoalflowError, lang: str = "en") -> NoReturn:
    """The command's failure: the error's code and its message in `lang` (English, unless the
    command takes --lang)."""
    detail = f" {exc.fields}" if exc.fields else ""
    raise click.ClickException(f"{exc.code}: {exc.message(lang)}{detail}")


def user(email: str) -> User:
    found = user_by_email(email)
    if found is None:
        raise click.ClickException(f"no user {email}")
    return found


def actor(email: str | None) -> User | None:
    """The person named by --as; None: the operator at the command line."""
    return user(email) if email else None


def administration(slug: str) -> Administration:
    found = db.session.scalar(db.select(Administration).where(Administration.slug == slug))
    if found is None:
        raise click.ClickException(f"no administration {slug}")
    return found
