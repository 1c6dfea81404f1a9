"""Password policy (OWASP ASVS level 2, V2.1): length 12-128 counted in Unicode code points, any character
allowed, no composition rules, refused when it is one of the most common passwords or the account's email."""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from importlib import resources

MIN_LENGTH = 12
MAX_LENGTH = 128


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The shipped list (lower case), loaded once per process."""
    text = resources.files("reseller_service.domain").joinpath("data/common_passwords.txt").read_text("utf-8")
    return frozenset(line for line in text.splitlines() if line)


def _normalised(password: str) -> str:
    return unicodedata.normalize("NFKC", password)


def password_problems(password: str, email: str | None = None) -> list[str]:
    """Why `password` is refused (empty list when it is acceptable). Messages never echo the password."""
    length = len(password)  # code points as typed; the hash is over exactly what was typed
    if length < MIN_LENGTH:
        return [f"must be at least {MIN_LENGTH} characters"]
    if length > MAX_LENGTH:
        return [f"must be at most {MAX_LENGTH} characters"]
    folded = _normalised(password).casefold()
    problems: list[str] = []
    if folded in common_passwords() or folded.strip() in common_passwords():
        problems.append("is too common; choose a password that is not on lists of leaked passwords")
    if email and folded.strip() == email.strip().casefold():
        problems.append("must not be your email address")
    if len(set(folded)) == 1:
        problems.append("must not repeat a single character")
    return problems
