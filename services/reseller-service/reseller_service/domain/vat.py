"""VAT identification numbers: normal form and the format of each EU member state's prefix (VIES formats).

Only the format is checked (no check digits, no VIES lookup). Greece uses the prefix EL, Northern Ireland XI.
Other prefixes (non-EU VAT or tax numbers) pass with a generic shape check.
"""

from __future__ import annotations

import re

EU_VAT_FORMATS: dict[str, re.Pattern[str]] = {
    prefix: re.compile(pattern)
    for prefix, pattern in {
        "AT": r"U\d{8}",
        "BE": r"[01]\d{9}",
        "BG": r"\d{9,10}",
        "CY": r"\d{8}[A-Z]",
        "CZ": r"\d{8,10}",
        "DE": r"\d{9}",
        "DK": r"\d{8}",
        "EE": r"\d{9}",
        "EL": r"\d{9}",
        "ES": r"[A-Z0-9]\d{7}[A-Z0-9]",
        "FI": r"\d{8}",
        "FR": r"[A-HJ-NP-Z0-9]{2}\d{9}",
        "HR": r"\d{11}",
        "HU": r"\d{8}",
        "IE": r"\d{7}[A-W][A-I]?|\d[A-Z+*]\d{5}[A-W]",
        "IT": r"\d{11}",
        "LT": r"\d{9}|\d{12}",
        "LU": r"\d{8}",
        "LV": r"\d{11}",
        "MT": r"\d{8}",
        "NL": r"\d{9}B\d{2}",
        "PL": r"\d{10}",
        "PT": r"\d{9}",
        "RO": r"\d{2,10}",
        "SE": r"\d{10}01",
        "SI": r"\d{8}",
        "SK": r"\d{10}",
        "XI": r"\d{9}|\d{12}|GD\d{3}|HA\d{3}",
    }.items()
}
# The VAT prefix of an EU country where it differs from its ISO code.
VAT_PREFIX_BY_COUNTRY = {"GR": "EL"}
_GENERIC = re.compile(r"[A-Z]{2}[A-Z0-9]{2,13}")


def normalise_vat_id(vat_id: str) -> str:
    return re.sub(r"[\s.\-]", "", vat_id).upper()


def vat_id_problem(vat_id: str, country: str | None = None) -> str | None:
    """None when the normalised `vat_id` is well formed (and fits `country` when that is an EU member state)."""
    if not _GENERIC.fullmatch(vat_id):
        return "must start with a two-letter country prefix followed by 2 to 13 letters or digits"
    prefix, number = vat_id[:2], vat_id[2:]
    pattern = EU_VAT_FORMATS.get(prefix)
    if pattern is not None and not pattern.fullmatch(number):
        return f"is not a valid {prefix} VAT number"
    if country is not None:
        expected = VAT_PREFIX_BY_COUNTRY.get(country, country)
        if expected in EU_VAT_FORMATS and prefix in EU_VAT_FORMATS and prefix != expected and prefix != "XI":
            return f"prefix {prefix} does not match the billing country {country} (expected {expected})"
    return None
