"""Maintenance dates are anchored on the original purchase date P (DESIGN.md section 2)."""

from __future__ import annotations

import datetime as dt


def add_years(start: dt.date, years: int) -> dt.date:
    """`start` + whole years; Feb 29 becomes Feb 28 in a non-leap target year."""
    try:
        return start.replace(year=start.year + years)
    except ValueError:
        return start.replace(year=start.year + years, day=28)


def whole_years_between(purchase_date: dt.date, maintenance_end: dt.date) -> int:
    """n such that maintenance_end == P + n years (the largest n with P + n years <= maintenance_end)."""
    years = maintenance_end.year - purchase_date.year
    while years > 0 and add_years(purchase_date, years) > maintenance_end:
        years -= 1
    return years


def next_maintenance_end(
    purchase_date: dt.date, maintenance_end: dt.date, today: dt.date, term_years: int = 1
) -> dt.date:
    """The end date a `term_years` extension bought `today` would give (not lapsed: P + (n + t) years; lapsed:
    the smallest P + m years with m >= n + t that lies after today)."""
    years = whole_years_between(purchase_date, maintenance_end) + term_years
    if today > maintenance_end:
        while add_years(purchase_date, years) <= today:
            years += 1
    return add_years(purchase_date, years)
