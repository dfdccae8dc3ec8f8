"""Password guessing is limited per address and per account, without locking the account's owner out.

Every endpoint that checks a password is decorated with `login_limits`; they share one count, kept in
the database (table login_failures), which every web process of every mode shares: gunicorn's
workers in embedded mode as much as the web containers in production.

Only failures count (a wrong email or password); someone who types the password right is never
slowed down by their own successes. Within the window of LOGIN_RATE_LIMIT ("10 per minute"):

- an address with that many failures (for any accounts) is refused, whatever it tries next;
- an account with that many failures (from anywhere) is refused only to the addresses that have
  failed on it themselves. The owner, at an address that has not been failing, still signs in with
  the right password (OWASP: no lockout anyone can cause), while each guessing address gets at most
  one try per window at a locked account.

A refused attempt answers 429 with Retry-After, checks no password and is not counted itself. Each
lock is logged with its address when it begins, and so is each attempt it refuses.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import lru_cache, wraps

from flask import Flask, Response, g, request
from flask_babel import gettext as _
from flask_login import current_user
from limits import parse
from sqlalchemy import delete, func, select
from werkzeug.exceptions import TooManyRequests

from service.auth.models import LoginFailure
from service.db import utcnow
from service.extensions import db
from service.kernel.common import settings
from service.kernel.text import without_control

log = logging.getLogger(__name__)


@lru_cache(maxsize=8)
def _policy(limit: str) -> tuple[int, timedelta]:
    item = parse(limit)
    return item.amount, timedelta(seconds=item.get_expiry())


def policy() -> tuple[int, timedelta]:
    """How many failures, within how long (LOGIN_RATE_LIMIT, e.g. "10 per minute")."""
    return _policy(settings().LOGIN_RATE_LIMIT)


def account_key() -> str:
    """The account being tried: the form's or the JSON body's email, else the signed-in person."""
    email = request.form.get("email") if request.form else None
    if email is None and request.is_json:
        body = request.get_json(silent=True)
        email = body.get("email") if isinstance(body, dict) else None
    if email is None and current_user.is_authenticated:
        email = current_user.email
    # Only a key to count by: a control character (PostgreSQL keeps no NUL) cannot be part of it.
    return without_control(str(email or "")).strip().lower()[:254]


def client_address() -> str:
    """The caller's address: the peer's, or the one the trusted proxies report (TRUSTED_PROXY_HOPS)."""
    return (request.remote_addr or "unknown")[:64]


def _failures(since: datetime, *conditions) -> tuple[int, datetime | None]:
    count, oldest = db.session.execute(
        select(func.count(), func.min(LoginFailure.at)).where(LoginFailure.at > since, *conditions)
    ).one()
    return count, oldest


def refusal(account: str, address: str, *, now: datetime | None = None) -> int | None:
    """Seconds until `address` may try `account` again, or None when it may try now."""
    now = now or utcnow()
    allowed, window = policy()
    since = now - window
    by_address, oldest = _failures(since, LoginFailure.address == address)
    if by_address < allowed and account:
        by_account, oldest = _failures(since, LoginFailure.account == account)
        if by_account < allowed:
            return None
        mine, _ = _failures(since, LoginFailure.account == account, LoginFailure.address == address)
        if not mine:
            return None  # this address has not been guessing: the account's owner, perhaps
    elif by_address < allowed:
        return None
    return max(1, math.ceil((oldest + window - now).total_seconds()))


def record_failure(account: str, address: str, *, now: datetime | None = None) -> None:
    """Count one failure, in its own transaction; log the lock it starts, if any."""
    now = now or utcnow()
    allowed, window = policy()
    since = now - window
    db.session.rollback()  # whatever the refused request had begun is not kept
    db.session.execute(delete(LoginFailure).where(LoginFailure.at <= now - 2 * window))  # a small table
    db.session.add(LoginFailure(at=now, account=account, address=address))
    db.session.flush()
    by_address, _ = _failures(since, LoginFailure.address == address)
    by_account, _ = _failures(since, LoginFailure.account == account) if account else (0, None)
    db.session.commit()
    if by_address == allowed:
        log.warning("sign-in locked for address %s: %d failures within %s", address, by_address, window,
                    extra={"address": address, "lock": "address"})
    if by_account == allowed:
        log.warning("sign-in to %r locked for the addresses that failed on it: %d failures within %s, "
                    "the last from %s", account, by_account, window, address,
                    extra={"address": address, "account": account, "lock": "account"})


def _failed(response: Response) -> bool:
    """A password (or email) was refused: a 401 page, or a problem with code invalid_credentials."""
    if response.status_code != 401:
        return False
    if response.mimetype == "application/problem+json":
        return (response.get_json(silent=True) or {}).get("code") == "invalid_credentials"
    return True


def _count_failure(response: Response) -> Response:
    attempt = g.pop("login_attempt", None)
    if attempt is not None and _failed(response):
        record_failure(*attempt)
    return response


def init_limits(app: Flask) -> None:
    try:
        _policy(app.config["GOALFLOW"].LOGIN_RATE_LIMIT)
    except ValueError as exc:
        raise RuntimeError(f"LOGIN_RATE_LIMIT is not a limit such as '10 per minute': {exc}") from exc
    # After the error handlers: a refused password raised as GoalflowError is counted too.
    app.after_request(_count_failure)


def password_given() -> bool:
    """The JSON body carries a `password` (a re-confirmation with a decision)."""
    body = request.get_json(silent=True) if request.is_json else None
    return isinstance(body, dict) and bool(body.get("password"))


def login_limits(view: Callable | None = None, *, when: Callable[[], bool] | None = None) -> Callable:
    """Decorate a view that checks a password: refused while locked, its failures counted.

    `when`: the view checks a password only sometimes (a decision re-confirmed with the password);
    the failures are looked up only when it does, not on every call."""
    if view is None:
        return lambda v: login_limits(v, when=when)

    @wraps(view)
    def limited(*args, **kwargs):
        if request.method not in ("GET", "HEAD") and (when is None or when()):
            account, address = account_key(), client_address()
            wait = refusal(account, address)
            if wait is not None:
                log.warning("sign-in refused (locked) for %r from %s, %d s to wait", account, address, wait,
                            extra={"address": address, "account": account})
                raise TooManyRequests(
                    _("Too many failed sign-ins. Try again in %(seconds)s seconds.", seconds=wait), retry_after=wait
                )
            g.login_attempt = (account, address)
        return view(*args, **kwargs)

    return limited
