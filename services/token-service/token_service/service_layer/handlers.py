"""One function per use case. Each takes a command, a unit of work and only the dependencies it names."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from renewals_shared.observability import get_logger

from token_service.domain.model import DiscountPolicy, ExtensionLink, LinkStateError, LinkStatus
from token_service.domain.tokens import LinkSecrets, token_hash
from token_service.service_layer import commands
from token_service.service_layer.repository import DuplicateLink
from token_service.service_layer.unit_of_work import AbstractUnitOfWork

log = get_logger(__name__)


class LinkNotFound(Exception):
    pass


@dataclass(frozen=True)
class LinkView:
    """A link as the API shows it, with its status on a given day."""

    link_id: str
    license_id: str
    product_sku: str
    cycle_end: dt.date
    customer_discount_bp: int
    licensee_name: str
    currency: str
    status: str
    expires_on: dt.date
    redeemed_order_number: str | None

    @classmethod
    def of(cls, link: ExtensionLink, today: dt.date) -> LinkView:
        return cls(
            link_id=link.id,
            license_id=link.license_id,
            product_sku=link.product_sku,
            cycle_end=link.cycle_end,
            customer_discount_bp=link.customer_discount_bp,
            licensee_name=link.licensee_name,
            currency=link.currency,
            status=link_status(link, today).value,
            expires_on=link.expires_on,
            redeemed_order_number=link.redeemed_order_number,
        )


@dataclass(frozen=True)
class IssuedLink:
    link: LinkView
    token: str
    created: bool


def link_status(link: ExtensionLink, today: dt.date) -> LinkStatus:
    return link.status_on(today)


def issue_link(
    cmd: commands.IssueLink,
    uow: AbstractUnitOfWork,
    link_secrets: LinkSecrets,
    default_discount_bp: int,
    max_lapse_days: int,
    today: dt.date,
) -> IssuedLink:
    """Idempotent per (license, cycle): the existing link's token is re-derived, so the same URL comes back."""
    for _attempt in range(2):
        with uow:
            existing = uow.links.get_by_cycle(cmd.license_id, cmd.cycle_end)
            if existing is not None:
                token = existing.token(link_secrets)
                if token is None:  # derived with a secret that is no longer configured
                    token = existing.rekey(link_secrets)
                    uow.commit()
                    log.info("extension link re-keyed", link_id=existing.id)
                return IssuedLink(LinkView.of(existing, today), token, created=False)
            policy = DiscountPolicy(
                default_discount_bp,
                product_bp=_one(cmd.product_sku, uow.discounts.product_override(cmd.product_sku)),
                license_bp=_one(cmd.license_id, uow.discounts.license_override(cmd.license_id)),
            )
            link, token = ExtensionLink.issue(
                license_id=cmd.license_id,
                product_sku=cmd.product_sku,
                cycle_end=cmd.cycle_end,
                licensee_name=cmd.licensee_name,
                currency=cmd.currency,
                customer_discount_bp=policy.customer_discount_bp(cmd.license_id, cmd.product_sku),
                max_lapse_days=max_lapse_days,
                link_secrets=link_secrets,
            )
            uow.links.add(link)
            try:
                uow.commit()
            except DuplicateLink:
                continue  # a concurrent issue for the same cycle won: return its link
            log.info("extension link issued", link_id=link.id, license_id=link.license_id)
            return IssuedLink(LinkView.of(link, today), token, created=True)
    raise RuntimeError("issue_link: lost the race twice for the same cycle")


def _one(key: str, value: int | None) -> dict[str, int]:
    return {} if value is None else {key: value}


def resolve_link(
    cmd: commands.ResolveLink, uow: AbstractUnitOfWork, link_secrets: LinkSecrets, today: dt.date
) -> LinkView:
    """Lookup by sha256(token), then a constant-time check of the re-derived token. Malformed, unknown and
    retired-secret tokens all take this same path and raise the same LinkNotFound."""
    with uow:
        link = uow.links.get_by_hash(token_hash(cmd.token))
        if link is None or not link.matches(cmd.token, link_secrets):
            raise LinkNotFound()
        return LinkView.of(link, today)


def get_link(link_id: str, uow: AbstractUnitOfWork, today: dt.date) -> LinkView:
    with uow:
        link = uow.links.get(link_id)
        if link is None:
            raise LinkNotFound()
        return LinkView.of(link, today)


def revoke_link(cmd: commands.RevokeLink, uow: AbstractUnitOfWork, today: dt.date) -> LinkView:
    """Operations revoke one link. Raises LinkStateError for a redeemed link; revoking twice is a no-op."""
    with uow:
        link = uow.links.get(cmd.link_id, for_update=True)
        if link is None:
            raise LinkNotFound()
        if link.revoke(cmd.reason):
            uow.commit()
            log.info("extension link revoked", link_id=link.id, reason=cmd.reason)
        return LinkView.of(link, today)


def redeem_link(cmd: commands.RedeemLink, uow: AbstractUnitOfWork) -> None:
    """``order.paid``: the same order again is a no-op; an unknown link or a link in another state is logged and
    left alone (the payment is a fact; retrying would not change the link)."""
    with uow:
        link = uow.links.get(cmd.link_id, for_update=True)
        if link is None:
            log.warning("order paid for an unknown link", link_id=cmd.link_id)
            return
        try:
            changed = link.redeem(cmd.order_number)
        except LinkStateError as exc:
            log.warning(
                "order paid for a link that cannot be redeemed",
                link_id=link.id,
                link_status=exc.status,
                order_number=cmd.order_number,
            )
            return
        if changed:
            uow.commit()
            log.info("extension link redeemed", link_id=link.id, order_number=cmd.order_number)


def revoke_other_links(cmd: commands.RevokeOtherLinks, uow: AbstractUnitOfWork) -> list[str]:
    """``license.maintenance_extended``: revoke the license's active links, except the extended cycle's link when
    an order did the extending. Returns the revoked link ids (empty on a repeat)."""
    with uow:
        revoked = []
        for link in uow.links.active_for_license(cmd.license_id):
            if cmd.keep_cycle_end is not None and link.cycle_end == cmd.keep_cycle_end:
                continue
            if link.revoke(cmd.reason):
                revoked.append(link.id)
        uow.commit()
        if revoked:
            log.info("extension links revoked", license_id=cmd.license_id, link_ids=revoked)
        return revoked


def set_product_discount(cmd: commands.SetProductDiscount, uow: AbstractUnitOfWork) -> None:
    with uow:
        uow.discounts.set_product_override(cmd.product_sku, cmd.customer_discount_bp)
        uow.commit()


def set_license_discount(cmd: commands.SetLicenseDiscount, uow: AbstractUnitOfWork) -> None:
    with uow:
        uow.discounts.set_license_override(cmd.license_id, cmd.customer_discount_bp)
        uow.commit()
