"""The extension link and its states (DESIGN.md section 3). Plain classes, no Flask, no SQLAlchemy.

Stored states are active, redeemed and revoked; *expired* is read from the calendar: an active link is expired
once today is after ``expires_on = cycle_end + max_lapse_days``. Transitions:

    active --redeem(order)--> redeemed      (order.paid; the same order again is a no-op)
    active --revoke(reason)--> revoked      (license.maintenance_extended or operations; again is a no-op)

Redeeming is allowed for a stored-active link even past its expiry date: a paid order is a fact (order-service
checked the link when it took the payment), the token-service only records it.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid

from token_service.domain.events import DomainEvent, LinkIssued, LinkRedeemed, LinkRevoked
from token_service.domain.tokens import LinkSecrets, new_nonce, token_hash

# The reason token-service's consumer gives when license.maintenance_extended revokes a license's other links.
REVOKED_BY_EXTENSION = "maintenance_extended"


class LinkStatus(enum.StrEnum):
    ACTIVE = "active"
    REDEEMED = "redeemed"
    REVOKED = "revoked"
    EXPIRED = "expired"


class LinkStateError(Exception):
    """A transition the link's state does not allow; ``status`` names the state it is in."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status = status


class ExtensionLink:
    def __init__(
        self,
        *,
        id: str,
        license_id: str,
        product_sku: str,
        cycle_end: dt.date,
        licensee_name: str,
        currency: str,
        customer_discount_bp: int,
        expires_on: dt.date,
        nonce: str,
        secret_id: str,
        token_hash: bytes,
        state: str = LinkStatus.ACTIVE.value,
        redeemed_order_number: str | None = None,
        revoked_reason: str | None = None,
    ) -> None:
        self.id = id
        self.license_id = license_id
        self.product_sku = product_sku
        self.cycle_end = cycle_end
        self.licensee_name = licensee_name
        self.currency = currency
        self.customer_discount_bp = customer_discount_bp
        self.expires_on = expires_on
        self.nonce = nonce
        self.secret_id = secret_id
        self.token_hash = token_hash
        self.state = state
        self.redeemed_order_number = redeemed_order_number
        self.revoked_reason = revoked_reason
        self.events: list[DomainEvent] = []

    @classmethod
    def issue(
        cls,
        *,
        license_id: str,
        product_sku: str,
        cycle_end: dt.date,
        licensee_name: str,
        currency: str,
        customer_discount_bp: int,
        max_lapse_days: int,
        link_secrets: LinkSecrets,
        link_id: str | None = None,
    ) -> tuple[ExtensionLink, str]:
        """A new active link and its raw token (returned once to the caller, never stored)."""
        link = cls(
            id=link_id or str(uuid.uuid4()),
            license_id=license_id,
            product_sku=product_sku,
            cycle_end=cycle_end,
            licensee_name=licensee_name,
            currency=currency,
            customer_discount_bp=customer_discount_bp,
            expires_on=cycle_end + dt.timedelta(days=max_lapse_days),
            nonce="",
            secret_id="",
            token_hash=b"",
        )
        token = link.rekey(link_secrets)
        link.events.append(
            LinkIssued(
                link_id=link.id,
                license_id=license_id,
                cycle_end=cycle_end,
                customer_discount_bp=customer_discount_bp,
                expires_on=link.expires_on,
            )
        )
        return link, token

    def token(self, link_secrets: LinkSecrets) -> str | None:
        """The same token as when issued, or None when its secret has been retired."""
        return link_secrets.derive(self.secret_id, self.license_id, self.cycle_end, self.nonce)

    def rekey(self, link_secrets: LinkSecrets) -> str:
        """A fresh nonce under the current secret: the old token (if any) stops resolving."""
        self.nonce = new_nonce()
        self.secret_id = link_secrets.current_id
        token = link_secrets.derive(self.secret_id, self.license_id, self.cycle_end, self.nonce)
        assert token is not None
        self.token_hash = token_hash(token)
        return token

    def token_or_rekey(self, link_secrets: LinkSecrets) -> str:
        return self.token(link_secrets) or self.rekey(link_secrets)

    def matches(self, presented: str, link_secrets: LinkSecrets) -> bool:
        return link_secrets.matches(presented, self.secret_id, self.license_id, self.cycle_end, self.nonce)

    def status_on(self, today: dt.date) -> LinkStatus:
        if self.state == LinkStatus.ACTIVE and today > self.expires_on:
            return LinkStatus.EXPIRED
        return LinkStatus(self.state)

    def redeem(self, order_number: str) -> bool:
        """Record the paid order. True if the state changed, False for a repeat of the same order."""
        if self.state == LinkStatus.REDEEMED:
            if self.redeemed_order_number == order_number:
                return False
            raise LinkStateError(self.state, "link already redeemed by another order")
        if self.state == LinkStatus.REVOKED and self.revoked_reason == REVOKED_BY_EXTENSION:
            # events out of order: a later extension's clean-up reached this link before its own order.paid.
            # The payment happened first (order-service refuses to take one once the end date moved): it wins.
            self.revoked_reason = None
        elif self.state != LinkStatus.ACTIVE:
            raise LinkStateError(self.state, f"a {self.state} link cannot be redeemed")
        self.state = LinkStatus.REDEEMED.value
        self.redeemed_order_number = order_number
        self.events.append(LinkRedeemed(link_id=self.id, license_id=self.license_id, order_number=order_number))
        return True

    def revoke(self, reason: str) -> bool:
        """True if the state changed, False if already revoked. A redeemed link stays redeemed."""
        if self.state == LinkStatus.REVOKED:
            return False
        if self.state != LinkStatus.ACTIVE:
            raise LinkStateError(self.state, f"a {self.state} link cannot be revoked")
        self.state = LinkStatus.REVOKED.value
        self.revoked_reason = reason
        self.events.append(LinkRevoked(link_id=self.id, license_id=self.license_id, reason=reason))
        return True


class DiscountPolicy:
    """The customer discount a new link carries: per-license override, else per-product, else the default."""

    def __init__(
        self,
        default_bp: int,
        product_bp: dict[str, int] | None = None,
        license_bp: dict[str, int] | None = None,
    ) -> None:
        self.default_bp = default_bp
        self.product_bp = product_bp or {}
        self.license_bp = license_bp or {}

    def customer_discount_bp(self, license_id: str, product_sku: str) -> int:
        if license_id in self.license_bp:
            return self.license_bp[license_id]
        if product_sku in self.product_bp:
            return self.product_bp[product_sku]
        return self.default_bp
