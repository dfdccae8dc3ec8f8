"""The outbox: messages are rows written in the transaction of the change that causes them; the
worker claims due rows, sends them and marks them sent, retrying with backoff until they are
sent or visibly failed.

A worker claims a batch of due rows (OUTBOX_BATCH_SIZE) in one statement and sends it over one
SMTP connection, writing each message's outcome the moment the server has answered. Its claim
lasts MAIL_CLAIM_SECONDS and is renewed while the batch is being sent, so a live worker keeps its
batch and a dead worker's rows are due again within MAIL_CLAIM_SECONDS. A worker that is asked to
stop (a warm shutdown) finishes the message in hand and hands the rest back at once.

The one window in which a message can go out twice: the SMTP server accepted it and the worker
died before writing "sent". That is the one message the server was taking; its claim then
expires and it is sent again (with the same Message-ID). Nothing is ever lost: a row leaves
"pending" only as "sent" or "failed".
"""

from __future__ import annotations

import contextvars
import hashlib
import logging
import math
import os
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache

from flask import current_app
from sqlalchemy import bindparam, event, func, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import lazyload

from service.db import UTCDateTime, python_value, utcnow
from service.extensions import db
from service.kernel import authz
from service.kernel.common import settings
from service.kernel.errors import GoalflowError, not_found
from service.kernel.uow import transaction
from service.notifications import mailer
from service.notifications.messages import CLAIM_KINDS, render
from service.notifications.models import FAILED, PENDING, SENT, Attachment, Notification
from service.observability import count_deliveries, request_id_var
from service.org.models import User

log = logging.getLogger(__name__)

SENDING = "sending"  # claimed by a worker until next_attempt_at (the claim's expiry)
STATUSES = (PENDING, SENDING, SENT, FAILED)
DELIVER_TASK = "goalflow.deliver_outbox"
MAX_PER_PAGE = 200


def message_key(recipient: str, subject_ref: str, kind: str, due_moment: datetime | str | None) -> str:
    """The identity of a message: the same (recipient, subject, kind, due moment) is sent once."""
    due = due_moment.isoformat() if isinstance(due_moment, datetime) else (due_moment or "")
    return hashlib.sha256(f"{recipient}|{subject_ref}|{kind}|{due}".encode()).hexdigest()


def enqueue(
    *,
    kind: str,
    recipient: User,
    subject_type: str,
    subject_id: int,
    params: dict,
    path: str,
    due_moment: datetime | str | None,
    on_behalf_of: User | None = None,
    attachments: list[tuple[str, str, bytes]] = (),
) -> Notification | None:
    """Add one message to the outbox unless the same one is already there. Returns it when new."""
    key = message_key(recipient.email, f"{subject_type}:{subject_id}", kind, due_moment)
    row = _columns(key, kind, recipient, subject_type, subject_id, params, path, due_moment, on_behalf_of)
    # One statement: a message already queued, or queued at this moment by another transaction,
    # is skipped by its unique key, and the caller's transaction goes on (a decision queues three;
    # a key check and a savepoint around each were a quarter of its round trips). The new row's
    # attachments are not read back: it has none yet.
    new = _insert_new().values(**row).returning(Notification).options(lazyload(Notification.attachments))
    note = db.session.scalars(new).one_or_none()
    if note is None:
        return None
    if attachments:  # assigning even an empty list would read the (empty) collection first
        note.attachments = [Attachment(filename=f, content_type=c, data=d) for f, c, d in attachments]
    db.session.info["outbox_queued"] = True
    return note


def enqueue_many(messages: list[dict]) -> int:
    """Many messages (enqueue's arguments, no attachments) in one statement: those already in the
    outbox, or queued at the same moment by another process, are skipped by their unique key.
    Returns how many are new. For the sweeps, where one round trip per message was the cost."""
    rows: dict[str, dict] = {}
    rendered: dict = {}  # the same message to several people (a goal's new state) is rendered once
    for m in messages:
        key = message_key(m["recipient"].email, f"{m['subject_type']}:{m['subject_id']}", m["kind"], m["due_moment"])
        rows.setdefault(key, _columns(key, m["kind"], m["recipient"], m["subject_type"], m["subject_id"], m["params"],
                                      m["path"], m["due_moment"], m.get("on_behalf_of"), rendered))
    if not rows:
        return 0
    # A Core statement on the transaction's connection: the rows are not objects the session tracks,
    # and the unit of work's bulk path cost more than the INSERT itself.
    db.session.flush()  # the change that causes them is written first, as an ORM statement's autoflush would
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        new = len(connection.execute(_insert_from_arrays(), _as_arrays(list(rows.values()))).all())
    else:
        new = len(connection.execute(_insert_rows_sqlite(), list(rows.values())).all())
    if new:
        db.session.info["outbox_queued"] = True
    return new


