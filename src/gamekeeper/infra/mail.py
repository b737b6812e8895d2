"""Outgoing mail: SMTP through aiosmtplib, or a folder when no server is set.

``post`` never waits for the mail server: the message is delivered by a background task, so a
slow or unreachable server does not hold a request (or a database transaction) open. A failed
delivery is logged without the message, which holds a code.
"""

from __future__ import annotations

import asyncio
import uuid
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib

from gamekeeper.core.accounts.types import Mail, Mailer
from gamekeeper.files import private_folder, write_private
from gamekeeper.infra.logging import get_logger
from gamekeeper.settings import Settings

__all__ = ["FileMailer", "SmtpMailer", "make_mailer"]

log = get_logger(__name__)
_TIMEOUT = 15.0


def _message(mail: Mail, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message.set_content(mail.text)
    return message


class SmtpMailer:
    def __init__(
        self,
        *,
        host: str,
        port: int,
        tls: str,
        sender: str,
        user: str | None = None,
        password: str | None = None,
        timeout: float = _TIMEOUT,
    ) -> None:
        self.host, self.port, self.tls, self.sender = host, port, tls, sender
        self._user, self._password, self._timeout = user, password, timeout
        self._pending: set[asyncio.Task[None]] = set()

    def post(self, mail: Mail) -> None:
        task = asyncio.get_running_loop().create_task(self._deliver(mail))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def send(self, mail: Mail) -> None:
        """Deliver one message now; raises aiosmtplib.SMTPException or OSError on failure."""
        await aiosmtplib.send(
            _message(mail, self.sender),
            hostname=self.host,
            port=self.port,
            username=self._user,
            password=self._password,
            use_tls=self.tls == "tls",
            start_tls=self.tls == "starttls",
            timeout=self._timeout,
        )

    async def _deliver(self, mail: Mail) -> None:
        try:
            await self.send(mail)
        except (aiosmtplib.SMTPException, OSError) as exc:
            log.warning("mail_not_sent", smtp_host=self.host, error=f"{type(exc).__name__}: {exc}")

    async def drain(self) -> None:
        """Wait for the messages posted so far."""
        while self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)


class FileMailer:
    """No SMTP server: the message goes to a file (0600) that the operator can read, and the
    log says where, without the message."""

    def __init__(self, directory: Path, sender: str) -> None:
        self.directory = directory
        self.sender = sender

    def post(self, mail: Mail) -> None:
        private_folder(self.directory)
        path = self.directory / f"{uuid.uuid4().hex}.eml"
        write_private(path, bytes(_message(mail, self.sender)))
        # Never the text: it holds a code that signs in or resets a password.
        log.warning(
            "mail_written_to_file",
            reason="no SMTP server is configured (GAMEKEEPER_SMTP_HOST)",
            subject=mail.subject,
            path=str(path),
        )


def make_mailer(settings: Settings) -> Mailer:
    if settings.smtp_host:
        return SmtpMailer(
            host=settings.smtp_host,
            port=settings.smtp_port,
            tls=settings.smtp_tls,
            sender=settings.smtp_sender,
            user=settings.smtp_user,
            password=settings.smtp_password,
        )
    return FileMailer(settings.data_path / "mail", settings.smtp_sender)
