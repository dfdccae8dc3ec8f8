"""The outbox: messages are rows written in the transaction of the change that causes them; the
worker claims due rows, sends them and marks them sent, retrying with backoff until they are
sent or visibly failed.

A worker claims a batch of due rows (OUTBOX_BATCH_SIZE) in one statement and sends it over one
SMTP connection. It commits the outcomes together every COMMIT_EVERY (10) messages, at once after
a message the server was slow to take, and at the end of the batch; it starts no message once
the batch's claim is about to expire, and hands the rest back.

The one window in which a message can go out twice: the SMTP server accepted it and the worker
died before committing "sent". That is at most the COMMIT_EVERY messages of the batch that the
server took in quick succession just before (one message when the server is slow). Their claim
then expires and they are sent again (with the same Message-ID). Nothing is ever lost: a row
leaves "pending" only as "sent" or "failed".
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
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import bindparam, event, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import lazyload

from service.common import settings
from service.db import UTCDateTime, utcnow
from service.errors import GoalflowError, forbidden, not_found
from service.extensions import db
from service.notifications import mailer
from service.notifications.messages import CLAIM_KINDS, render
from service.notifications.models import FAILED, PENDING, SENT, Attachment, Notification
from service.observability import note_deliveries, request_id_var
from service.org.models import Role, User
from service.uow import transaction

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
    for m in messages:
        key = message_key(m["recipient"].email, f"{m['subject_type']}:{m['subject_id']}", m["kind"], m["due_moment"])
        rows.setdefault(key, _columns(key, m["kind"], m["recipient"], m["subject_type"], m["subject_id"], m["params"],
                                      m["path"], m["due_moment"], m.get("on_behalf_of")))
    if not rows:
        return 0
    new = len(db.session.execute(_insert_new().returning(Notification.id), list(rows.values())).all())
    if new:
        db.session.info["outbox_queued"] = True
    return new


def _insert_new():
    """INSERT into the outbox that skips a message whose key is there already (both backends)."""
    insert = postgresql_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    return insert(Notification).on_conflict_do_nothing(index_elements=["key"])


def _columns(key: str, kind: str, recipient: User, subject_type: str, subject_id: int, params: dict, path: str,
             due_moment: datetime | str | None, on_behalf_of: User | None) -> dict:
    lang = recipient.locale if recipient.locale in ("bg", "en") else "bg"
    if subject_type == "transition_request" and kind in CLAIM_KINDS:
        from service.approvals.claims import for_message

        claim, decision = for_message(subject_id, lang)  # what is asked, and a link to the decision
        params, path = {**params, **claim}, decision or path
    link = settings().BASE_URL.rstrip("/") + path
    params = {**params, "on_behalf": params.get("on_behalf") or (on_behalf_of.name if on_behalf_of else "")}
    subject, text, html = render(kind, lang, params, link)
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
    ids: list[int] = field(default_factory=list)


def _due(now: datetime):
    """Pending rows whose time has come, and claims whose worker did not finish in time."""
    return (
        Notification.status.in_((PENDING, SENDING)),
        Notification.next_attempt_at <= now,
        Notification.attempts < settings().MAIL_MAX_ATTEMPTS,
    )


def _claim_statement(now: datetime, limit: int | None):
    s = settings()
    candidates = (
        select(Notification.id)
        .where(*_due(now))
        .order_by(Notification.next_attempt_at, Notification.id)
        .limit(limit or s.OUTBOX_BATCH_SIZE)
        .with_for_update(skip_locked=True)
    )
    return (
        update(Notification)
        .where(Notification.id.in_(candidates), *_due(now))
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


# The outcomes of a batch are committed together, in one transaction per COMMIT_EVERY messages: a
# commit waits for PostgreSQL to flush its log to disk, which took longer than handing a message
# to the SMTP server (one commit per message halved the rate). A message the server took its time
# over (SLOW_SEND seconds or more) has its outcome, and those before it, committed at once: then
# the commit costs little beside the conversation, and nothing waits uncommitted through a slow one.
COMMIT_EVERY = 10
SLOW_SEND = 0.05


class _Outcomes:
    """What the server answered for the messages of a batch, until it is committed. Each row is
    written only while it is still this worker's claim (status and claim expiry unchanged): a row
    whose claim ran out and another worker took is that worker's to record."""

    table = Notification.__table__

    def __init__(self, claimed_until: datetime) -> None:
        self.sent: list[dict] = []
        self.failures: list[tuple[int, dict]] = []
        self.ours = (self.table.c.status == SENDING, self.table.c.next_attempt_at == claimed_until)
        self.mark_sent = (
            update(self.table)
            .where(self.table.c.id == bindparam("note_id"), *self.ours)
            .values(status=SENT, sent_at=bindparam("at", type_=UTCDateTime()), last_error="")
        )

    def __len__(self) -> int:
        return len(self.sent) + len(self.failures)

    def commit(self) -> None:
        """Should this fail, the outcomes stay here for the next try, and the rows stay claimed
        (sent again once the claim expires, if no try succeeds)."""
        if not (self.sent or self.failures):
            return
        with transaction():
            if self.sent:
                db.session.execute(self.mark_sent, self.sent)  # one statement, many rows
            for note_id, values in self.failures:
                db.session.execute(update(self.table).where(self.table.c.id == note_id, *self.ours).values(**values))
            note_deliveries(db.session(), [SENT] * len(self.sent) + [values["status"] for _, values in self.failures])
        self.sent, self.failures = [], []