def _insert_new():
    """INSERT into the outbox that skips a message whose key is there already (both backends)."""
    insert = postgresql_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    return insert(Notification).on_conflict_do_nothing(index_elements=["key"])


@cache
def _insert_rows_sqlite():
    table = Notification.__table__
    return sqlite_insert(table).on_conflict_do_nothing(index_elements=["key"]).returning(table.c.id)


_OUTBOX_COLUMNS = tuple(c for c in Notification.__table__.c if c.key != "id")


@cache
def _insert_from_arrays():
    """PostgreSQL: the messages as one array per column, unnested. One statement text whatever
    their number, which psycopg keeps parsed and PostgreSQL prepares once (a VALUES row per message
    made a new text for each count, past the parameters psycopg caches the parsing of)."""
    names = [c.key for c in _OUTBOX_COLUMNS]
    arrays = [bindparam(f"a_{c.key}", type_=postgresql.ARRAY(c.type)) for c in _OUTBOX_COLUMNS]
    rows = func.unnest(*arrays).table_valued(*names).render_derived(name="m")
    table = Notification.__table__
    return (
        postgresql_insert(table)
        .from_select(names, select(*(rows.c[name] for name in names)), include_defaults=False)
        .on_conflict_do_nothing(index_elements=["key"]).returning(table.c.id)
    )


def _as_arrays(rows: list[dict]) -> dict:
    """The rows as `_insert_from_arrays` takes them, each column's Python default where a row has no value."""
    arrays = {}
    for column in _OUTBOX_COLUMNS:
        default = column.default
        values = []
        for row in rows:
            if column.key in row:
                values.append(row[column.key])
            elif default is None:
                values.append(None)
            else:
                values.append(python_value(default))
        arrays[f"a_{column.key}"] = values
    return arrays


def _columns(key: str, kind: str, recipient: User, subject_type: str, subject_id: int, params: dict, path: str,
             due_moment: datetime | str | None, on_behalf_of: User | None, rendered: dict | None = None) -> dict:
    lang = recipient.locale if recipient.locale in ("bg", "en") else "bg"
    if subject_type == "transition_request" and kind in CLAIM_KINDS:
        from service.approvals.claims import for_message

        claim, decision = for_message(subject_id, lang)  # what is asked, and a link to the decision
        params, path = {**params, **claim}, decision or path
    link = settings().BASE_URL.rstrip("/") + path
    params = {**params, "on_behalf": params.get("on_behalf") or (on_behalf_of.name if on_behalf_of else "")}
    if rendered is None:
        subject, text, html = render(kind, lang, params, link)
    else:
        same = (kind, lang, link, tuple(sorted((k, str(v)) for k, v in params.items())))
        if same not in rendered:
            rendered[same] = render(kind, lang, params, link)
        subject, text, html = rendered[same]
    return {
        "key": key,
        "kind": kind,
        "recipient_id": recipient.id,
        "on_behalf_of_id": on_behalf_of.id if on_behalf_of else None,
        "email": recipient.email,
        "locale": lang,
        "subject": subject[:300],
        "body_text": text,
        "body_html": html,
        "link": link,
        "subject_type": subject_type,
        "subject_id": subject_id,
        "due_moment": due_moment if isinstance(due_moment, datetime) else None,
        "sender": sender_of(recipient),
    }


def sender_of(recipient: User) -> str:
    """The From of a message: the recipient's administration's name and address where it has set
    an address, else the installation's MAIL_FROM (stored empty)."""
    from email.headerregistry import Address

    administration = recipient.administration
    if administration is None or not administration.mail_from_address:
        return ""
    local, _, domain = administration.mail_from_address.rpartition("@")
    name = administration.mail_from_name or administration.name
    return str(Address(display_name=name, username=local, domain=domain))


