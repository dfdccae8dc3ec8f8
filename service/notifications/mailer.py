"""Turning an outbox row into an email and handing it over: to an SMTP server, or (embedded
mode, MAIL_HOST empty) to one `.eml` file per message under MAIL_DIR.

`build_message` composes the email with the standard library (`EmailMessage`); `render` gives
the bytes that go out. Most messages (text and HTML, no attachments, ASCII addresses, lines
within the limit) are written straight to bytes, their headers encoded by the standard library
itself: composing and flattening an `EmailMessage` re-parses and re-folds each header, which
cost more than the SMTP conversation. Anything else is composed and flattened as before."""

from __future__ import annotations

import os
import random
import re
import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from email import policy
from email.header import Header
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from functools import lru_cache
from pathlib import Path
from typing import Protocol

from service.config import Settings
from service.notifications.models import Notification


class Transport(Protocol):
    def send(self, note: Notification, data: bytes) -> None: ...


def _domain(mail_from: str) -> str:
    address = parseaddr(mail_from)[1]
    return address.rpartition("@")[2] or "goalflow.local"


# Python's folding of long non-ASCII headers drops the spaces between the encoded words it
# splits ("одобрено:Отчитане"); folding only at RFC 5322's hard limit keeps subjects whole.
UNFOLDED = policy.default.clone(max_line_length=998)
WIRE = UNFOLDED.clone(linesep="\r\n")  # as smtplib flattens a message: CRLF line ends


def build_message(note: Notification, settings: Settings) -> EmailMessage:
    """multipart/alternative (text + HTML), inside multipart/mixed when there are attachments."""
    message = EmailMessage(policy=UNFOLDED)
    message["From"] = sender(note, settings)
    message["To"] = note.email
    message["Subject"] = note.subject
    message["Date"] = format_datetime(note.created_at)
    # The same row always gets the same Message-ID: should a crash make us send it again,
    # mail clients see one message, not two.
    message["Message-ID"] = f"<{note.key[:40]}@{_domain(sender(note, settings))}>"
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


def sender(note: Notification, settings: Settings) -> str:
    """The administration's sender stored with the message, else the installation's MAIL_FROM."""
    return note.sender or settings.MAIL_FROM


def render(note: Notification, settings: Settings) -> bytes:
    """The message as it is handed over (CRLF line ends): the same email as `build_message`'s."""
    return _render_alternative(note, settings) or build_message(note, settings).as_bytes(policy=WIRE)


# What is written into a header as it is: an address with nothing to quote or encode (a
# dot-atom at a domain), the kind and the language.
ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
PLAIN_ADDRESS = re.compile(rf"{ATOM}(\.{ATOM})*@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*")
TOKEN = re.compile(r"[A-Za-z0-9_-]+")
CRLF = b"\r\n"


@lru_cache(maxsize=256)  # a campaign's messages share their subject
def _header(name: str, value: str) -> bytes:
    """One header as the standard library writes it (encoded words where needed, CRLF at the end)."""
    return WIRE.fold_binary(name, WIRE.header_store_parse(name, value)[1])


def _subject(subject: str) -> bytes:
    """The Subject header. A non-ASCII one as base64 encoded words folded at 76 characters (the
    spaces are inside the words, so none is lost), written by `email.header`: the policy's header
    parser and folder cost 0.6 ms a subject, most of what a message costs the worker."""
    if subject.isascii():
        return _header("Subject", subject)
    return b"Subject: " + Header(subject, "utf-8", header_name="Subject").encode(linesep="\r\n").encode("ascii") + CRLF


@lru_cache(maxsize=64)  # an installation has a few senders: parsed once each, not once per message
def _address(sender: str) -> str:
    return parseaddr(sender)[1]


@lru_cache(maxsize=8)
def _sender_headers(mail_from: str) -> tuple[bytes, str] | None:
    """The From header and the Message-ID domain, for senders whose domain is ASCII."""
    domain = _domain(mail_from)
    return (_header("From", mail_from), domain) if domain.isascii() else None


