"""quote_extension: the numbers of the extension page (DESIGN.md section 2). Pure, deterministic, no I/O."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from order_service.domain.dates import add_years, years_covered
from order_service.domain.money import Money, discounted_unit_price, effective_discount_bp

OFFERED_TERMS = (1, 2, 3)
DEFAULT_MAX_LAPSE_DAYS = 365

REASON_LAPSED_TOO_LONG = "lapsed_too_long"


@dataclass(frozen=True)
class ExtensionQuote:
    term_years: int
    list_price_per_year: Money
    customer_discount_bp: int
    reseller_discount_bp: int
    effective_discount_bp: int
    price_per_year: Money
    previous_maintenance_end: dt.date
    can_extend: bool
    reason: str | None
    years_charged: int
    back_years: int
    new_maintenance_end: dt.date | None
    total: Money


def quote_extension(
    *,
    purchase_date: dt.date,
    maintenance_end: dt.date,
    list_price_per_year: Money,
    customer_discount_bp: int,
    reseller_discount_bp: int,
    term_years: int,
    today: dt.date,
    max_lapse_days: int = DEFAULT_MAX_LAPSE_DAYS,
) -> ExtensionQuote:
    """Price and dates of extending maintenance by `term_years` years.

    With E = P + n years: not lapsed (today <= E) -> new end P + (n + t), charge t years. Lapsed within
    max_lapse_days -> new end P + m with the smallest m >= n + t such that P + m > today, charge m - n years.
    Lapsed longer -> can_extend False, nothing charged.
    """
    if term_years < 1:
        raise ValueError("term_years must be >= 1")
    n = years_covered(purchase_date, maintenance_end)
    unit = discounted_unit_price(list_price_per_year, customer_discount_bp, reseller_discount_bp)
    common = {
        "term_years": term_years,
        "list_price_per_year": list_price_per_year,
        "customer_discount_bp": customer_discount_bp,
        "reseller_discount_bp": reseller_discount_bp,
        "effective_discount_bp": effective_discount_bp(customer_discount_bp, reseller_discount_bp),
        "price_per_year": unit,
        "previous_maintenance_end": maintenance_end,
    }
    if today <= maintenance_end:
        m = n + term_years
    elif (today - maintenance_end).days <= max_lapse_days:
        m = n + term_years
        while add_years(purchase_date, m) <= today:
            m += 1
    else:
        return ExtensionQuote(
            **common,  # type: ignore[arg-type]
            can_extend=False,
            reason=REASON_LAPSED_TOO_LONG,
            years_charged=0,
            back_years=0,
            new_maintenance_end=None,
            total=Money(0, unit.currency),
        )
    years_charged = m - n
    return ExtensionQuote(
        **common,  # type: ignore[arg-type]
        can_extend=True,
        reason=None,
        years_charged=years_charged,
        back_years=years_charged - term_years,
        new_maintenance_end=add_years(purchase_date, m),
        total=unit.times(years_charged),
    )


def lapsed_too_long_explanation(max_lapse_days: int) -> str:
    return (
        f"Maintenance lapsed more than {max_lapse_days} days ago and can no longer be extended online; "
        "please contact us for a new license offer."
    )
