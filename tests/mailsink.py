"""A real SMTP server inside the test process (aiosmtpd) that keeps what it receives, so tests
read the one-time codes and reset links the quiz server mails."""

from __future__ import annotations

import atexit
import email
import email.policy
import re
import socket
import threading
import time
from email.message import EmailMessage

from aiosmtpd.controller import Controller


class _Keep:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.cond = threading.Condition()

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.cond:
            self.messages.append(msg)
            self.cond.notify_all()
        return "250 OK"


class MailSink:
    """``url`` goes into the server's MAIL_URL; ``wait_for(to)`` returns the newest message to that
    address that arrived after ``since`` (a count from :meth:`mark`), polling with a deadline."""

    def __init__(self) -> None:
        self._keep = _Keep()
        self._controller: Controller | None = None

    def start(self) -> MailSink:
        # aiosmtpd cannot listen on port 0 (it connects to its own port to check it is up): take a
        # free port from the kernel, and another if a parallel worker grabbed it in between.
        for _ in range(20):
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                port = probe.getsockname()[1]
            controller = Controller(self._keep, hostname="127.0.0.1", port=port)
            try:
                controller.start()
            except (OSError, RuntimeError):
                continue
            self._controller = controller
            return self
        raise RuntimeError("no free port for the test SMTP server")

    def stop(self) -> None:
        self._controller.stop()

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self._controller.port}"

    def mark(self) -> int:
        with self._keep.cond:
            return len(self._keep.messages)

    def messages_to(self, to: str, since: int = 0) -> list[EmailMessage]:
        with self._keep.cond:
            return [m for m in self._keep.messages[since:] if to.lower() in str(m["To"]).lower()]

    def wait_for(self, to: str, since: int = 0, timeout: float = 15.0) -> EmailMessage:
        deadline = time.monotonic() + timeout
        with self._keep.cond:
            while True:
                found = [m for m in self._keep.messages[since:] if to.lower() in str(m["To"]).lower()]
                if found:
                    return found[-1]
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no mail to {to} within {timeout} s")
                self._keep.cond.wait(left)


_shared: MailSink | None = None


def shared() -> MailSink:
    """One sink per test process (each xdist worker has its own), started on first use."""
    global _shared
    if _shared is None:
        _shared = MailSink().start()
        atexit.register(_shared.stop)
    return _shared


def body_of(msg: EmailMessage) -> str:
    return msg.get_body(preferencelist=("plain",)).get_content()


def code_in(msg: EmailMessage) -> str:
    """The six-digit one-time code in a message."""
    match = re.search(r"\b(\d{6})\b", body_of(msg))
    assert match, body_of(msg)
    return match.group(1)


def link_in(msg: EmailMessage) -> str:
    match = re.search(r"https?://\S+", body_of(msg))
    assert match, body_of(msg)
    return match.group(0)
