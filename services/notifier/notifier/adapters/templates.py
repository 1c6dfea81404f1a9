"""Jinja templates per email type (notifier/templates/emails/<type>.{subject.txt,txt,html})."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, TemplateError, select_autoescape

from notifier.domain.model import EmailType
from notifier.service_layer.ports import PermanentDeliveryError, RenderedEmail

# ISO 4217 currencies whose minor unit is not 1/100 (the others use two decimals).
MINOR_UNIT_DIGITS = {
    "BIF": 0,
    "CLP": 0,
    "JPY": 0,
    "KRW": 0,
    "ISK": 0,
    "VND": 0,
    "XAF": 0,
    "XOF": 0,
    "BHD": 3,
    "JOD": 3,
    "KWD": 3,
    "OMR": 3,
    "TND": 3,
}


def format_money(money: dict[str, Any]) -> str:
    """{"amount": 123450, "currency": "EUR"} -> "1,234.50 EUR" (integer minor units, never floats)."""
    digits = MINOR_UNIT_DIGITS.get(money["currency"], 2)
    value = Decimal(int(money["amount"])).scaleb(-digits)
    return f"{value:,.{digits}f} {money['currency']}"


def format_percent(basis_points: int) -> str:
    """5500 -> "55 %", 1250 -> "12.5 %"."""
    value = Decimal(int(basis_points)) / 100
    text = f"{value:f}".rstrip("0").rstrip(".") if "." in f"{value:f}" else f"{value:f}"
    return f"{text} %"


def format_date(value: Any) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


class JinjaRenderer:
    def __init__(self) -> None:
        loader = PackageLoader("notifier", "templates")
        self.html = Environment(loader=loader, undefined=StrictUndefined, autoescape=select_autoescape(["html"]))
        self.text = Environment(loader=loader, undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)  # noqa: S701 - plain-text parts
        for env in (self.html, self.text):
            env.filters["money"] = format_money
            env.filters["percent"] = format_percent
            env.filters["date"] = format_date

    def render(self, email_type: EmailType, context: dict[str, Any]) -> RenderedEmail:
        try:
            return self._render(str(email_type), context)
        except TemplateError as exc:  # a missing fact or a template bug: retrying the same email cannot help
            raise PermanentDeliveryError(f"template {email_type}: {exc}") from None

    def _render(self, name: str, context: dict[str, Any]) -> RenderedEmail:
        subject = self.text.get_template(f"emails/{name}.subject.txt").render(**context)
        subject = " ".join(subject.split())  # one line, no header injection through a newline
        text = self.text.get_template(f"emails/{name}.txt").render(**context)
        html = self.html.get_template(f"emails/{name}.html").render(subject=subject, **context)
        return RenderedEmail(subject=subject, text=text, html=html)
