"""Money in integer minor units with an ISO 4217 currency, basis points, and the one rounding rule. No floats."""

from __future__ import annotations

from dataclasses import dataclass

BP_WHOLE = 10_000  # 100 % in basis points


def round_half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded to the nearest integer, halves away from zero (exact integer arithmetic)."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    sign = -1 if numerator < 0 else 1
    return sign * ((2 * abs(numerator) + denominator) // (2 * denominator))


@dataclass(frozen=True, order=True)
class Money:
    amount: int  # minor units (cents)
    currency: str  # ISO 4217 alpha code, e.g. "EUR"

    def __post_init__(self) -> None:
        if not isinstance(self.amount, int) or isinstance(self.amount, bool):
            raise TypeError("Money.amount must be an int of minor units")
        if len(self.currency) != 3 or not self.currency.isalpha() or not self.currency.isupper():
            raise ValueError(f"not an ISO 4217 currency code: {self.currency!r}")

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount - other.amount, self.currency)

    def times(self, factor: int) -> Money:
        return Money(self.amount * factor, self.currency)

    def _same_currency(self, other: Money) -> None:
        if self.currency != other.currency:
            raise ValueError(f"currency mismatch: {self.currency} vs {other.currency}")

    def to_dict(self) -> dict[str, object]:
        return {"amount": self.amount, "currency": self.currency}


def check_bp(value: int) -> int:
    if not 0 <= value <= BP_WHOLE:
        raise ValueError(f"basis points out of range: {value}")
    return value


def discounted_unit_price(list_price: Money, customer_discount_bp: int, reseller_discount_bp: int) -> Money:
    """unit = round_half_up(L * (10000 - dc) * (10000 - dr) / 10^8): both discounts stacked, rounded once."""
    factor = (BP_WHOLE - check_bp(customer_discount_bp)) * (BP_WHOLE - check_bp(reseller_discount_bp))
    return Money(round_half_up(list_price.amount * factor, BP_WHOLE * BP_WHOLE), list_price.currency)


def effective_discount_bp(customer_discount_bp: int, reseller_discount_bp: int) -> int:
    """10000 - (10000 - dc) * (10000 - dr) / 10000, in whole bp (rounded half up): 5000 + 1000 -> 5500."""
    remaining = (BP_WHOLE - check_bp(customer_discount_bp)) * (BP_WHOLE - check_bp(reseller_discount_bp))
    return BP_WHOLE - round_half_up(remaining, BP_WHOLE)