def _release(notes: list[Notification], claimed_until: datetime) -> None:
    """Hand back claimed rows this worker will not try now: due again at once, the attempt not counted."""
    statement = (
        update(Notification)
        .where(
            Notification.id.in_([note.id for note in notes]),
            Notification.status == SENDING,
            Notification.next_attempt_at == claimed_until,  # still this worker's claim
        )
        .values(status=PENDING, attempts=Notification.attempts - 1, next_attempt_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    with transaction():
        db.session.execute(statement)


def deliver_due(*, now: datetime | None = None, limit: int | None = None) -> DeliveryReport:
    """Claim a batch of due messages and send them over one SMTP connection, committing their
    outcomes every few messages (see COMMIT_EVERY) and at the end."""
    s = settings()
    now = now or utcnow()
    _give_up_abandoned(now)
    notes = _claim_rows(now, limit)
    report = DeliveryReport(claimed=len(notes), ids=[note.id for note in notes])
    if not notes:
        return report
    claimed_until = now + timedelta(seconds=s.MAIL_CLAIM_SECONDS)
    # A message is not started unless it can be through before the claim runs out and another
    # worker may take the row: what is left then is handed back for the next run.
    stop_at = claimed_until - timedelta(seconds=min(s.MAIL_TIMEOUT_SECONDS, s.MAIL_CLAIM_SECONDS // 2))
    outcomes = _Outcomes(claimed_until)
    position, finished = 0, False
    with mailer.transport(s) as transport:
        try:
            for position, note in enumerate(notes):
                if utcnow() >= stop_at:
                    outcomes.commit()
                    _release(notes[position:], claimed_until)
                    break
                started = time.monotonic()
                try:
                    transport.send(note, mailer.render(note, s))
                except Exception as exc:  # any refusal or outage: retried later, never lost
                    values = _failure(note, exc, utcnow())
                    outcomes.failures.append((note.id, values))
                    report.failed += values["status"] == FAILED
                    report.retrying += values["status"] == PENDING
                else:
                    outcomes.sent.append({"note_id": note.id, "at": utcnow()})
                    report.sent += 1
                if len(outcomes) >= COMMIT_EVERY or time.monotonic() - started >= SLOW_SEND:
                    outcomes.commit()
            finished = True
        finally:
            outcomes.commit()
            if not finished and position + 1 < len(notes):
                # Stopped by an error: the messages not tried yet are due again at once; the one
                # in hand stays claimed (it may have gone out) until its claim expires.
                _release(notes[position + 1:], claimed_until)
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


def _check_admin(actor: User | None) -> None:
    if actor is not None and not actor.has_role(Role.ADMIN):
        raise forbidden()


def list_outbox(
    *, status: str | None = None, page: int = 1, per_page: int = 50, actor: User | None = None
) -> OutboxPage:
    """The outbox, newest first, optionally of one status. With `actor`, only an admin may look."""
    _check_admin(actor)
    if status not in (None, "", *STATUSES):
        raise GoalflowError("invalid_input", fields={"status": f"one of {', '.join(STATUSES)}"})
    page, per_page = max(1, int(page)), min(max(1, int(per_page)), MAX_PER_PAGE)
    query = select(Notification)
    if status:
        query = query.where(Notification.status == status)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    items = db.session.scalars(
        query.order_by(Notification.created_at.desc(), Notification.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    counts = dict(db.session.execute(select(Notification.status, func.count()).group_by(Notification.status)).all())
    return OutboxPage(list(items), total, page, per_page, {s: counts.get(s, 0) for s in STATUSES})


def read_message(message_id: int, *, actor: User | None = None) -> MessageView:
    _check_admin(actor)
    note = db.session.get(Notification, message_id)
    if note is None:
        raise not_found()
    eml = mailer.read_eml(note, settings()) or mailer.render(note, settings())
    return MessageView(
        notification=note,
        text=note.body_text,
        html=note.body_html,
        attachments=[(a.id, a.filename, a.content_type, len(a.data)) for a in note.attachments],
        eml=eml,
    )


def read_attachment(message_id: int, attachment_id: int, *, actor: User | None = None) -> Attachment:
    _check_admin(actor)
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or attachment.notification_id != message_id:
        raise not_found()
    return attachment


def retry_failed(*, ids: list[int] | None = None, actor: User | None = None) -> int:
    """Give failed messages (all, or these) a fresh set of attempts. Returns how many."""
    _check_admin(actor)
    statement = (
        update(Notification)
        .where(Notification.status == FAILED)
        .values(status=PENDING, attempts=0, next_attempt_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if ids is not None:
        statement = statement.where(Notification.id.in_(ids))
    with transaction():
        count = db.session.execute(statement).rowcount or 0
        if count:
            db.session.info["outbox_queued"] = True
    return count
