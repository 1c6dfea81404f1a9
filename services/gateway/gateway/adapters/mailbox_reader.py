"""Read the dev SMTP sink's Maildir (embedded mode only): newest first, one message rendered."""

from __future__ import annotations

import email.policy
import mailbox
import re
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path

_KEY = re.compile(r"^[A-Za-z0-9._,:=-]+$")


@dataclass(frozen=True)
class MailSummary:
    key: str
    subject: str
    sender: str
    recipients: str
    date: str
    timestamp: float


@dataclass(frozen=True)
class MailView:
    summary: MailSummary
    html: str | None
    text: str | None


def _summary(key: str, message: EmailMessage, fallback_ts: float) -> MailSummary:
    date_header = str(message.get("Date", ""))
    try:
        timestamp = parsedate_to_datetime(date_header).timestamp() if date_header else fallback_ts
    except (TypeError, ValueError):
        timestamp = fallback_ts
    return MailSummary(
        key=key,
        subject=str(message.get("Subject", "(no subject)")),
        sender=str(message.get("From", "")),
        recipients=str(message.get("To", "")),
        date=date_header,
        timestamp=timestamp,
    )


class MailboxReader:
    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    def _open(self) -> mailbox.Maildir | None:
        if not (self.directory / "cur").is_dir() and not (self.directory / "new").is_dir():
            return None
        return mailbox.Maildir(str(self.directory), factory=None, create=False)

    @staticmethod
    def _parse(box: mailbox.Maildir, key: str) -> EmailMessage:
        with box.get_file(key) as handle:
            return email.message_from_binary_file(handle, policy=email.policy.default)  # type: ignore[call-overload,no-any-return]

    def list(self, limit: int = 200) -> list[MailSummary]:
        box = self._open()
        if box is None:
            return []
        summaries = []
        for key in box.keys():  # noqa: SIM118 - iterating a Maildir yields messages, not keys
            path = self._path(box, key)
            mtime = path.stat().st_mtime if path else 0.0
            summaries.append(_summary(key, self._parse(box, key), mtime))
        summaries.sort(key=lambda s: s.timestamp, reverse=True)
        return summaries[:limit]

    @staticmethod
    def _path(box: mailbox.Maildir, key: str) -> Path | None:
        try:
            return Path(box._path) / box._lookup(key)  # type: ignore[attr-defined]
        except KeyError:
            return None

    def get(self, key: str) -> MailView | None:
        if not _KEY.match(key):
            return None
        box = self._open()
        if box is None or key not in box:
            return None
        message = self._parse(box, key)
        html_part = message.get_body(preferencelist=("html",))
        text_part = message.get_body(preferencelist=("plain",))
        return MailView(
            summary=_summary(key, message, 0.0),
            html=html_part.get_content() if html_part is not None else None,
            text=text_part.get_content() if text_part is not None else None,
        )
