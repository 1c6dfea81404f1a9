"""What the handlers need from the outside world, as protocols: real adapters and test fakes both fit."""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass(frozen=True)
class AttemptCheck:
    retry_after: int | None  # seconds until every key checked is allowed again; None when none is over the limit
    failing: frozenset[str]  # the keys checked that have failures in their window


class AttemptLimiter(Protocol):
    def check(self, keys: list[str]) -> AttemptCheck: ...

    def record_failure(self, keys: list[str]) -> None: ...

    def clear(self, key: str) -> None: ...