def _body(text: str) -> tuple[bytes, bytes] | None:
    """(Content-Transfer-Encoding, CRLF-ended body) as `set_content` chooses them when no line is
    too long: 7bit for ASCII, else 8bit. None when a line is too long (then it would encode it)."""
    lines = text.encode("utf-8").splitlines()
    if any(len(line) > UNFOLDED.max_line_length for line in lines):
        return None
    return (b"7bit" if all(line.isascii() for line in lines) else b"8bit"), CRLF.join(lines) + CRLF


def _render_alternative(note: Notification, settings: Settings) -> bytes | None:
    """`build_message`'s multipart/alternative written directly, or None for anything else."""
    from_ = _sender_headers(sender(note, settings))
    if (note.attachments or from_ is None or not PLAIN_ADDRESS.fullmatch(note.email)
            or not TOKEN.fullmatch(note.kind) or not TOKEN.fullmatch(note.locale)):
        return None
    text, html = _body(note.body_text), _body(note.body_html)
    if text is None or html is None:
        return None
    from_header, domain = from_
    parts = [
        b'Content-Type: text/plain; charset="utf-8"\r\nContent-Transfer-Encoding: ' + text[0] + b"\r\n\r\n" + text[1],
        b'Content-Type: text/html; charset="utf-8"\r\nContent-Transfer-Encoding: ' + html[0] + b"\r\n\r\n" + html[1],
    ]
    boundary = _boundary(parts)
    head = (
        from_header
        + f"To: {note.email}\r\n".encode()
        + _subject(note.subject)
        + f"Date: {format_datetime(note.created_at)}\r\n"
        f"Message-ID: <{note.key[:40]}@{domain}>\r\n"
        "Auto-Submitted: auto-generated\r\n"
        f"X-Goalflow-Kind: {note.kind}\r\n"
        "MIME-Version: 1.0\r\n"
        f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n'
        f"Content-Language: {note.locale}\r\n\r\n".encode("ascii")
    )
    delimiter = f"--{boundary}".encode()
    return head + delimiter + CRLF + (CRLF + delimiter + CRLF).join(parts) + CRLF + delimiter + b"--" + CRLF


def _boundary(parts: list[bytes]) -> str:
    """A boundary like the standard library's, found in none of the parts."""
    while True:
        boundary = f"==============={random.randrange(10**19):019d}=="
        if not any(boundary.encode() in part for part in parts):
            return boundary


def eml_name(note: Notification) -> str:
    """One file per row: a repeat after a crash overwrites the file instead of adding a second one."""
    return f"{note.created_at:%Y%m%dT%H%M%S}-{note.id:07d}.eml"


class MailDirectory:
    def __init__(self, directory: str):
        self.directory = Path(directory)

    def send(self, note: Notification, data: bytes) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        target = self.directory / eml_name(note)
        partial = target.with_suffix(".part")
        partial.write_bytes(data)
        os.replace(partial, target)  # readers never see half a message


class SmtpServer:
    """One connection for a batch, opened on first use and reopened after the server drops it."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.sender = parseaddr(settings.MAIL_FROM)[1]
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

    def send(self, note: Notification, data: bytes) -> None:
        if self.unreachable is not None:
            raise self.unreachable  # one timeout per batch, not one per message
        if self.connection is not None and self.connection.sock is None:
            self.connection = None  # smtplib closed it after a 421 (the server is going away)
        envelope_from = _address(note.sender) if note.sender else self.sender
        if self.connection is None:
            try:
                self.connection = self._connect()
            except (smtplib.SMTPException, OSError) as exc:
                self.unreachable = exc
                raise
        try:
            if envelope_from.isascii() and note.email.isascii():
                self.connection.sendmail(envelope_from, [note.email], data)
            else:  # smtplib asks for SMTPUTF8 and writes UTF-8 headers only for a message object
                self.connection.send_message(build_message(note, self.settings), from_addr=envelope_from,
                                             to_addrs=[note.email])
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError):
            raise  # this message refused: smtplib has reset the session (or closed it after a 421)
        except OSError:  # the connection failed (smtplib's own errors are OSErrors too)
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

