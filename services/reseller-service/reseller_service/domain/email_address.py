"""Email addresses: one normal form (stripped, lower case) and a syntax check fit for a sign-up form."""

from __future__ import annotations

import re

MAX_LENGTH = 254
_LOCAL = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL = re.compile(rf"^{_LOCAL}@(?:{_LABEL}\.)+[A-Za-z]{{2,63}}$")


def normalise_email(email: str) -> str:
    return email.strip().lower()


def is_valid_email(email: str) -> bool:
    """Checks the normalised form: a dot-atom local part (max 64) at a dotted host name with a letter TLD."""
    if len(email) > MAX_LENGTH or "@" not in email:
        return False
    local = email.rsplit("@", 1)[0]
    return len(local) <= 64 and _EMAIL.fullmatch(email) is not None