# -- nudging the worker after a commit --------------------------------------------------------

@event.listens_for(db.session, "after_commit")
def _after_commit(session) -> None:
    if session.info.pop("outbox_queued", False):
        kick()


@event.listens_for(db.session, "after_soft_rollback")
def _after_rollback(session, previous_transaction) -> None:
    if previous_transaction.parent is None:  # the outer transaction: its messages are gone
        session.info.pop("outbox_queued", None)


def kick() -> None:
    """Ask the worker to deliver now. Best effort and off the request's thread: a broker that
    is down or slow never delays or fails the user's action; beat delivers the rows anyway."""
    try:
        if not settings().OUTBOX_KICK:
            return
        celery = current_app.extensions["celery"]
    except (RuntimeError, KeyError):  # no app context or no worker configured
        return
    _nudger.want(celery)


class _Nudger:
    """One thread per process publishes the nudges. Kicks that come while a nudge is being
    published, or within NUDGE_INTERVAL after it, become one more nudge at the end of that
    interval: none is lost (rows committed after a worker's claim still get theirs), and under
    load the workers get a few tasks a second, each delivering a batch, not one per commit."""

    NUDGE_INTERVAL = 0.2  # seconds

    def __init__(self) -> None:
        self._reset()
        os.register_at_fork(after_in_child=self._reset)  # a forked worker starts its own thread

    def _reset(self) -> None:
        self._lock = threading.Lock()
        self._wanted = threading.Event()
        self._thread: threading.Thread | None = None
        self._celery = None
        self._context: contextvars.Context | None = None

    def want(self, celery) -> None:
        # The latest kicker's request id goes with the task the nudge publishes (only the id:
        # a copy of the whole context would keep the request itself alive until the next kick).
        context = contextvars.Context()
        context.run(request_id_var.set, request_id_var.get())
        with self._lock:
            self._celery, self._context = celery, context
            self._wanted.set()
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="outbox-kick", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            self._wanted.wait()
            with self._lock:
                self._wanted.clear()
                celery, context = self._celery, self._context
            context.run(self._publish, celery)
            time.sleep(self.NUDGE_INTERVAL)

    @staticmethod
    def _publish(celery) -> None:
        try:
            celery.send_task(DELIVER_TASK, retry=False, ignore_result=True)
        except Exception as exc:  # the broker is down: beat will pick the rows up
            log.info("outbox nudge not sent: %s", exc)


_nudger = _Nudger()


# -- delivery -------------------------------------------------------------------------------


@dataclass
class DeliveryReport:
    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    handed_back: int = 0  # claimed, not tried: given back for another run
    ids: list[int] = field(default_factory=list)


def _due(now: datetime):
    """Pending rows whose time has come, and claims whose worker did not finish in time."""
    return (
        Notification.status.in_((PENDING, SENDING)),
        Notification.next_attempt_at <= now,
        Notification.attempts < settings().MAIL_MAX_ATTEMPTS,
    )


def _claim_statement(now: datetime, limit: int | None):
    """The rows to claim are chosen, and locked, once: in a MATERIALIZED common table expression.
    As `id IN (SELECT ... LIMIT n)` the planner may run the limited subquery again for every row
    (a nested-loop semi join, chosen on a table not analysed yet), and one claim then took every
    due row instead of n. The outer UPDATE re-checks each row (SQLite has no row locks)."""
    s = settings()
    candidates = (
        select(Notification.id)
        .where(*_due(now))
        .order_by(Notification.next_attempt_at, Notification.id)
        .limit(limit or s.OUTBOX_BATCH_SIZE)
        .with_for_update(skip_locked=True)
        .cte("claimable")
        .prefix_with("MATERIALIZED")
    )
    return (
        update(Notification)
        .where(Notification.id.in_(select(candidates.c.id)), *_due(now))
        .values(
            status=SENDING,
            next_attempt_at=now + timedelta(seconds=s.MAIL_CLAIM_SECONDS),
            attempts=Notification.attempts + 1,
        )
    )


