"""Personal API tokens: shown once, stored as SHA-256, named, expiring and revocable."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import joinedload

from service.audit import service as audit
from service.db import utcnow
from service.extensions import db
from service.kernel.common import settings
from service.kernel.errors import GoalflowError
from service.kernel.uow import transaction
from service.org.models import ApiToken, User

PREFIX = "gf_"
USE_RECORDED_EVERY = timedelta(minutes=5)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(*, user: User, name: str = "api", days: int | None = None, now: datetime | None = None) -> tuple[ApiToken, str]:
    """Returns the row and the secret; the secret is never stored and cannot be shown again."""
    now = now or utcnow()
    name = (name or "api").strip()[:100]
    days = settings().TOKEN_DEFAULT_DAYS if days is None else days
    if not 1 <= days <= 366:
        raise GoalflowError("invalid_input", fields={"days": "between 1 and 366"})
    secret = PREFIX + secrets.token_urlsafe(32)
    with transaction():
        token = ApiToken(
            user_id=user.id, name=name, token_hash=_digest(secret), prefix=secret[:10],
            created_at=now, expires_at=now + timedelta(days=days),
        )
        db.session.add(token)
        db.session.flush()
        audit.record(
            chain_id=user.administration_id or 0, action="token_issued", subject_type="user", subject_id=user.id,
            actor_id=user.id, after={"token": token.id, "name": name, "expires_at": token.expires_at}, at=now,
        )
    return token, secret


@cache
def _token_with_its_person():
    """Built once: building the statement cost as much as running it."""
    return (
        select(ApiToken.id, ApiToken.revoked_at, ApiToken.expires_at, ApiToken.last_used_at, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == bindparam("token_hash"))
        .options(joinedload(User.roles))
    )


def user_for_token(secret: str, *, now: datetime | None = None) -> User | None:
    now = now or utcnow()
    if not secret.startswith(PREFIX):
        return None
    # The token's row and its person with their roles in one round trip: every API call starts
    # here. The token is a plain row (not an object the session tracks); only the person is one.
    row = db.session.execute(_token_with_its_person(), {"token_hash": _digest(secret)}).unique().one_or_none()
    if row is None:
        return None
    token_id, revoked_at, expires_at, last_used_at, user = row
    if revoked_at is not None or expires_at <= now:
        return None
    if user is None or not user.active:
        return None
    if last_used_at is None or now - last_used_at > USE_RECORDED_EVERY:
        # Recorded now and then, not on every call: enough to tell a forgotten token from one in use.
        db.session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))
        db.session.commit()
    return user


def revoke_token(*, user: User, token_id: int, now: datetime | None = None) -> None:
    now = now or utcnow()
    with transaction():
        token = db.session.get(ApiToken, token_id)
        if token is None or token.user_id != user.id:
            raise GoalflowError("not_found")
        if token.revoked_at is None:
            token.revoked_at = now
            audit.record(
                chain_id=user.administration_id or 0, action="token_revoked", subject_type="user",
                subject_id=user.id, actor_id=user.id, after={"token": token.id}, at=now,
            )


def revoke_all_access(*, user: User, actor: User, why: str, now: datetime | None = None) -> int:
    """End every way `user` is signed in: all their API tokens and all their browser sessions.

    Called inside the caller's transaction when the password changes or the account is disabled. A
    revoked token stays revoked: enabling the account again brings none back, nor any old cookie
    (their session generation has moved on). Returns how many tokens were revoked.
    """
    now = now or utcnow()
    user.session_generation += 1
    revoked = db.session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session="fetch")
    ).rowcount
    if revoked:
        audit.record(
            chain_id=user.administration_id or 0, action="tokens_revoked", subject_type="user", subject_id=user.id,
            actor_id=actor.id, after={"tokens": revoked, "why": why}, at=now,
        )
    return revoked


def list_tokens(user: User) -> list[ApiToken]:
    return list(db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)))
