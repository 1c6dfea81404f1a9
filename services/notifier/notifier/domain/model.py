"""The notifier's own view of the world: a license projection, reminder stages, and emails to send.

Pure: no Flask, no SQLAlchemy, no I/O.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

DEFAULT_REMINDER_STAGES: tuple[int, ...] = (-60, -30, -7, 0, 14, 30)


class EmailType(enum.StrEnum):
    EXPIRY_REMINDER = "expiry_reminder"
    ORDER_CONFIRMATION = "order_confirmation"
    MAINTENANCE_EXTENDED = "maintenance_extended"
    RESELLER_REGISTRATION_RECEIVED = "reseller_registration_received"
    RESELLER_REGISTRATION_SUPPORT_ALERT = "reseller_registration_support_alert"
    RESELLER_APPROVED = "reseller_approved"
    RESELLER_REJECTED = "reseller_rejected"
    PASSWORD_RESET = "password_reset"  # noqa: S105 - an email type, not a secret
    CHANGE_REQUEST_TO_SUPPORT = "change_request_to_support"
    CHANGE_REQUEST_ACKNOWLEDGEMENT = "change_request_acknowledgement"


class EmailStatus(enum.StrEnum):
    PENDING = "pending"  # recorded, not yet handed to SMTP (or a transient failure, waiting for a retry)
    SENDING = "sending"  # an attempt holds the lease; see README "Exactly once, and the remaining window"
    SENT = "sent"  # SMTP accepted it; message_id recorded
    CANCELLED = "cancelled"  # no longer relevant (a reminder whose cycle ended before it went out)
    UNCERTAIN = "uncertain"  # an attempt died after handing DATA to SMTP: never retried automatically
    FAILED = "failed"  # refused for good (SMTP 5xx, unknown reset): never retried automatically


class ClaimDecision(enum.StrEnum):
    SEND = "send"  # this attempt owns the row now (status sending, attempts + 1, new lease)
    ALREADY_DONE = "already_done"  # sent, cancelled, failed or uncertain: nothing to do
    BUSY = "busy"  # another attempt holds a live lease
    MISSING = "missing"  # no such email (e.g. its transaction rolled back)
    NOW_UNCERTAIN = "now_uncertain"  # the previous attempt died after DATA started: parked for operations


def decide_claim(
    status: EmailStatus | None,
    lease_expires_at: dt.datetime | None,
    data_started_at: dt.datetime | None,
    now: dt.datetime,
) -> ClaimDecision:
    """Who may send an email now. The reconcile policy for a dead attempt (status still `sending`):

    - its lease is still running: somebody may be sending right now -> BUSY (the sweep comes back later);
    - the lease ran out and the attempt never reached the SMTP DATA command: the server cannot have accepted the
      message (an SMTP transaction without DATA is discarded) -> retry safely (SEND);
    - the lease ran out after DATA started: the server may have accepted it -> never resend automatically
      (NOW_UNCERTAIN); operations decide (`cli emails --uncertain`, `cli resend ID`).
    """
    if status is None:
        return ClaimDecision.MISSING
    if status == EmailStatus.PENDING:
        return ClaimDecision.SEND
    if status == EmailStatus.SENDING:
        if lease_expires_at is not None and lease_expires_at > now:
            return ClaimDecision.BUSY
        return ClaimDecision.NOW_UNCERTAIN if data_started_at is not None else ClaimDecision.SEND
    return ClaimDecision.ALREADY_DONE


def parse_stages(text: str) -> tuple[int, ...]:
    """ "-60,-30,-7,0,14,30" -> (-60, -30, -7, 0, 14, 30); days relative to the maintenance end E."""
    try:
        stages = tuple(sorted({int(part) for part in text.split(",") if part.strip()}))
    except ValueError:
        raise ValueError(f"reminder stages must be comma-separated integers, got {text!r}") from None
    if not stages:
        raise ValueError("at least one reminder stage is required")
    return stages


def stage_name(stage: int) -> str:
    if stage < 0:
        return f"{-stage} days before"
    if stage == 0:
        return "on the day"
    return f"{stage} days after"


def latest_due_stage(maintenance_end: dt.date, as_of: dt.date, stages: Sequence[int]) -> int | None:
    """The latest stage whose date (E + stage days) is on or before `as_of`; None when none is due yet.

    A scan that missed days catches up with this one stage only, never a burst of the earlier ones.
    """
    due = [stage for stage in stages if maintenance_end + dt.timedelta(days=stage) <= as_of]
    return max(due) if due else None


@dataclass(frozen=True)
class ScanWindow:
    """The range of maintenance ends a scan on `as_of` looks at (an index range scan on the end date)."""

    earliest_end: dt.date  # lapsed more than max_lapse_days: no longer extendable online, no reminder
    latest_end: dt.date  # the earliest stage (e.g. -60) is due for E <= as_of + 60 days

    @classmethod
    def for_scan(cls, as_of: dt.date, stages: Sequence[int], max_lapse_days: int) -> ScanWindow:
        return cls(
            earliest_end=as_of - dt.timedelta(days=max_lapse_days),
            latest_end=as_of - dt.timedelta(days=min(stages)),
        )


@dataclass
class LicenseProjection:
    license_id: str
    product_sku: str | None  # None until license.registered arrives (events out of order)
    product_name: str
    licensee_name: str
    purchase_date: dt.date | None
    maintenance_end: dt.date
    contact_email: str
    currency: str | None
    end_customer_email: str | None = None

    def apply_end(self, maintenance_end: dt.date) -> bool:
        """Keep the newest end date whatever order the events arrive in; True when it changed."""
        if maintenance_end > self.maintenance_end:
            self.maintenance_end = maintenance_end
            return True
        return False


@dataclass(frozen=True)
class DueReminder:
    license: LicenseProjection
    stage: int

    @property
    def dedupe_key(self) -> str:
        return reminder_dedupe_key(self.license.license_id, self.license.maintenance_end, self.stage)


@dataclass
class Email:
    """An email the notifier has decided to send; recorded before any SMTP traffic."""

    type: EmailType
    recipient: str
    dedupe_key: str
    context: dict[str, Any] = field(default_factory=dict)
    status: EmailStatus = EmailStatus.PENDING
    attempts: int = 0
    id: int | None = None
    message_id: str | None = None


def reminder_dedupe_key(license_id: str, maintenance_end: dt.date, stage: int) -> str:
    return f"reminder:{license_id}:{maintenance_end.isoformat()}:{stage}"


def message_id_for(dedupe_key: str, domain: str) -> str:
    """Deterministic Message-ID: a retried send of the same email carries the same id, so duplicates show."""
    digest = hashlib.sha256(dedupe_key.encode()).hexdigest()[:32]
    return f"<{digest}@{domain}>"
