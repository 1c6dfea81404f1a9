"""The use cases on in-memory adapters: issue, resolve, redeem, revoke, discounts, rotation."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Self

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from token_service.domain.events import DomainEvent, LinkIssued, LinkRedeemed, LinkRevoked
from token_service.domain.model import ExtensionLink, LinkStatus
from token_service.domain.tokens import LinkSecrets
from token_service.service_layer import commands, handlers
from token_service.service_layer.repository import (
    AbstractDiscountRepository,
    AbstractLinkRepository,
    DuplicateLink,
)
from token_service.service_layer.unit_of_work import AbstractUnitOfWork


class FakeLinkRepository(AbstractLinkRepository):
    def __init__(self, links: dict[str, ExtensionLink]) -> None:
        super().__init__()
        self._links = links

    def _add(self, link: ExtensionLink) -> None:
        self._links[link.id] = link

    def _get(self, link_id: str, for_update: bool) -> ExtensionLink | None:
        return self._links.get(link_id)

    def _get_by_cycle(self, license_id: str, cycle_end: dt.date) -> ExtensionLink | None:
        return next((x for x in self._links.values() if x.license_id == license_id and x.cycle_end == cycle_end), None)

    def _get_by_hash(self, token_hash: bytes) -> ExtensionLink | None:
        return next((x for x in self._links.values() if x.token_hash == token_hash), None)

    def _active_for_license(self, license_id: str) -> list[ExtensionLink]:
        return [x for x in self._links.values() if x.license_id == license_id and x.state == LinkStatus.ACTIVE]


class FakeDiscountRepository(AbstractDiscountRepository):
    def __init__(self) -> None:
        self.products: dict[str, int] = {}
        self.licenses: dict[str, int] = {}

    def product_override(self, product_sku: str) -> int | None:
        return self.products.get(product_sku)

    def license_override(self, license_id: str) -> int | None:
        return self.licenses.get(license_id)

    def set_product_override(self, product_sku: str, customer_discount_bp: int) -> None:
        self.products[product_sku] = customer_discount_bp

    def set_license_override(self, license_id: str, customer_discount_bp: int) -> None:
        self.licenses[license_id] = customer_discount_bp


class FakeUnitOfWork(AbstractUnitOfWork):
    """Committed state lives in ``stored``; an uncommitted transaction works on a copy that rollback drops."""

    def __init__(self) -> None:
        self.stored: dict[str, ExtensionLink] = {}
        self.discounts = FakeDiscountRepository()
        self.published: list[DomainEvent] = []
        self.commits = 0
        self._pending: list[DomainEvent] = []
        self.race_with: ExtensionLink | None = None  # simulates another transaction committing first

    def __enter__(self) -> Self:
        self._working = copy.deepcopy(self.stored)
        self.links = FakeLinkRepository(self._working)
        self._pending = []
        return self

    def _write_event(self, event: DomainEvent) -> None:
        self._pending.append(event)

    def _commit(self) -> None:
        if self.race_with is not None:
            winner, self.race_with = self.race_with, None
            self.stored[winner.id] = winner
            clash = [
                x
                for x in self._working.values()
                if x.id != winner.id and (x.license_id, x.cycle_end) == (winner.license_id, winner.cycle_end)
            ]
            if clash:
                self._pending = []
                raise DuplicateLink("unique (license_id, cycle_end)")
        self.stored = self._working
        self.published.extend(self._pending)
        self._pending = []
        self.commits += 1

    def rollback(self) -> None:
        self._pending = []


# --- the use cases, on the fakes above ---------------------------------------------------------------------


SECRETS = LinkSecrets("current-secret-0123456789")
E = dt.date(2025, 3, 31)
TODAY = dt.date(2025, 2, 1)


def issue(uow: FakeUnitOfWork, license_id: str = "lic-1", cycle_end: dt.date = E, link_secrets=SECRETS, **kw):
    cmd = commands.IssueLink(
        license_id=license_id,
        product_sku=kw.get("product_sku", "PRO"),
        cycle_end=cycle_end,
        licensee_name=kw.get("licensee_name", "Acme GmbH"),
        currency="EUR",
    )
    return handlers.issue_link(cmd, uow, link_secrets, 5000, 365, kw.get("today", TODAY))


def test_issue_then_resolve_returns_the_bound_data() -> None:
    uow = FakeUnitOfWork()
    issued = issue(uow)
    assert issued.created
    view = handlers.resolve_link(commands.ResolveLink(issued.token), uow, SECRETS, TODAY)
    assert view == issued.link
    assert (view.license_id, view.cycle_end, view.licensee_name, view.currency) == ("lic-1", E, "Acme GmbH", "EUR")
    assert view.customer_discount_bp == 5000
    assert view.status == "active" and view.expires_on == dt.date(2026, 3, 31)
    assert [type(e) for e in uow.published] == [LinkIssued]


def test_issue_is_idempotent_per_license_and_cycle() -> None:
    uow = FakeUnitOfWork()
    first = issue(uow)
    again = issue(uow, licensee_name="Changed Name")
    assert not again.created
    assert again.token == first.token and again.link == first.link
    assert len(uow.stored) == 1 and len(uow.published) == 1
    other_cycle = issue(uow, cycle_end=dt.date(2026, 3, 31))
    assert other_cycle.created and other_cycle.token != first.token


def test_concurrent_issue_returns_the_winner() -> None:
    uow = FakeUnitOfWork()
    winner = FakeUnitOfWork()
    won = issue(winner)
    uow.race_with = winner.stored[won.link.link_id]
    lost = issue(uow)
    assert not lost.created
    assert lost.token == won.token
    assert len(uow.stored) == 1 and uow.published == []


def test_discount_overrides_are_fixed_into_new_links_only() -> None:
    uow = FakeUnitOfWork()
    before = issue(uow, license_id="lic-1")
    handlers.set_product_discount(commands.SetProductDiscount("PRO", 4000), uow)
    handlers.set_license_discount(commands.SetLicenseDiscount("lic-2", 6000), uow)
    assert issue(uow, license_id="lic-1").link.customer_discount_bp == 5000  # fixed when issued
    assert issue(uow, license_id="lic-3").link.customer_discount_bp == 4000
    assert issue(uow, license_id="lic-2").link.customer_discount_bp == 6000
    assert issue(uow, license_id="lic-4", product_sku="STD").link.customer_discount_bp == 5000
    assert before.link.customer_discount_bp == 5000


@pytest.mark.parametrize("token", ["", "x", "A" * 32, "not a token at all", "A" * 5000])
def test_malformed_and_unknown_tokens_are_the_same_not_found(token: str) -> None:
    uow = FakeUnitOfWork()
    issue(uow)
    with pytest.raises(handlers.LinkNotFound):
        handlers.resolve_link(commands.ResolveLink(token), uow, SECRETS, TODAY)


def test_resolve_shows_expired_after_the_lapse_window() -> None:
    uow = FakeUnitOfWork()
    issued = issue(uow)
    view = handlers.resolve_link(commands.ResolveLink(issued.token), uow, SECRETS, dt.date(2026, 4, 1))
    assert view.status == "expired"


def test_rotation_through_the_handlers() -> None:
    uow = FakeUnitOfWork()
    old = LinkSecrets("old-secret-0123456789")
    sent = issue(uow, link_secrets=old)
    rotated = LinkSecrets("new-secret-0123456789", previous="old-secret-0123456789")
    assert handlers.resolve_link(commands.ResolveLink(sent.token), uow, rotated, TODAY).link_id == sent.link.link_id
    assert issue(uow, link_secrets=rotated).token == sent.token  # re-issue keeps the URL that was sent
    new_links = issue(uow, license_id="lic-2", link_secrets=rotated)
    assert handlers.resolve_link(commands.ResolveLink(new_links.token), uow, rotated, TODAY)

    retired = LinkSecrets("new-secret-0123456789")
    with pytest.raises(handlers.LinkNotFound):
        handlers.resolve_link(commands.ResolveLink(sent.token), uow, retired, TODAY)
    rekeyed = issue(uow, link_secrets=retired)
    assert not rekeyed.created and rekeyed.token != sent.token and rekeyed.link.link_id == sent.link.link_id
    assert handlers.resolve_link(commands.ResolveLink(rekeyed.token), uow, retired, TODAY)
    assert issue(uow, link_secrets=retired).token == rekeyed.token


def test_redeem_is_idempotent_and_publishes_once() -> None:
    uow = FakeUnitOfWork()
    issued = issue(uow)
    handlers.redeem_link(commands.RedeemLink(issued.link.link_id, "R-1"), uow)
    handlers.redeem_link(commands.RedeemLink(issued.link.link_id, "R-1"), uow)
    handlers.redeem_link(commands.RedeemLink(issued.link.link_id, "R-2"), uow)  # logged, ignored
    handlers.redeem_link(commands.RedeemLink("unknown", "R-3"), uow)  # logged, ignored
    view = handlers.resolve_link(commands.ResolveLink(issued.token), uow, SECRETS, TODAY)
    assert view.status == "redeemed" and view.redeemed_order_number == "R-1"
    assert uow.published[1:] == [LinkRedeemed(issued.link.link_id, "lic-1", "R-1")]


def test_maintenance_extended_revokes_the_other_links_and_keeps_the_ordered_cycle() -> None:
    uow = FakeUnitOfWork()
    ordered = issue(uow, cycle_end=E)
    stray = issue(uow, cycle_end=dt.date(2024, 3, 31))
    other_license = issue(uow, license_id="lic-2")
    cmd = commands.RevokeOtherLinks("lic-1", "maintenance_extended", keep_cycle_end=E)
    assert handlers.revoke_other_links(cmd, uow) == [stray.link.link_id]
    assert handlers.revoke_other_links(cmd, uow) == []
    status = {
        i.link.link_id: handlers.get_link(i.link.link_id, uow, TODAY).status for i in (ordered, stray, other_license)
    }
    assert status == {
        ordered.link.link_id: "active",
        stray.link.link_id: "revoked",
        other_license.link.link_id: "active",
    }
    assert uow.published[3:] == [LinkRevoked(stray.link.link_id, "lic-1", "maintenance_extended")]
    handlers.revoke_other_links(commands.RevokeOtherLinks("lic-1", "maintenance_extended"), uow)
    assert handlers.get_link(ordered.link.link_id, uow, TODAY).status == "revoked"


def test_operations_revoke_one_link() -> None:
    uow = FakeUnitOfWork()
    issued = issue(uow)
    assert handlers.revoke_link(commands.RevokeLink(issued.link.link_id, "fraud"), uow, TODAY).status == "revoked"
    assert handlers.revoke_link(commands.RevokeLink(issued.link.link_id, "fraud"), uow, TODAY).status == "revoked"
    with pytest.raises(handlers.LinkNotFound):
        handlers.revoke_link(commands.RevokeLink("nope", "fraud"), uow, TODAY)
    redeemed = issue(uow, license_id="lic-2")
    handlers.redeem_link(commands.RedeemLink(redeemed.link.link_id, "R-1"), uow)
    with pytest.raises(handlers.LinkStateError):
        handlers.revoke_link(commands.RevokeLink(redeemed.link.link_id, "fraud"), uow, TODAY)


def test_no_event_carries_the_raw_token() -> None:
    uow = FakeUnitOfWork()
    issued = issue(uow)
    handlers.redeem_link(commands.RedeemLink(issued.link.link_id, "R-1"), uow)
    assert all(issued.token not in repr(e) for e in uow.published)


issue_keys = st.tuples(st.text(min_size=1, max_size=12), st.dates(dt.date(2000, 1, 1), dt.date(2100, 1, 1)))


@settings(max_examples=50)
@given(st.lists(issue_keys, min_size=1, max_size=8))
def test_resolve_of_issue_is_identity_and_distinct_issues_never_collide(keys: list[tuple[str, dt.date]]) -> None:
    uow = FakeUnitOfWork()
    issued = {key: issue(uow, license_id=key[0], cycle_end=key[1]) for key in keys}
    assert len({i.token for i in issued.values()}) == len(issued)
    for (license_id, cycle_end), i in issued.items():
        view = handlers.resolve_link(commands.ResolveLink(i.token), uow, SECRETS, TODAY)
        assert (view.license_id, view.cycle_end, view.link_id) == (license_id, cycle_end, i.link.link_id)
