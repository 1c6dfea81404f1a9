"""How money, discounts and dates read on the pages. Pure functions, no Flask."""

from __future__ import annotations

import datetime as dt
from typing import Any

# ISO 4217 currencies whose minor unit is not 2 digits (the common ones; everything else has 2).
_MINOR_DIGITS = {
    "JPY": 0,
    "KRW": 0,
    "ISK": 0,
    "CLP": 0,
    "VND": 0,
    "BHD": 3,
    "KWD": 3,
    "JOD": 3,
    "OMR": 3,
    "TND": 3,
}


def format_money(money: dict[str, Any] | None) -> str:
    """`{"amount": 123450, "currency": "EUR"}` -> `1,234.50 EUR` (exact, integer arithmetic only)."""
    if not money:
        return "—"
    amount = int(money["amount"])
    currency = str(money["currency"])
    digits = _MINOR_DIGITS.get(currency, 2)
    sign = "-" if amount < 0 else ""
    whole, minor = divmod(abs(amount), 10**digits)
    text = f"{whole:,}"
    if digits:
        text += f".{minor:0{digits}d}"
    return f"{sign}{text} {currency}"


def format_percent(bp: int | None) -> str:
    """Basis points -> `55 %`, `12.5 %`, `12.34 %` (no float rounding surprises)."""
    bp = int(bp or 0)
    whole, rest = divmod(bp, 100)
    if rest == 0:
        return f"{whole} %"
    return f"{whole}.{rest:02d}".rstrip("0") + " %"


def format_date(value: str | dt.date | None) -> str:
    """ISO date -> `15 March 2027` (unambiguous for every reader)."""
    if not value:
        return "—"
    day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])
    return f"{day.day} {day.strftime('%B')} {day.year}"


def years_label(years: int) -> str:
    return "1 year" if int(years) == 1 else f"{int(years)} years"


def choose_term(terms: list[dict[str, Any]], requested: str | int | None) -> dict[str, Any] | None:
    """The term the customer picked (`?term=`), or the first offered one when absent or not offered."""
    if not terms:
        return None
    try:
        wanted = int(requested) if requested not in (None, "") else None
    except (TypeError, ValueError):
        wanted = None
    for term in terms:
        if wanted is not None and int(term["years"]) == wanted:
            return term
    return terms[0]