def claim(*, now: datetime | None = None, limit: int | None = None) -> list[int]:
    """Claim due rows for this worker, in one statement, so that concurrent workers never share
    a row: PostgreSQL skips rows another worker has locked (FOR UPDATE SKIP LOCKED); SQLite
    runs one writer at a time and the UPDATE re-checks each row's status as it claims it."""
    statement = _claim_statement(now or utcnow(), limit).returning(Notification.id)
    with transaction():
        ids = sorted(db.session.scalars(statement.execution_options(synchronize_session=False)))
    return ids


def _claim_rows(now: datetime, limit: int | None) -> list[Notification]:
    """claim(), returning the claimed rows themselves with their attachments (one more query), in
    id order. They leave the session before the commit, as they are: the claim makes them this
    worker's until it expires, so they need not be read again one by one while it sends them."""
    statement = _claim_statement(now, limit).returning(Notification)
    with transaction():
        notes = db.session.scalars(
            statement, execution_options={"synchronize_session": False, "populate_existing": True}
        ).all()
        for note in notes:
            db.session.expunge(note)  # with its attachments
    return sorted(notes, key=lambda note: note.id)


def _give_up_abandoned(now: datetime) -> int:
    """Claims that ran out on their last attempt (the worker died each time) end as failed."""
    statement = (
        update(Notification)
        .where(
            Notification.status == SENDING,
            Notification.next_attempt_at <= now,
            Notification.attempts >= settings().MAIL_MAX_ATTEMPTS,
        )
        .values(status=FAILED, last_error="the worker stopped while delivering this message")
        .execution_options(synchronize_session=False)
    )
    with transaction():
        return db.session.execute(statement).rowcount or 0


def retry_delay(attempt: int) -> timedelta:
    """Exponential backoff with jitter, so that many failed rows do not all return at once."""
    s = settings()
    base = min(s.MAIL_RETRY_MAX_SECONDS, s.MAIL_RETRY_BASE_SECONDS * 2 ** max(attempt - 1, 0))
    return timedelta(seconds=math.ceil(base * random.uniform(0.75, 1.25)))


def _failure(note: Notification, exc: Exception, now: datetime) -> dict:
    """The columns that record a failed attempt: back to pending after a backoff, or failed for good."""
    error = f"{type(exc).__name__}: {exc}"[:2000]
    if note.attempts >= settings().MAIL_MAX_ATTEMPTS:
        log.warning("notification %s failed for good after %s attempts: %s", note.id, note.attempts, error)
        return {"status": FAILED, "last_error": error}
    return {"status": PENDING, "last_error": error, "next_attempt_at": now + retry_delay(note.attempts)}


