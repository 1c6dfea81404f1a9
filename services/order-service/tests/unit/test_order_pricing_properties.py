"""Invariants of the pricing and date rules, checked with hypothesis."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from order_service.domain.dates import add_years, years_covered
from order_service.domain.money import Money, discounted_unit_price, effective_discount_bp
from order_service.domain.pricing import quote_extension

bp = st.integers(min_value=0, max_value=10_000)
cents = st.integers(min_value=0, max_value=10**9)
purchase_dates = st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2060, 12, 31))


@given(cents, bp, bp)
def test_price_never_negative_nor_above_list(list_price: int, dc: int, dr: int) -> None:
    unit = discounted_unit_price(Money(list_price, "EUR"), dc, dr)
    assert 0 <= unit.amount <= list_price


@given(bp, bp)
def test_effective_discount_never_below_either_discount(dc: int, dr: int) -> None:
    eff = effective_discount_bp(dc, dr)
    assert max(dc, dr) <= eff <= 10_000


@given(cents, bp, bp, bp)
def test_more_discount_never_costs_more(list_price: int, dc: int, dr: int, extra: int) -> None:
    more = min(10_000, dc + extra)
    assert discounted_unit_price(Money(list_price, "EUR"), more, dr) <= discounted_unit_price(
        Money(list_price, "EUR"), dc, dr
    )


@given(
    p=purchase_dates,
    n=st.integers(min_value=1, max_value=10),
    offset=st.integers(min_value=-400, max_value=800),
    term=st.sampled_from([1, 2, 3]),
    max_lapse=st.integers(min_value=0, max_value=1000),
)
def test_dates_and_years_charged(p: dt.date, n: int, offset: int, term: int, max_lapse: int) -> None:
    e = add_years(p, n)
    today = e + dt.timedelta(days=offset)
    q = quote_extension(
        purchase_date=p,
        maintenance_end=e,
        list_price_per_year=Money(999, "EUR"),
        customer_discount_bp=5000,
        reseller_discount_bp=1000,
        term_years=term,
        today=today,
        max_lapse_days=max_lapse,
    )
    lapsed_days = (today - e).days
    if lapsed_days > max_lapse:
        assert not q.can_extend and q.total.amount == 0 and q.new_maintenance_end is None
        return
    assert q.can_extend and q.new_maintenance_end is not None
    m = years_covered(p, q.new_maintenance_end)  # new end is P + whole years
    assert q.new_maintenance_end > today
    assert q.new_maintenance_end > e
    # every year between E and the new end is charged exactly once
    assert q.years_charged == m - n
    assert q.years_charged >= term and q.back_years == q.years_charged - term
    assert q.total.amount == q.price_per_year.amount * q.years_charged
    # no year charged that was not needed: one year less would leave today uncovered or shorten the term
    if q.back_years > 0:
        assert add_years(p, m - 1) <= today
    if today <= e:
        assert q.back_years == 0
