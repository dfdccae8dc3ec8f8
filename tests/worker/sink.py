"""An SMTP server that counts what it receives, in this process (aiosmtpd), on a free port.

It can be told to answer with an error (451 or 550), to answer one message in its own way (`answer`),
to drop the connection, or to take its time over each message. It counts the connections it is
greeted on (EHLO).
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller

DROP = "drop"  # an answer that closes the connection instead of replying


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sink:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.reply: str | None = None  # e.g. "550 5.1.1 no such mailbox"
        self.delay = 0.0
        self.refused = 0
        self.connections = 0
        # Called with each message before it is taken: a reply such as "451 4.3.0 later", DROP, or
        # None to take it. Runs in the server's thread.
        self.answer: Callable[[EmailMessage], str | None] | None = None
        self.last_peer: tuple[str, int] | None = None  # the client whose message `answer` is looking at
        self._lock = threading.Lock()
        self.port = free_port()
        self.controller: Controller | None = None

    async def handle_EHLO(self, server, session, envelope, hostname, responses) -> list[str]:
        session.host_name = hostname
        with self._lock:
            self.connections += 1
        return responses

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.last_peer = session.peer
        reply = self.reply or (self.answer(message) if self.answer else None)
        if reply == DROP:
            server.transport.close()
            return "421 4.3.2 closing"  # never reaches the client
        if reply:
            with self._lock:
                self.refused += 1
            return reply
        with self._lock:
            self.messages.append(message)
        return "250 2.0.0 accepted"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]

    def wait_for(self, count: int, timeout: float = 30) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return list(self.messages)

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()
            self.refused = self.connections = 0

    def start(self) -> Sink:
        """Listen (again) on the same port: a controller does not restart, so each start makes one."""
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None
