"""SMTP via SMTP_URL: smtp://host:port (plain), smtp://...?starttls=1 (STARTTLS), smtps:// (TLS), user:password@."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

from notifier.service_layer.ports import PermanentDeliveryError, TransientDeliveryError


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    tls: bool  # smtps: TLS from the first byte
    starttls: bool
    username: str | None
    password: str | None

    @classmethod
    def parse(cls, url: str) -> SmtpTarget:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps"):
            raise ValueError("SMTP_URL must start with smtp:// or smtps://")
        query = parse_qs(parts.query)
        starttls = query.get("starttls", ["0"])[0].lower() in ("1", "true", "yes")
        return cls(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or (465 if parts.scheme == "smtps" else 25),
            tls=parts.scheme == "smtps",
            starttls=starttls,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )


class SmtpMailer:
    """One connection per message: simple, and a dead server never leaves a half-open session behind."""

    def __init__(self, url: str, timeout: float = 20.0) -> None:
        self.target = SmtpTarget.parse(url)
        self.timeout = timeout

    def _connect(self) -> smtplib.SMTP:
        t = self.target
        context = ssl.create_default_context()
        if t.tls:
            client: smtplib.SMTP = smtplib.SMTP_SSL(t.host, t.port, timeout=self.timeout, context=context)
        else:
            client = smtplib.SMTP(t.host, t.port, timeout=self.timeout)
        client.ehlo()
        if t.starttls:
            client.starttls(context=context)
            client.ehlo()
        if t.username:
            client.login(t.username, t.password or "")
        return client

    def send(self, message: EmailMessage, before_data: Callable[[], None]) -> None:
        """MAIL FROM and RCPT TO first; `before_data` records that DATA is about to start, then DATA.

        Raises TransientDeliveryError for anything a later attempt may get past, PermanentDeliveryError for a
        5xx reply about this message or recipient.
        """
        sender = message["From"].addresses[0].addr_spec
        recipients = [a.addr_spec for header in ("To", "Cc") if message[header] for a in message[header].addresses]
        try:
            client = self._connect()
        except smtplib.SMTPAuthenticationError as exc:
            raise TransientDeliveryError(f"SMTP authentication failed: {exc.smtp_code}") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise TransientDeliveryError(f"SMTP connect failed: {type(exc).__name__}: {exc}") from None
        try:
            code, reply = client.mail(sender)
            self._check(code, reply, "MAIL FROM")
            for recipient in recipients:
                code, reply = client.rcpt(recipient)
                self._check(code, reply, "RCPT TO")
            before_data()
            code, reply = client.data(message.as_bytes(policy=message.policy.clone(linesep="\r\n")))
            self._check(code, reply, "DATA")
        except (TimeoutError, smtplib.SMTPServerDisconnected, OSError) as exc:
            raise TransientDeliveryError(f"SMTP connection lost: {type(exc).__name__}") from None
        except smtplib.SMTPResponseException as exc:
            self._check(exc.smtp_code, exc.smtp_error, "SMTP")
        finally:
            try:
                client.quit()
            except (OSError, smtplib.SMTPException):
                client.close()

    @staticmethod
    def _check(code: int, reply: bytes | str, step: str) -> None:
        if 200 <= code < 400:
            return
        text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
        if 500 <= code < 600:
            raise PermanentDeliveryError(f"{step} refused: {code} {text[:200]}")
        raise TransientDeliveryError(f"{step} deferred: {code} {text[:200]}")
