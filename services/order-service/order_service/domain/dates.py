"""Maintenance dates: always P + whole years, Feb 29 -> Feb 28 in non-leap years, never chained."""

from __future__ import annotations

import calendar
import datetime as dt


def add_years(start: dt.date, years: int) -> dt.date:
    """`start` moved by whole years; Feb 29 maps to Feb 28 when the target year is not a leap year."""
    year = start.year + years
    if start.month == 2 and start.day == 29 and not calendar.isleap(year):
        return dt.date(year, 2, 28)
    return start.replace(year=year)


def years_covered(purchase_date: dt.date, maintenance_end: dt.date) -> int:
    """n such that maintenance_end == add_years(purchase_date, n); ValueError when the end is not on a P anniversary."""
    n = maintenance_end.year - purchase_date.year
    if n < 0 or add_years(purchase_date, n) != maintenance_end:
        raise ValueError(f"maintenance end {maintenance_end} is not a whole number of years after {purchase_date}")
    return n
