"""What the service layer needs from the outside world, and the errors those adapters raise."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, Protocol, Self

from notifier.domain.model import (
    ClaimDecision,
    DueReminder,
    Email,
    EmailType,
    LicenseProjection,
    ScanWindow,
)


class TransientDeliveryError(Exception):
    """SMTP or HTTP trouble that a later attempt may not meet (connection refused, 4xx, timeouts, 5xx HTTP)."""


class PermanentDeliveryError(Exception):
    """The email can never go out as it is (SMTP 5xx for the recipient, the reset it points to is gone)."""


class LinkRejected(Exception):
    """token-service refused to issue a link for this license (4xx): skip it, the others still go out."""


@dataclass(frozen=True)
class IssuedLink:
    link_id: str
    url: str
    status: str
    cycle_end: dt.date
    customer_discount_bp: int
    expires_on: dt.date


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


class LinkIssuer(Protocol):
    def issue(self, license: LicenseProjection) -> IssuedLink: ...


class ResetUrls(Protocol):
    def url_for(self, reset_id: str) -> str: ...


class Renderer(Protocol):
    def render(self, email_type: EmailType, context: dict[str, Any]) -> RenderedEmail: ...


class Mailer(Protocol):
    def send(self, message: EmailMessage, before_data: Callable[[], None]) -> None: ...


@dataclass(frozen=True)
class Claim:
    decision: ClaimDecision
    email: Email | None = None


@dataclass(frozen=True)
class NewReminder:
    license_id: str
    maintenance_end: dt.date
    stage: int
    as_of: dt.date
    link_id: str


class NotifierRepository(Protocol):
    def get_license(self, license_id: str) -> LicenseProjection | None: ...

    def merge_license(self, license: LicenseProjection) -> None: ...

    def add_email(self, email: Email) -> int | None: ...

    def add_emails(self, emails: Sequence[Email]) -> list[int]: ...

    def add_reminders(self, reminders: Sequence[NewReminder]) -> set[tuple[str, dt.date, int]]: ...

    def get_email(self, email_id: int) -> Email | None: ...

    def claim_email(self, email_id: int, now: dt.datetime, lease: dt.timedelta) -> Claim: ...

    def mark_data_started(self, email_id: int, now: dt.datetime) -> None: ...

    def mark_sent(self, email_id: int, message_id: str, now: dt.datetime) -> None: ...

    def mark_attempt_failed(self, email_id: int, error: str, next_attempt_at: dt.datetime) -> None: ...

    def finish(self, email_id: int, status: str, reason: str) -> None: ...

    def emails_to_sweep(self, now: dt.datetime, grace: dt.timedelta, limit: int) -> list[int]: ...


class UnitOfWork(Protocol):
    @property
    def repo(self) -> NotifierRepository: ...

    def __enter__(self) -> Self: ...

    def __exit__(self, *args: object) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...


class DueLicenseReader(Protocol):
    def due(
        self, as_of: dt.date, stages: Sequence[int], window: ScanWindow, batch_size: int
    ) -> Iterator[list[DueReminder]]: ...
