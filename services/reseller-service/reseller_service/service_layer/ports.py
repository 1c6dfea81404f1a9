"""What the handlers need from the outside world, as protocols: real adapters and test fakes both fit."""

from __future__ import annotations

from typing import Protocol


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...

    def verify(self, password_hash: str, password: str) -> bool: ...

    def needs_rehash(self, password_hash: str) -> bool: ...


class ResetTokens(Protocol):
    def token_for(self, reset_id: str, nonce: str) -> str: ...

    def candidate_tokens(self, reset_id: str, nonce: str) -> list[str]:
        """The token under the current secret, then under the previous one (secret rotation)."""
        ...

    @staticmethod
    def hash_token(token: str) -> str: ...


class AttemptLimiter(Protocol):
    def retry_after(self, keys: list[str]) -> int | None:
        """Seconds until the first of `keys` is allowed again, or None when none is over the limit."""
        ...

    def record_failure(self, keys: list[str]) -> None: ...

    def clear(self, key: str) -> None: ...
