"""Turning an outbox row into an email and handing it over: to an SMTP server, or (embedded
mode, MAIL_HOST empty) to one `.eml` file per message under MAIL_DIR."""

from __future__ import annotations

import os
import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import Protocol

from service.config import Settings
from service.notifications.models import Notification


class Transport(Protocol):
    def send(self, note: Notification, message: EmailMessage) -> None: ...


def _domain(settings: Settings) -> str:
    address = parseaddr(settings.MAIL_FROM)[1]
    return address.rpartition("@")[2] or "goalflow.local"


# Python's folding of long non-ASCII headers drops the spaces between the encoded words it
# splits ("одобрено:Отчитане"); folding only at RFC 5322's hard limit keeps subjects whole.
UNFOLDED = policy.default.clone(max_line_length=998)


def build_message(note: Notification, settings: Settings) -> EmailMessage:
    """multipart/alternative (text + HTML), inside multipart/mixed when there are attachments."""
    message = EmailMessage(policy=UNFOLDED)
    message["From"] = settings.MAIL_FROM
    message["To"] = note.email
    message["Subject"] = note.subject
    message["Date"] = format_datetime(note.created_at)
    # The same row always gets the same Message-ID: should a crash make us send it again,
    # mail clients see one message, not two.
    message["Message-ID"] = f"<{note.key[:40]}@{_domain(settings)}>"
    message["Auto-Submitted"] = "auto-generated"
    message["X-Goalflow-Kind"] = note.kind
    message.set_content(note.body_text)
    message.add_alternative(note.body_html, subtype="html")
    for attachment in note.attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        message.add_attachment(
            attachment.data, maintype=maintype, subtype=subtype or "octet-stream", filename=attachment.filename
        )
    message["Content-Language"] = note.locale  # after the parts: making a multipart moves Content-* headers
    return message


def eml_name(note: Notification) -> str:
    """One file per row: a repeat after a crash overwrites the file instead of adding a second one."""
    return f"{note.created_at:%Y%m%dT%H%M%S}-{note.id:07d}.eml"


class MailDirectory:
    def __init__(self, directory: str):
        self.directory = Path(directory)

    def send(self, note: Notification, message: EmailMessage) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        target = self.directory / eml_name(note)
        partial = target.with_suffix(".part")
        partial.write_bytes(message.as_bytes())
        os.replace(partial, target)  # readers never see half a message


class SmtpServer:
    """One connection for a batch, opened on first use and reopened after the server drops it."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.connection: smtplib.SMTP | None = None
        self.unreachable: Exception | None = None

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        if s.MAIL_USE_SSL:
            connection = smtplib.SMTP_SSL(
                s.MAIL_HOST, s.MAIL_PORT, timeout=s.MAIL_TIMEOUT_SECONDS, context=ssl.create_default_context()
            )
        else:
            connection = smtplib.SMTP(s.MAIL_HOST, s.MAIL_PORT, timeout=s.MAIL_TIMEOUT_SECONDS)
            if s.MAIL_USE_TLS:
                connection.starttls(context=ssl.create_default_context())
        if s.MAIL_USERNAME:
            connection.login(s.MAIL_USERNAME, s.MAIL_PASSWORD)
        return connection

    def send(self, note: Notification, message: EmailMessage) -> None:
        if self.unreachable is not None:
            raise self.unreachable  # one timeout per batch, not one per message
        if self.connection is None:
            try:
                self.connection = self._connect()
            except (smtplib.SMTPException, OSError) as exc:
                self.unreachable = exc
                raise
        try:
            self.connection.send_message(message, from_addr=parseaddr(self.settings.MAIL_FROM)[1], to_addrs=[note.email])
        except (smtplib.SMTPServerDisconnected, OSError):
            self.close()  # the next message opens a new connection
            raise

    def close(self) -> None:
        if self.connection is not None:
            try:
                self.connection.quit()
            except (smtplib.SMTPException, OSError):
                self.connection.close()
            self.connection = None


@contextmanager
def transport(settings: Settings) -> Iterator[Transport]:
    if not settings.MAIL_HOST:
        yield MailDirectory(settings.mail_dir)
        return
    server = SmtpServer(settings)
    try:
        yield server
    finally:
        server.close()


def read_eml(note: Notification, settings: Settings) -> bytes | None:
    """The delivered file of an embedded-mode message, if there is one."""
    path = Path(settings.mail_dir) / eml_name(note)
    return path.read_bytes() if path.is_file() else None

