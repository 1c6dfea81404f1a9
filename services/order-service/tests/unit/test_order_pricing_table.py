"""DESIGN.md section 2, written out by hand as a table. Each row: the situation and what the page must show."""

from __future__ import annotations

import datetime as dt

import pytest

from order_service.domain.dates import add_years, years_covered
from order_service.domain.money import Money, discounted_unit_price, effective_discount_bp, round_half_up
from order_service.domain.pricing import quote_extension

D = dt.date.fromisoformat

# (case, list price per year in cents, dc bp, dr bp, expected unit price, expected effective discount bp)
PRICE_CASES = [
    ("seed example 50 % + reseller 10 % -> 55 %", 10000, 5000, 1000, 4500, 5500),
    ("no discounts", 10000, 0, 0, 10000, 0),
    ("100 % customer discount", 10000, 10000, 0, 0, 10000),
    ("100 % customer discount with reseller", 10000, 10000, 1000, 0, 10000),
    ("reseller discount only", 10000, 0, 1000, 9000, 1000),
    ("half cent rounds up: 9999 * 50 %", 9999, 5000, 0, 5000, 5000),
    ("half cent rounds up: 9997 * 50 %", 9997, 5000, 0, 4999, 5000),
    ("thirds: 100 * 66.67 % = 66.67", 100, 3333, 0, 67, 3333),
    ("stacked odd price 333 * 0.75 * 0.9 = 224.775", 333, 2500, 1000, 225, 3250),
    ("one cent stacked 0.765 rounds to 1", 1, 1500, 1000, 1, 2350),
    ("one cent stacked 0.45 rounds to 0", 1, 5000, 1000, 0, 5500),
    ("10002 * 25 % = 2500.5 rounds up", 10002, 5000, 5000, 2501, 7500),
    ("zero list price", 0, 5000, 1000, 0, 5500),
    ("fractional effective 4000 (6000.3 remaining)", 10000, 3333, 1000, 6000, 4000),
    ("fractional effective 4001 (5998.5 remaining rounds up)", 10000, 3335, 1000, 5999, 4001),
    ("rounded once, not per discount: 1999 * 0.5 * 0.9 = 899.55", 1999, 5000, 1000, 900, 5500),
]


@pytest.mark.parametrize(
    ("case", "list_price", "dc", "dr", "unit", "effective"), PRICE_CASES, ids=[c[0] for c in PRICE_CASES]
)
def test_unit_price_and_effective_discount(
    case: str, list_price: int, dc: int, dr: int, unit: int, effective: int
) -> None:
    assert discounted_unit_price(Money(list_price, "EUR"), dc, dr) == Money(unit, "EUR")
    assert effective_discount_bp(dc, dr) == effective


P = D("2020-03-15")
E = D("2025-03-15")  # P + 5 years
LEAP_P = D("2020-02-29")

# (case, P, E, today, term, max_lapse_days, can_extend, years_charged, back_years, new_end)
DATE_CASES = [
    ("30 days before E, 1 year", P, E, D("2025-02-13"), 1, 365, True, 1, 0, D("2026-03-15")),
    ("30 days before E, 2 years", P, E, D("2025-02-13"), 2, 365, True, 2, 0, D("2027-03-15")),
    ("30 days before E, 3 years", P, E, D("2025-02-13"), 3, 365, True, 3, 0, D("2028-03-15")),
    ("today == E is not lapsed", P, E, D("2025-03-15"), 1, 365, True, 1, 0, D("2026-03-15")),
    (
        "today == E + 1 is lapsed but next anniversary is ahead",
        P,
        E,
        D("2025-03-16"),
        1,
        365,
        True,
        1,
        0,
        D("2026-03-15"),
    ),
    ("lapsed 20 days", P, E, D("2025-04-04"), 1, 365, True, 1, 0, D("2026-03-15")),
    ("lapsed 20 days, 2 years", P, E, D("2025-04-04"), 2, 365, True, 2, 0, D("2027-03-15")),
    ("lapsed 364 days", P, E, D("2026-03-14"), 1, 365, True, 1, 0, D("2026-03-15")),
    ("lapsed 365 days: anniversary reached, one back-year", P, E, D("2026-03-15"), 1, 365, True, 2, 1, D("2027-03-15")),
    ("lapsed 365 days with a 2-year term: no back-year", P, E, D("2026-03-15"), 2, 365, True, 2, 0, D("2027-03-15")),
    ("lapsed 366 days: beyond max lapse", P, E, D("2026-03-16"), 1, 365, False, 0, 0, None),
    ("lapsed 2 years: beyond max lapse", P, E, D("2027-03-20"), 1, 365, False, 0, 0, None),
    ("lapsed 2 years with max 1000 days: 2 back-years", P, E, D("2027-03-20"), 1, 1000, True, 3, 2, D("2028-03-15")),
    ("lapsed 2 years with max 1000 days, 3-year term", P, E, D("2027-03-20"), 3, 1000, True, 3, 0, D("2028-03-15")),
    ("max lapse 0: E + 1 refused", P, E, D("2025-03-16"), 1, 0, False, 0, 0, None),
    ("max lapse 0: today == E allowed", P, E, D("2025-03-15"), 1, 0, True, 1, 0, D("2026-03-15")),
    (
        "Feb 29 P, E in leap year, 1 year -> Feb 28",
        LEAP_P,
        D("2024-02-29"),
        D("2024-02-01"),
        1,
        365,
        True,
        1,
        0,
        D("2025-02-28"),
    ),
    (
        "Feb 29 P, E in leap year, 3 years",
        LEAP_P,
        D("2024-02-29"),
        D("2024-02-01"),
        3,
        365,
        True,
        3,
        0,
        D("2027-02-28"),
    ),
    (
        "Feb 29 P, E Feb 28, next end back on Feb 29",
        LEAP_P,
        D("2023-02-28"),
        D("2023-01-10"),
        1,
        365,
        True,
        1,
        0,
        D("2024-02-29"),
    ),
    (
        "Feb 29 P, E Feb 28, 2 years -> Feb 28 not chained",
        LEAP_P,
        D("2023-02-28"),
        D("2023-01-10"),
        2,
        365,
        True,
        2,
        0,
        D("2025-02-28"),
    ),
    ("Feb 29 P, lapsed 1 day", LEAP_P, D("2025-02-28"), D("2025-03-01"), 1, 365, True, 1, 0, D("2026-02-28")),
    (
        "Feb 29 P, lapsed 365 days, anniversary Feb 29 still ahead",
        LEAP_P,
        D("2023-02-28"),
        D("2024-02-28"),
        1,
        365,
        True,
        1,
        0,
        D("2024-02-29"),
    ),
    ("Feb 29 P, lapsed 366 days: beyond max", LEAP_P, D("2023-02-28"), D("2024-02-29"), 1, 365, False, 0, 0, None),
    (
        "Feb 29 P, lapsed 366 days, max 400: anniversary today -> back-year",
        LEAP_P,
        D("2023-02-28"),
        D("2024-02-29"),
        1,
        400,
        True,
        2,
        1,
        D("2025-02-28"),
    ),
    (
        "first renewal right after purchase",
        D("2025-01-31"),
        D("2026-01-31"),
        D("2025-02-01"),
        1,
        365,
        True,
        1,
        0,
        D("2027-01-31"),
    ),
]


