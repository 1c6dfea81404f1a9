"""Brute-force guard: failed resolves per client address, counted in Redis in fixed windows."""

from __future__ import annotations

import hashlib

import redis
from renewals_shared.observability import get_logger

log = get_logger(__name__)


class FailureLimiter:
    def __init__(self, client: redis.Redis, prefix: str, limit: int, window_seconds: int) -> None:
        self.client = client
        self.prefix = prefix
        self.limit = limit
        self.window_seconds = window_seconds

    def _key(self, address: str) -> str:
        # Hashed so any header value makes a short, safe key.
        digest = hashlib.sha256(address.encode("utf-8", "surrogatepass")).hexdigest()[:32]
        return f"{self.prefix}token:resolve-failures:{digest}"

    def retry_after(self, address: str) -> int | None:
        """Seconds until this address may try again, or None when it is under the limit.

        One GET on every request (no MULTI/EXEC: nothing is written here); the TTL is read only for an address
        over the limit. Failures are still counted atomically by record_failure."""
        key = self._key(address)
        try:
            count = self.client.get(key)
            if count is None or int(count) < self.limit:
                return None
            ttl = int(self.client.ttl(key))
        except redis.RedisError as exc:
            log.warning("rate limit store unavailable; allowing", error=type(exc).__name__)
            return None
        if ttl == -2:  # the window ended between the two reads: the counter is gone
            return None
        return ttl if ttl > 0 else self.window_seconds

    def record_failure(self, address: str) -> None:
        key = self._key(address)
        try:
            pipe = self.client.pipeline()
            pipe.incr(key)
            pipe.expire(key, self.window_seconds, nx=True)
            pipe.execute()
        except redis.RedisError as exc:
            log.warning("rate limit store unavailable; failure not counted", error=type(exc).__name__)
