"""Fakes for the notifier's ports (unit tests) and shared helpers (integration tests)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from email.message import EmailMessage
from typing import Any, Self

import pytest
from notifier.domain.model import (
    ClaimDecision,
    DueReminder,
    Email,
    EmailStatus,
    LicenseProjection,
    ScanWindow,
    decide_claim,
    latest_due_stage,
)
from notifier.service_layer.ports import Claim, IssuedLink, LinkRejected, NewReminder, TransientDeliveryError


class FakeRepository:
    def __init__(self) -> None:
        self.licenses: dict[str, LicenseProjection] = {}
        self.reminders: dict[tuple[str, dt.date, int], NewReminder] = {}
        self.emails: dict[int, Email] = {}
        self.leases: dict[int, tuple[dt.datetime | None, dt.datetime | None]] = {}
        self.next_attempt: dict[int, dt.datetime] = {}
        self.errors: dict[int, str] = {}

    def get_license(self, license_id: str) -> LicenseProjection | None:
        return self.licenses.get(license_id)

    def merge_license(self, license: LicenseProjection) -> None:
        current = self.licenses.get(license.license_id)
        if current is None:
            self.licenses[license.license_id] = LicenseProjection(**vars(license))
            return
        newer = license.maintenance_end >= current.maintenance_end
        for name in ("product_sku", "purchase_date", "currency"):
            if getattr(license, name) is not None:
                setattr(current, name, getattr(license, name))
        if newer:
            current.product_name, current.licensee_name = license.product_name, license.licensee_name
            current.contact_email = license.contact_email
            current.end_customer_email = license.end_customer_email or current.end_customer_email
        current.apply_end(license.maintenance_end)

    def add_reminders(self, reminders: Sequence[NewReminder]) -> set[tuple[str, dt.date, int]]:
        won = set()
        for r in reminders:
            key = (r.license_id, r.maintenance_end, r.stage)
            if key not in self.reminders:
                self.reminders[key] = r
                won.add(key)
        return won

    def add_email(self, email: Email) -> int | None:
        if any(e.dedupe_key == email.dedupe_key for e in self.emails.values()):
            return None
        email_id = len(self.emails) + 1
        self.emails[email_id] = Email(email.type, email.recipient, email.dedupe_key, dict(email.context), id=email_id)
        self.leases[email_id] = (None, None)
        return email_id

    def add_emails(self, emails: Sequence[Email]) -> list[int]:
        ids = [self.add_email(email) for email in emails]
        return [i for i in ids if i is not None]

    def get_email(self, email_id: int) -> Email | None:
        return self.emails.get(email_id)

    def claim_email(self, email_id: int, now: dt.datetime, lease: dt.timedelta) -> Claim:
        email = self.emails.get(email_id)
        if email is None:
            return Claim(ClaimDecision.MISSING)
        lease_until, data_started = self.leases[email_id]
        decision = decide_claim(email.status, lease_until, data_started, now)
        if decision == ClaimDecision.NOW_UNCERTAIN:
            email.status = EmailStatus.UNCERTAIN
        if decision == ClaimDecision.SEND:
            email.status = EmailStatus.SENDING
            email.attempts += 1
            self.leases[email_id] = (now + lease, None)
        return Claim(decision, email)

    def mark_data_started(self, email_id: int, now: dt.datetime) -> None:
        self.leases[email_id] = (self.leases[email_id][0], now)

    def mark_sent(self, email_id: int, message_id: str, now: dt.datetime) -> None:
        self.emails[email_id].status = EmailStatus.SENT
        self.emails[email_id].message_id = message_id

    def mark_attempt_failed(self, email_id: int, error: str, next_attempt_at: dt.datetime) -> None:
        self.emails[email_id].status = EmailStatus.PENDING
        self.leases[email_id] = (None, None)
        self.next_attempt[email_id] = next_attempt_at
        self.errors[email_id] = error

    def finish(self, email_id: int, status: str, reason: str) -> None:
        self.emails[email_id].status = EmailStatus(status)
        self.errors[email_id] = reason

    def emails_to_sweep(self, now: dt.datetime, grace: dt.timedelta, limit: int) -> list[int]:
        return [i for i, e in self.emails.items() if e.status == EmailStatus.PENDING][:limit]


class FakeUnitOfWork:
    def __init__(self, repo: FakeRepository) -> None:
        self.repo = repo
        self.commits = 0

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *args: object) -> None:
        pass

    def commit(self) -> None:
        self.commits += 1

    def rollback(self) -> None:
        pass


class FakeReader:
    """The scan query in Python: licenses in the window whose latest due stage has no reminder yet."""

    def __init__(self, repo: FakeRepository) -> None:
        self.repo = repo

    def due(
        self, as_of: dt.date, stages: Sequence[int], window: ScanWindow, batch_size: int
    ) -> Iterator[list[DueReminder]]:
        due = []
        for lic in sorted(self.repo.licenses.values(), key=lambda item: item.license_id):
            if not (window.earliest_end <= lic.maintenance_end <= window.latest_end) or lic.product_sku is None:
                continue
            stage = latest_due_stage(lic.maintenance_end, as_of, stages)
            if stage is None:
                continue
            if any(
                k[0] == lic.license_id and k[1] == lic.maintenance_end and k[2] >= stage for k in self.repo.reminders
            ):
                continue
            due.append(DueReminder(LicenseProjection(**vars(lic)), stage))
        for start in range(0, len(due), batch_size):
            yield due[start : start + batch_size]


class FakeLinks:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dt.date]] = []
        self.rejected: set[str] = set()
        self.down = False
        self.status = "active"

    def issue(self, license: LicenseProjection) -> IssuedLink:
        if self.down:
            raise TransientDeliveryError("token-service down")
        if license.license_id in self.rejected:
            raise LinkRejected("unknown product")
        self.calls.append((license.license_id, license.maintenance_end))
        return IssuedLink(
            link_id=f"link-{license.license_id}-{license.maintenance_end}",
            url=f"http://renewals.test/extend/tok-{license.license_id}-{license.maintenance_end}",
            status=self.status,
            cycle_end=license.maintenance_end,
            customer_discount_bp=5000,
            expires_on=license.maintenance_end + dt.timedelta(days=365),
        )


class FakeResets:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def url_for(self, reset_id: str) -> str:
        self.calls.append(reset_id)
        return f"http://renewals.test/reseller/password-reset/tok-{reset_id}"


class FakeMailer:
    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []
        self.failures: list[Exception] = []  # raised one by one before succeeding
        self.die_after_data_start = False

    def send(self, message: EmailMessage, before_data: Callable[[], None]) -> None:
        if self.failures:
            raise self.failures.pop(0)
        before_data()
        if self.die_after_data_start:
            raise SystemExit("killed after DATA started")
        self.sent.append(message)


@pytest.fixture
def repo() -> FakeRepository:
    return FakeRepository()


@pytest.fixture
def fakes(repo: FakeRepository) -> Any:
    class Fakes:
        pass

    f = Fakes()
    f.repo = repo  # type: ignore[attr-defined]
    f.uow = FakeUnitOfWork(repo)  # type: ignore[attr-defined]
    f.reader = FakeReader(repo)  # type: ignore[attr-defined]
    f.links = FakeLinks()  # type: ignore[attr-defined]
    f.resets = FakeResets()  # type: ignore[attr-defined]
    f.mailer = FakeMailer()  # type: ignore[attr-defined]
    return f


def make_license(license_id: str = "lic-1", end: dt.date = dt.date(2026, 7, 1), **overrides: Any) -> LicenseProjection:
    values: dict[str, Any] = {
        "license_id": license_id,
        "product_sku": "PRO",
        "product_name": "Widget Pro",
        "licensee_name": "Acme GmbH",
        "purchase_date": dt.date(2023, 7, 1),
        "maintenance_end": end,
        "contact_email": "it@acme.example",
        "currency": "EUR",
    }
    values.update(overrides)
    return LicenseProjection(**values)


@pytest.fixture
def license_factory() -> Callable[..., LicenseProjection]:
    return make_license