@pytest.mark.parametrize(
    ("case", "p", "e", "today", "term", "max_lapse", "can", "charged", "back", "new_end"),
    DATE_CASES,
    ids=[c[0] for c in DATE_CASES],
)
def test_maintenance_dates_and_years_charged(
    case: str,
    p: dt.date,
    e: dt.date,
    today: dt.date,
    term: int,
    max_lapse: int,
    can: bool,
    charged: int,
    back: int,
    new_end: dt.date | None,
) -> None:
    q = quote_extension(
        purchase_date=p,
        maintenance_end=e,
        list_price_per_year=Money(12345, "USD"),
        customer_discount_bp=5000,
        reseller_discount_bp=0,
        term_years=term,
        today=today,
        max_lapse_days=max_lapse,
    )
    assert (q.can_extend, q.years_charged, q.back_years, q.new_maintenance_end) == (can, charged, back, new_end)
    assert q.price_per_year == Money(6173, "USD")  # 6172.5 rounds half up
    assert q.total == Money(6173 * charged, "USD")
    assert (q.reason is None) == can


def test_total_is_unit_times_years_charged_including_back_years() -> None:
    q = quote_extension(
        purchase_date=P,
        maintenance_end=E,
        list_price_per_year=Money(10000, "EUR"),
        customer_discount_bp=5000,
        reseller_discount_bp=1000,
        term_years=1,
        today=D("2026-03-15"),
        max_lapse_days=365,
    )
    assert (q.price_per_year, q.years_charged, q.total, q.effective_discount_bp) == (
        Money(4500, "EUR"),
        2,
        Money(9000, "EUR"),
        5500,
    )


ADD_YEARS_CASES = [
    (D("2020-02-29"), 1, D("2021-02-28")),
    (D("2020-02-29"), 4, D("2024-02-29")),
    (D("2000-02-29"), 100, D("2100-02-28")),
    (D("2000-02-29"), 400, D("2400-02-29")),
    (D("2021-03-01"), 1, D("2022-03-01")),
    (D("2023-12-31"), 2, D("2025-12-31")),
    (D("2021-02-28"), 3, D("2024-02-28")),
]


@pytest.mark.parametrize(("start", "years", "expected"), ADD_YEARS_CASES)
def test_add_years(start: dt.date, years: int, expected: dt.date) -> None:
    assert add_years(start, years) == expected


def test_add_years_is_from_p_never_chained() -> None:
    chained = LEAP_P
    for _ in range(4):
        chained = add_years(chained, 1)
    assert chained == D("2024-02-28")  # what chaining would wrongly give
    assert add_years(LEAP_P, 4) == D("2024-02-29")


def test_years_covered_refuses_an_end_off_the_anniversary() -> None:
    assert years_covered(LEAP_P, D("2023-02-28")) == 3
    with pytest.raises(ValueError):
        years_covered(P, D("2025-03-16"))


@pytest.mark.parametrize(
    ("num", "den", "expected"), [(5, 10, 1), (4, 10, 0), (15, 10, 2), (-5, 10, -1), (0, 7, 0), (7, 7, 1)]
)
def test_round_half_up(num: int, den: int, expected: int) -> None:
    assert round_half_up(num, den) == expected


def test_money_refuses_floats_and_mixed_currencies() -> None:
    with pytest.raises(TypeError):
        Money(1.5, "EUR")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Money(1, "EUR") + Money(1, "USD")
    with pytest.raises(ValueError):
        Money(1, "eur")
