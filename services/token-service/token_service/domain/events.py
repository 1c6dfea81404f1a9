"""What happened to a link, as small dataclasses; the unit of work turns them into outbox events."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class LinkIssued:
    link_id: str
    license_id: str
    cycle_end: dt.date
    customer_discount_bp: int
    expires_on: dt.date


@dataclass(frozen=True)
class LinkRedeemed:
    link_id: str
    license_id: str
    order_number: str


@dataclass(frozen=True)
class LinkRevoked:
    link_id: str
    license_id: str
    reason: str


DomainEvent = LinkIssued | LinkRedeemed | LinkRevoked