class _Batch:
    """The claimed rows of one batch while it is being sent, and their writes.

    Each message's outcome is written the moment the server has answered, in one statement on a
    connection of the batch's own in autocommit mode: a worker killed at any moment leaves at most
    the one message the server was taking unrecorded, to be sent again. On PostgreSQL these
    statements do not wait for the commit to reach the disk (`synchronous_commit = off`): a commit
    that waited for its flush cost more than handing the message to the SMTP server. What that
    risks is confined to a crash of PostgreSQL itself, which can forget the last fraction of a
    second of outcomes: those messages stay claimed and are sent again (the repeat the design
    already allows), none is lost.

    A row is written only while it is still this batch's claim (status and claim expiry
    unchanged): a row whose claim ran out and another worker took is that worker's to record."""

    table = Notification.__table__

    def __init__(self, claimed_until: datetime) -> None:
        self.claimed_until = claimed_until
        self.connection = db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        dialect = self.connection.dialect
        self.postgresql = dialect.name == "postgresql"
        if self.postgresql:
            self.connection.exec_driver_sql("SET synchronous_commit TO off")
        self.unrecorded: list[tuple[int, dict]] = []  # outcomes whose statement failed, tried again at the end
        # The statement of nearly every outcome, as the driver takes it: one round trip each, and
        # two thirds of the Python a compiled statement costs (PostgreSQL prepares it after its
        # fifth use). Times go in as the column type stores them.
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        self.mark_sent = (f"UPDATE {self.table.name} SET status = '{SENT}', sent_at = {mark}, last_error = ''"
                          f" WHERE id = {mark} AND status = '{SENDING}' AND next_attempt_at = {mark}")
        self.stored_time = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)

    def _ours(self):
        return self.table.c.status == SENDING, self.table.c.next_attempt_at == self.claimed_until

    def _execute(self, statement, parameters: tuple | None = None):
        try:
            if isinstance(statement, str):
                result = self.connection.exec_driver_sql(statement, parameters)
            else:
                result = self.connection.execute(statement)
            self.connection.commit()  # nothing to commit in autocommit mode; ends SQLAlchemy's own transaction
            return result
        except Exception:
            self.connection.rollback()  # the next statement starts afresh (on a new connection if this one died)
            raise

    def record(self, note_id: int, values: dict) -> None:
        """One outcome, at once. Should the statement fail, the outcome is kept and tried again when
        the batch ends; the caller stops sending (more outcomes could not be recorded either)."""
        self.unrecorded.append((note_id, values))
        self.flush()

    def flush(self) -> None:
        while self.unrecorded:
            note_id, values = self.unrecorded[0]
            if values["status"] == SENT:
                self._execute(self.mark_sent, (self.stored_time(values["sent_at"]), note_id,
                                               self.stored_time(self.claimed_until)))
            else:
                self._execute(update(self.table).where(self.table.c.id == note_id, *self._ours()).values(**values))
            self.unrecorded.pop(0)
            count_deliveries([values["status"]])

    def renew(self, remaining: list[Notification], now: datetime) -> list[Notification]:
        """Extend the claim on the rows not sent yet to MAIL_CLAIM_SECONDS from now: the batch's
        heartbeat. Returns the rows still this batch's (a row whose claim ran out meanwhile, and
        another worker took, is left to it)."""
        until = now + timedelta(seconds=settings().MAIL_CLAIM_SECONDS)
        ours = set(self._execute(
            update(self.table)
            .where(self.table.c.id.in_([note.id for note in remaining]), *self._ours())
            .values(next_attempt_at=until)
            .returning(self.table.c.id)
        ).scalars())
        self.claimed_until = until
        return [note for note in remaining if note.id in ours]

    def release(self, notes: list[Notification]) -> None:
        """Hand back claimed rows this worker will not try now: due again at once, the attempt not counted."""
        if notes:
            self._execute(
                update(self.table)
                .where(self.table.c.id.in_([note.id for note in notes]), *self._ours())
                .values(status=PENDING, attempts=self.table.c.attempts - 1, next_attempt_at=utcnow())
            )

    def close(self) -> None:
        try:
            if self.postgresql:
                self.connection.exec_driver_sql("RESET synchronous_commit")  # the connection goes back to the pool
        finally:
            self.connection.close()


def deliver_due(*, now: datetime | None = None, limit: int | None = None,
                should_stop: Callable[[], bool] | None = None) -> DeliveryReport:
    """Claim a batch of due messages and send them over one SMTP connection, recording each
    outcome as soon as the server has answered (see _Batch).

    The claim lasts MAIL_CLAIM_SECONDS and is renewed, for the rows not sent yet, whenever less
    than two thirds of it is left before a message, so that a live worker keeps its batch however
    long it takes and a dead one's rows are due again soon. `should_stop` (the worker's warm
    shutdown) is asked before each message: once it says so, the rows not sent are handed back."""
    s = settings()
    now = now or utcnow()
    _give_up_abandoned(now)
    notes = _claim_rows(now, limit)
    report = DeliveryReport(claimed=len(notes), ids=[note.id for note in notes])
    if not notes:
        return report
    batch = _Batch(now + timedelta(seconds=s.MAIL_CLAIM_SECONDS))
    renew_below = timedelta(seconds=s.MAIL_CLAIM_SECONDS * 2 / 3)
    queue = list(notes)  # the rows not tried yet
    try:
        with mailer.transport(s) as transport:
            while queue:
                if should_stop is not None and should_stop():
                    break
                if batch.claimed_until - utcnow() < renew_below:
                    queue = batch.renew(queue, utcnow())
                    if not queue:
                        break
                note = queue.pop(0)
                try:
                    transport.send(note, mailer.render(note, s))
                except Exception as exc:  # any refusal or outage: retried later, never lost
                    values = _failure(note, exc, utcnow())
                    report.failed += values["status"] == FAILED
                    report.retrying += values["status"] == PENDING
                else:
                    values = {"status": SENT, "sent_at": utcnow(), "last_error": ""}
                    report.sent += 1
                batch.record(note.id, values)
    finally:
        # Stopped early (shutdown, or an error): outcomes not recorded yet are tried once more, and
        # the rows not tried are handed back, due again at once. Should the database be away, the
        # rows stay claimed and come back when the claim runs out.
        try:
            batch.flush()
            batch.release(queue)
            report.handed_back = len(queue)
        except Exception as exc:
            log.warning("outbox batch not closed cleanly (its claims run out by themselves): %s", exc)
        batch.close()
    return report


