"""Reseller accounts and what hangs off them: billing information, password resets, change requests.

Plain classes with the rules; no Flask, no SQLAlchemy. The edge (marshmallow) validates input before it gets here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

DEFAULT_DISCOUNT_BP = 1000
MAX_DISCOUNT_BP = 10000
PASSWORD_RESET_TTL = dt.timedelta(minutes=30)


class DomainError(Exception):
    """A rule was broken; the message is safe to show to the caller."""


class InvalidTransition(DomainError):
    pass


class AccountStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    SUSPENDED = "suspended"


# from -> allowed targets (approved -> suspended; nothing leaves rejected or suspended online).
_TRANSITIONS: dict[AccountStatus, frozenset[AccountStatus]] = {
    AccountStatus.PENDING: frozenset({AccountStatus.APPROVED, AccountStatus.REJECTED}),
    AccountStatus.APPROVED: frozenset({AccountStatus.SUSPENDED}),
    AccountStatus.REJECTED: frozenset(),
    AccountStatus.SUSPENDED: frozenset(),
}


@dataclass(frozen=True)
class Address:
    line1: str
    postal_code: str
    city: str
    country: str  # ISO 3166-1 alpha-2, upper case
    line2: str = ""
    region: str = ""

    def to_dict(self) -> dict[str, str]:
        return {
            "line1": self.line1,
            "line2": self.line2,
            "postal_code": self.postal_code,
            "city": self.city,
            "region": self.region,
            "country": self.country,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Address:
        return cls(
            line1=data["line1"],
            line2=data.get("line2") or "",
            postal_code=data["postal_code"],
            city=data["city"],
            region=data.get("region") or "",
            country=data["country"],
        )


@dataclass(frozen=True)
class Party:
    """Billing party: who the invoice is addressed to."""

    name: str
    email: str
    address: Address
    company: str = ""
    vat_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "company": self.company,
            "email": self.email,
            "address": self.address.to_dict(),
            "vat_id": self.vat_id,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Party:
        return cls(
            name=data["name"],
            company=data.get("company") or "",
            email=data["email"],
            address=Address.from_dict(data["address"]),
            vat_id=data.get("vat_id") or None,
        )

    def changed_fields(self, other: Party) -> list[str]:
        """Dotted names of the fields that differ, e.g. `["address.city", "vat_id"]`."""
        changed: list[str] = []
        mine, theirs = self.to_dict(), other.to_dict()
        for key in ("name", "company", "email", "vat_id"):
            if mine[key] != theirs[key]:
                changed.append(key)
        for key, value in mine["address"].items():
            if theirs["address"][key] != value:
                changed.append(f"address.{key}")
        return changed

    def updated(self, changes: dict[str, Any]) -> Party:
        """A copy with `changes` applied; `address` may be partial."""
        values: dict[str, Any] = {k: v for k, v in changes.items() if k != "address"}
        if "address" in changes:
            values["address"] = replace(self.address, **changes["address"])
        return replace(self, **values)


@dataclass
class ResellerAccount:
    id: str
    company: str
    contact_name: str
    email: str  # normalised (stripped, lower case)
    phone: str
    password_hash: str
    billing: Party
    created_at: dt.datetime
    status: AccountStatus = AccountStatus.PENDING
    status_reason: str = ""
    discount_bp: int = DEFAULT_DISCOUNT_BP
    invoice_allowed: bool = False
    session_version: int = 1
    decided_at: dt.datetime | None = None

    @property
    def reseller_discount_bp(self) -> int:
        """What a purchase may use: only an approved account gets a discount."""
        return self.discount_bp if self.status is AccountStatus.APPROVED else 0

    def _move(self, target: AccountStatus, now: dt.datetime, reason: str = "") -> None:
        if target not in _TRANSITIONS[self.status]:
            raise InvalidTransition(f"a {self.status.value} account cannot become {target.value}")
        self.status = target
        self.status_reason = reason
        self.decided_at = now

    def approve(
        self,
        now: dt.datetime,
        discount_bp: int | None = None,
        invoice_allowed: bool | None = None,
    ) -> None:
        if discount_bp is not None:
            if not 0 <= discount_bp <= MAX_DISCOUNT_BP:
                raise DomainError("discount_bp must be between 0 and 10000")
            self.discount_bp = discount_bp
        if invoice_allowed is not None:
            self.invoice_allowed = invoice_allowed
        self._move(AccountStatus.APPROVED, now)

    def reject(self, now: dt.datetime, reason: str) -> None:
        self._move(AccountStatus.REJECTED, now, reason)

    def suspend(self, now: dt.datetime, reason: str = "") -> None:
        self._move(AccountStatus.SUSPENDED, now, reason)
        self.session_version += 1  # a suspended reseller is logged out everywhere

    def set_password_hash(self, new_hash: str) -> None:
        """A new password ends every session (the gateway compares `session_version`)."""
        self.password_hash = new_hash
        self.session_version += 1

    def rehash(self, new_hash: str) -> None:
        """Same password, stronger parameters: sessions stay valid."""
        self.password_hash = new_hash

    def update_billing(self, changes: dict[str, Any]) -> tuple[Party, list[str]]:
        """Apply billing changes; returns the previous billing and the changed field names."""
        old = self.billing
        new = old.updated(changes)
        changed = old.changed_fields(new)
        self.billing = new
        return old, changed


@dataclass
class BillingEdit:
    """Audit row: who changed a reseller's billing information, when, from what to what."""

    id: str
    reseller_id: str
    changed_by: str
    changed_at: dt.datetime
    old: dict[str, Any]
    new: dict[str, Any]
    changed_fields: list[str] = field(default_factory=list)


@dataclass
class PasswordReset:
    """A one-time reset. Only the hash of the token is stored; the token is re-derived from a server secret."""

    id: str
    reseller_id: str
    nonce: str
    token_hash: str
    created_at: dt.datetime
    expires_at: dt.datetime
    used_at: dt.datetime | None = None

    def usable(self, now: dt.datetime) -> bool:
        return self.used_at is None and now < self.expires_at

    def use(self, now: dt.datetime) -> None:
        if not self.usable(now):
            raise DomainError("this password reset link is invalid, expired or already used")
        self.used_at = now


class ChangeTopic(StrEnum):
    BILLING = "billing"
    END_CUSTOMER = "end_customer"
    OTHER = "other"


class ChangeRequestStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


@dataclass
class ChangeRequest:
    id: str
    reseller_email: str
    previous_order_number: str
    topic: ChangeTopic
    message: str
    created_at: dt.datetime
    reseller_id: str | None = None
    status: ChangeRequestStatus = ChangeRequestStatus.OPEN
    closed_at: dt.datetime | None = None
    closed_by: str | None = None

    def close(self, now: dt.datetime, closed_by: str) -> None:
        if self.status is ChangeRequestStatus.CLOSED:
            raise InvalidTransition("this change request is already closed")
        self.status = ChangeRequestStatus.CLOSED
        self.closed_at = now
        self.closed_by = closed_by
