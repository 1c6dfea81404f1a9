"""Card checks done before any charge: digits, Luhn, expiry. Only brand and last four ever leave this module."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


class InvalidCard(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, repr=False)
class CardDetails:
    number: str = ""
    exp_month: int = 0
    exp_year: int = 0
    cvc: str = ""
    holder: str = ""

    def __repr__(self) -> str:  # never print the number or the CVC
        return f"CardDetails(brand={card_brand(self.number)!r}, last4={self.number[-4:]!r})"

    @property
    def brand(self) -> str:
        return card_brand(self.number)

    @property
    def last4(self) -> str:
        return self.number[-4:]


def normalise_number(raw: str) -> str:
    return raw.replace(" ", "").replace("-", "")


def luhn_valid(number: str) -> bool:
    if not number.isdigit() or not 12 <= len(number) <= 19:
        return False
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def card_brand(number: str) -> str:
    if number.startswith("4"):
        return "visa"
    if number[:2] in {"51", "52", "53", "54", "55"} or (number[:4].isdigit() and 2221 <= int(number[:4]) <= 2720):
        return "mastercard"
    if number[:2] in {"34", "37"}:
        return "amex"
    return "card"


def validate_card(card: CardDetails, today: dt.date) -> CardDetails:
    number = normalise_number(card.number)
    if not luhn_valid(number):
        raise InvalidCard("number", "Card number is not valid.")
    if not 1 <= card.exp_month <= 12:
        raise InvalidCard("exp_month", "Expiry month must be 1 to 12.")
    if (card.exp_year, card.exp_month) < (today.year, today.month):
        raise InvalidCard("exp_year", "Card has expired.")
    if card.exp_year > today.year + 25:
        raise InvalidCard("exp_year", "Expiry year is too far in the future.")
    if not (card.cvc.isdigit() and len(card.cvc) in (3, 4)):
        raise InvalidCard("cvc", "Security code is not valid.")
    return CardDetails(
        number=number, exp_month=card.exp_month, exp_year=card.exp_year, cvc=card.cvc, holder=card.holder
    )
