"""Password-reset tokens derived from a server secret, like extension links: the database holds only a hash and a
nonce, so neither a database dump nor the event bus yields a usable token; the notifier asks for the URL."""

from __future__ import annotations

import base64
import hashlib
import hmac

_PURPOSE = b"renewals/reseller-password-reset/v1"


def _key(secret: str) -> bytes:
    return hmac.new(secret.encode(), _PURPOSE, hashlib.sha256).digest()


class HmacResetTokens:
    def __init__(self, secret: str, previous_secret: str | None = None) -> None:
        self._keys = [_key(secret)] + ([_key(previous_secret)] if previous_secret else [])

    @staticmethod
    def _derive(key: bytes, reset_id: str, nonce: str) -> str:
        digest = hmac.new(key, f"{reset_id}.{nonce}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def token_for(self, reset_id: str, nonce: str) -> str:
        return self._derive(self._keys[0], reset_id, nonce)

    def candidate_tokens(self, reset_id: str, nonce: str) -> list[str]:
        return [self._derive(key, reset_id, nonce) for key in self._keys]

    @staticmethod
    def hash_token(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()
