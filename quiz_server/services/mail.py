"""Outgoing mail: one-time codes and password-reset links. Plain Python: no Flask.

Two transports, chosen by ``Settings.mail_url``:

- ``smtp://[user:password@]host[:port][?starttls=1]`` or ``smtps://...``: an SMTP server, the
  agency's own relay in production (docs/deploy.md);
- unset: a file outbox, ``<instance>/outbox/*.eml`` (mode 0600), for ``make run`` on one machine
  and demos. Nothing leaves the machine; the admin reads the messages there. ``/healthz`` and the
  start-up summary say which transport is in use.

A send that fails raises :class:`MailUnavailable` (503), so the caller's unit of work rolls back
and the request changes nothing.
"""

from __future__ import annotations

import os
import secrets
import smtplib
import ssl
import time
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from netralitas.errors import Unavailable

DEFAULT_SENDER = "Netralitas ASN <no-reply@netralitas.invalid>"
SMTP_TIMEOUT_SECONDS = 10


class MailUnavailable(Unavailable):
    code = "mail_unavailable"
    message = "Email tidak dapat dikirim saat ini. Coba lagi beberapa menit lagi."


@dataclass(frozen=True)
class Transport:
    kind: str  # smtp | smtps | file
    host: str = ""
    port: int = 0
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    outbox: Path | None = None

    def describe(self) -> str:
        """Where mail goes, without the password: for logs, /healthz and the start-up summary."""
        if self.kind == "file":
            return f"file:{self.outbox}"
        return f"{self.kind}://{self.host}:{self.port}"


def transport(mail_url: str | None, instance_path: str) -> Transport:
    if not mail_url:
        return Transport("file", outbox=Path(instance_path) / "outbox")
    parts = urlsplit(mail_url)
    if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
        raise ValueError("NETRALITAS_MAIL_URL harus berbentuk smtp://host:port atau smtps://host:port")
    query = parse_qs(parts.query)
    return Transport(
        parts.scheme,
        host=parts.hostname,
        port=parts.port or (465 if parts.scheme == "smtps" else 25),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        starttls=query.get("starttls", ["0"])[0] in {"1", "true", "yes"},
    )


def message(*, sender: str, to: str, subject: str, body: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain="netralitas.invalid")
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(body)
    return msg


def send(t: Transport, msg: EmailMessage) -> None:
    """Deliver one message or raise :class:`MailUnavailable`."""
    if t.kind == "file":
        _to_outbox(t.outbox, msg)
        return
    try:
        if t.kind == "smtps":
            client = smtplib.SMTP_SSL(
                t.host, t.port, timeout=SMTP_TIMEOUT_SECONDS, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(t.host, t.port, timeout=SMTP_TIMEOUT_SECONDS)
        with client:
            if t.starttls:
                client.starttls(context=ssl.create_default_context())
            if t.username:
                client.login(t.username, t.password or "")
            client.send_message(msg)
    except (OSError, smtplib.SMTPException):
        raise MailUnavailable() from None


def _to_outbox(outbox: Path, msg: EmailMessage) -> None:
    outbox.mkdir(mode=0o700, parents=True, exist_ok=True)
    name = f"{time.time_ns()}-{secrets.token_hex(4)}.eml"
    fd = os.open(outbox / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(bytes(msg))