def backlog() -> int:
    """Messages not yet sent (pending or being sent)."""
    return db.session.scalar(
        select(func.count()).select_from(Notification).where(Notification.status.in_((PENDING, SENDING)))
    )


# -- reading and operating the outbox -------------------------------------------------------


@dataclass
class OutboxPage:
    items: list[Notification]
    total: int
    page: int
    per_page: int
    counts: dict[str, int]

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


@dataclass
class MessageView:
    notification: Notification
    text: str
    html: str
    attachments: list[tuple[int, str, str, int]]  # (id, filename, content type, size in bytes)
    eml: bytes  # the message as delivered (embedded mode: the .eml file) or as it will be


def _visible(statement, actor: User | None):
    """The messages `actor` may read and act on. Without an actor (the operator at the command
    line) and for the installation's administrator, all; for an administrator, those addressed
    to the people of their own administration; for anyone else, nothing (refused)."""
    if actor is None:
        return statement
    administration_id = authz.administered(actor)
    if administration_id is None:
        return statement
    return statement.where(
        Notification.recipient_id.in_(select(User.id).where(User.administration_id == administration_id))
    )


def list_outbox(
    *, status: str | None = None, page: int = 1, per_page: int = 50, actor: User | None = None
) -> OutboxPage:
    """The outbox `actor` may see (see _visible), newest first, optionally of one status."""
    if status not in (None, "", *STATUSES):
        raise GoalflowError("invalid_input", fields={"status": f"one of {', '.join(STATUSES)}"})
    page, per_page = max(1, int(page)), min(max(1, int(per_page)), MAX_PER_PAGE)
    query = _visible(select(Notification), actor)
    if status:
        query = query.where(Notification.status == status)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    items = db.session.scalars(
        query.order_by(Notification.created_at.desc(), Notification.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    by_status = _visible(select(Notification.status, func.count()), actor).group_by(Notification.status)
    counts = dict(db.session.execute(by_status).all())
    return OutboxPage(list(items), total, page, per_page, {s: counts.get(s, 0) for s in STATUSES})


def _message(message_id: int, actor: User | None) -> Notification:
    note = db.session.scalar(_visible(select(Notification).where(Notification.id == message_id), actor))
    if note is None:
        raise not_found()  # another administration's message is no message at all
    return note


def read_message(message_id: int, *, actor: User | None = None) -> MessageView:
    note = _message(message_id, actor)
    eml = mailer.read_eml(note, settings()) or mailer.render(note, settings())
    return MessageView(
        notification=note,
        text=note.body_text,
        html=note.body_html,
        attachments=[(a.id, a.filename, a.content_type, len(a.data)) for a in note.attachments],
        eml=eml,
    )


def retry_failed(*, ids: list[int] | None = None, actor: User | None = None) -> int:
    """Give failed messages (all `actor` may see, or these of them) a fresh set of attempts. Returns how many."""
    statement = _visible(
        update(Notification)
        .where(Notification.status == FAILED)
        .values(status=PENDING, attempts=0, next_attempt_at=utcnow())
        .execution_options(synchronize_session=False),
        actor,
    )
    if ids is not None:
        statement = statement.where(Notification.id.in_(ids))
    with transaction():
        count = db.session.execute(statement).rowcount or 0
        if count:
            db.session.info["outbox_queued"] = True
    return count
