"""Payment providers behind one interface. The sandbox never sees more than it needs and stores nothing."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Protocol

from order_service.domain.cards import CardDetails
from order_service.domain.money import Money


@dataclass(frozen=True)
class ChargeResult:
    succeeded: bool
    reason: str | None
    reference: str | None
    card_brand: str
    card_last4: str


class CardProvider(Protocol):
    def charge(self, amount: Money, card: CardDetails, *, reference: str) -> ChargeResult: ...


SANDBOX_DECLINES = {
    "4000000000000002": "card_declined",
    "4000000000009995": "insufficient_funds",
}


class SandboxCardProvider:
    """Test numbers: 4242424242424242 succeeds, 4000000000000002 declined, 4000000000009995 insufficient funds.
    Any other card that passed validation succeeds. Counts charges so tests can prove 'no charge'."""

    def __init__(self) -> None:
        self.charges: list[tuple[str, Money]] = []

    def charge(self, amount: Money, card: CardDetails, *, reference: str) -> ChargeResult:
        reason = SANDBOX_DECLINES.get(card.number)
        if reason:
            return ChargeResult(False, reason, None, card.brand, card.last4)
        self.charges.append((reference, amount))
        return ChargeResult(True, None, f"sbx_{uuid.uuid4().hex[:16]}", card.brand, card.last4)
