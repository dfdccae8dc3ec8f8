"""Queueing notifications in the outbox, in the transaction of the change that causes them."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from service.common import settings
from service.extensions import db
from service.notifications.messages import render
from service.notifications.models import Attachment, Notification
from service.org.models import User


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
    if db.session.scalar(select(Notification.id).where(Notification.key == key)) is not None:
        return None
    lang = recipient.locale if recipient.locale in ("bg", "en") else "bg"
    link = settings().BASE_URL.rstrip("/") + path
    subject, text, html = render(kind, lang, params, link)
    note = Notification(
        key=key,
        kind=kind,
        recipient_id=recipient.id,
        on_behalf_of_id=on_behalf_of.id if on_behalf_of else None,
        email=recipient.email,
        locale=lang,
        subject=subject,
        body_text=text,
        body_html=html,
        link=link,
        subject_type=subject_type,
        subject_id=subject_id,
        due_moment=due_moment if isinstance(due_moment, datetime) else None,
    )
    note.attachments = [Attachment(filename=f, content_type=c, data=d) for f, c, d in attachments]
    try:
        # A savepoint: two sweeps racing for the same key must not undo the caller's work.
        with db.session.begin_nested():
            db.session.add(note)
    except IntegrityError:  # the unique key won the race: the message is queued already
        return None
    return note
