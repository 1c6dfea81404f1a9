"""The link's state machine, expiry and token derivation (DESIGN.md section 3)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st
from token_service.domain.events import LinkIssued, LinkRedeemed, LinkRevoked
from token_service.domain.model import DiscountPolicy, ExtensionLink, LinkStateError, LinkStatus
from token_service.domain.tokens import LinkSecrets, derive_token, is_well_formed, secret_id, token_hash

SECRETS = LinkSecrets("current-secret-0123456789")
E = dt.date(2025, 3, 31)


def new_link(cycle_end: dt.date = E, max_lapse_days: int = 365, link_secrets: LinkSecrets = SECRETS):
    return ExtensionLink.issue(
        license_id="lic-1",
        product_sku="PRO",
        cycle_end=cycle_end,
        licensee_name="Acme GmbH",
        currency="EUR",
        customer_discount_bp=5000,
        max_lapse_days=max_lapse_days,
        link_secrets=link_secrets,
    )


def test_issue_creates_an_active_link_storing_only_the_hash_and_an_issued_event() -> None:
    link, token = new_link()
    assert link.state == LinkStatus.ACTIVE
    assert link.token_hash == token_hash(token)
    assert token not in vars(link).values()
    assert is_well_formed(token) and len(token) == 32
    assert len(bytes.fromhex(link.nonce)) == 16
    assert link.events == [LinkIssued(link.id, "lic-1", E, 5000, dt.date(2026, 3, 31))]


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (dt.date(2025, 1, 1), LinkStatus.ACTIVE),
        (E, LinkStatus.ACTIVE),
        (dt.date(2026, 3, 31), LinkStatus.ACTIVE),  # last valid day: E + max_lapse_days
        (dt.date(2026, 4, 1), LinkStatus.EXPIRED),
    ],
)
def test_expiry_at_cycle_end_plus_max_lapse_days(today: dt.date, expected: LinkStatus) -> None:
    link, _ = new_link()
    assert link.expires_on == dt.date(2026, 3, 31)
    assert link.status_on(today) == expected


def test_max_lapse_days_is_configurable() -> None:
    link, _ = new_link(max_lapse_days=30)
    assert link.expires_on == dt.date(2025, 4, 30)
    assert link.status_on(dt.date(2025, 5, 1)) == LinkStatus.EXPIRED


def test_redeem_active_link_then_same_order_is_a_no_op() -> None:
    link, _ = new_link()
    link.events.clear()
    assert link.redeem("R-1") is True
    assert link.redeem("R-1") is False
    assert link.status_on(E) == LinkStatus.REDEEMED
    assert link.redeemed_order_number == "R-1"
    assert link.events == [LinkRedeemed(link.id, "lic-1", "R-1")]


def test_redeemed_status_wins_over_expiry() -> None:
    link, _ = new_link()
    link.redeem("R-1")
    assert link.status_on(dt.date(2030, 1, 1)) == LinkStatus.REDEEMED


def test_redeem_by_another_order_is_refused() -> None:
    link, _ = new_link()
    link.redeem("R-1")
    with pytest.raises(LinkStateError) as err:
        link.redeem("R-2")
    assert err.value.status == "redeemed"


def test_revoke_active_link_twice_publishes_once() -> None:
    link, _ = new_link()
    link.events.clear()
    assert link.revoke("maintenance_extended") is True
    assert link.revoke("operations") is False
    assert link.status_on(E) == LinkStatus.REVOKED
    assert link.revoked_reason == "maintenance_extended"
    assert link.events == [LinkRevoked(link.id, "lic-1", "maintenance_extended")]


@pytest.mark.parametrize(("first", "then"), [("revoke", "redeem"), ("redeem", "revoke")])
def test_terminal_states_refuse_the_other_transition(first: str, then: str) -> None:
    link, _ = new_link()
    link.redeem("R-1") if first == "redeem" else link.revoke("operations")
    with pytest.raises(LinkStateError):
        link.redeem("R-2") if then == "redeem" else link.revoke("operations")


def test_token_is_rederived_identically_from_the_stored_nonce() -> None:
    link, token = new_link()
    assert link.token(SECRETS) == token
    assert link.matches(token, SECRETS)
    assert derive_token("current-secret-0123456789", "lic-1", E, link.nonce) == token


def test_a_database_row_without_the_secret_derives_nothing_usable() -> None:
    link, token = new_link()
    other = LinkSecrets("attacker-guess-0123456789")
    assert link.token(other) is None
    assert not link.matches(token, other)


def test_rotation_previous_secret_keeps_old_links_then_retiring_it_stops_them() -> None:
    old = LinkSecrets("old-secret-0123456789")
    link, token = new_link(link_secrets=old)
    rotated = LinkSecrets("new-secret-0123456789", previous="old-secret-0123456789")
    assert link.token(rotated) == token  # the URL that was sent is re-issued unchanged
    assert link.matches(token, rotated)
    retired = LinkSecrets("new-secret-0123456789")
    assert link.token(retired) is None
    assert not link.matches(token, retired)
    fresh = link.rekey(retired)
    assert fresh != token and link.matches(fresh, retired)
    assert link.secret_id == secret_id("new-secret-0123456789")


def test_secret_id_does_not_reveal_the_secret() -> None:
    assert "old-secret" not in secret_id("old-secret-0123456789")
    assert secret_id("a" * 20) != secret_id("b" * 20)


@pytest.mark.parametrize(
    "token", ["", "short", "a" * 31, "a" * 33, "a" * 31 + "=", "a" * 31 + "/", "é" * 32, "a" * 31 + "\n"]
)
def test_malformed_tokens(token: str) -> None:
    assert not is_well_formed(token)


@pytest.mark.parametrize(
    ("license_bp", "product_bp", "expected"),
    [(None, None, 5000), (None, 4000, 4000), (6000, 4000, 6000), (0, None, 0)],
)
def test_discount_policy_license_over_product_over_default(
    license_bp: int | None, product_bp: int | None, expected: int
) -> None:
    policy = DiscountPolicy(
        5000,
        product_bp={} if product_bp is None else {"PRO": product_bp},
        license_bp={} if license_bp is None else {"lic-1": license_bp},
    )
    assert policy.customer_discount_bp("lic-1", "PRO") == expected
    assert policy.customer_discount_bp("lic-2", "STD") == 5000


license_ids = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=20)
dates = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2100, 1, 1))


@given(st.tuples(license_ids, dates), st.tuples(license_ids, dates))
def test_distinct_issues_never_collide(a: tuple[str, dt.date], b: tuple[str, dt.date]) -> None:
    link_a, token_a = new_link_for(*a)
    link_b, token_b = new_link_for(*b)
    assert token_a != token_b
    assert link_a.token_hash != link_b.token_hash


@given(license_ids, dates)
def test_derivation_is_bound_to_license_and_cycle(license_id: str, cycle_end: dt.date) -> None:
    link, token = new_link_for(license_id, cycle_end)
    assert derive_token(SECRETS.current, license_id, cycle_end + dt.timedelta(days=1), link.nonce) != token
    assert derive_token(SECRETS.current, license_id + "x", cycle_end, link.nonce) != token


def new_link_for(license_id: str, cycle_end: dt.date):
    return ExtensionLink.issue(
        license_id=license_id,
        product_sku="PRO",
        cycle_end=cycle_end,
        licensee_name="L",
        currency="EUR",
        customer_discount_bp=5000,
        max_lapse_days=365,
        link_secrets=SECRETS,
    )
