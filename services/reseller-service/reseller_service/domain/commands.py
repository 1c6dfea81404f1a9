"""What callers ask the reseller service to do: one small dataclass per use case."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class Command:
    pass


@dataclass(frozen=True)
class RegisterReseller(Command):
    company: str
    contact_name: str
    email: str
    password: str = field(repr=False)
    billing_address: dict[str, Any]
    phone: str
    vat_id: str | None = None


@dataclass(frozen=True)
class Authenticate(Command):
    email: str
    password: str = field(repr=False)
    client_address: str = "unknown"


@dataclass(frozen=True)
class ApproveReseller(Command):
    reseller_id: str
    discount_bp: int | None = None
    invoice_allowed: bool | None = None


@dataclass(frozen=True)
class RejectReseller(Command):
    reseller_id: str
    reason: str


@dataclass(frozen=True)
class SuspendReseller(Command):
    reseller_id: str
    reason: str = ""


@dataclass(frozen=True)
class UpdateBilling(Command):
    reseller_id: str
    changes: dict[str, Any]
    changed_by: str


@dataclass(frozen=True)
class RequestPasswordReset(Command):
    email: str


@dataclass(frozen=True)
class CompletePasswordReset(Command):
    token: str = field(repr=False)
    new_password: str = field(repr=False)


@dataclass(frozen=True)
class SubmitChangeRequest(Command):
    reseller_email: str
    previous_order_number: str
    topic: str
    message: str


@dataclass(frozen=True)
class CloseChangeRequest(Command):
    change_request_id: str
    closed_by: str
