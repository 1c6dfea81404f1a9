"""Extension tokens: derivation, hashing and secret rotation (DESIGN.md section 3). Pure, no I/O.

A token is ``base64url(HMAC-SHA256(secret, "<license_id>|<cycle_end>|<nonce>"))`` truncated to 192 bits, where
the nonce is 128 random bits from ``secrets`` kept in the database. The database keeps only ``sha256(token)`` (the
lookup key), the nonce and the *id* of the secret that derived the token. So:

- a database dump alone yields no usable token (the HMAC key is not in it);
- the server can re-derive the very same token for a cycle (re-sending a reminder gives the same URL);
- on resolve the server re-derives the token from the stored row and compares it in constant time with the one
  presented, so a row written into the database without the secret does not resolve either;
- rotation: every secret has an id (an HMAC of a fixed label, not the secret). Links derived with
  ``LINK_SECRET_PREVIOUS`` keep resolving and re-issuing to the URL that was sent while that secret is configured;
  once it is removed they stop resolving, and a re-issue for that cycle re-keys the link with the current secret.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

TOKEN_BYTES = 24  # 192 bits of the HMAC output: >= 128 bits, 32 URL-safe characters, no padding
NONCE_BYTES = 16  # 128 bits from the CSPRNG
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{32}$")
_SECRET_ID_LABEL = b"renewals/extension-link/secret-id/v1"


def new_nonce() -> str:
    return secrets.token_hex(NONCE_BYTES)


def token_hash(token: str) -> bytes:
    """The database lookup key. Any string hashes, so malformed and unknown tokens take the same path."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


def is_well_formed(token: str) -> bool:
    return bool(TOKEN_PATTERN.match(token))


def secret_id(secret: str) -> str:
    """A stable, non-reversible name for a secret, stored beside each link."""
    return hmac.new(secret.encode(), _SECRET_ID_LABEL, hashlib.sha256).hexdigest()[:16]


def derive_token(secret: str, license_id: str, cycle_end: dt.date, nonce: str) -> str:
    message = f"{license_id}|{cycle_end.isoformat()}|{nonce}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()[:TOKEN_BYTES]
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


@dataclass(frozen=True)
class LinkSecrets:
    """The configured secrets: the current one derives new links, the previous one keeps old links alive."""

    current: str
    previous: str | None = None

    @property
    def current_id(self) -> str:
        return secret_id(self.current)

    @functools.cached_property
    def _with_ids(self) -> tuple[tuple[str, str], ...]:
        """(id, secret) of each configured secret, computed once: every resolve looks its link's secret up."""
        return tuple((secret_id(secret), secret) for secret in (self.current, self.previous) if secret is not None)

    def by_id(self, wanted: str) -> str | None:
        for id_, secret in self._with_ids:
            if hmac.compare_digest(id_, wanted):
                return secret
        return None

    def derive(self, wanted_secret_id: str, license_id: str, cycle_end: dt.date, nonce: str) -> str | None:
        """The token of a stored link, or None when the secret that derived it is no longer configured."""
        secret = self.by_id(wanted_secret_id)
        if secret is None:
            return None
        return derive_token(secret, license_id, cycle_end, nonce)

    def matches(self, presented: str, wanted_secret_id: str, license_id: str, cycle_end: dt.date, nonce: str) -> bool:
        expected = self.derive(wanted_secret_id, license_id, cycle_end, nonce)
        if expected is None:
            return False
        return hmac.compare_digest(expected.encode(), presented.encode("utf-8", "surrogatepass"))
