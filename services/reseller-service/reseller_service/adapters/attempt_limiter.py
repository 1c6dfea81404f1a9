"""Failed-attempt counters in Redis: a fixed window per key (INCR + EXPIRE), shared by every web worker."""

from __future__ import annotations

import redis

from reseller_service.service_layer.ports import AttemptCheck


class RedisAttemptLimiter:
    def __init__(self, client: redis.Redis, prefix: str, max_attempts: int, window_seconds: int) -> None:
        self.client = client
        self.prefix = f"{prefix}reseller:"
        self.max_attempts = max_attempts
        self.window_seconds = window_seconds

    def check(self, keys: list[str]) -> AttemptCheck:
        counts = dict(zip(keys, self.client.mget([self.prefix + key for key in keys]), strict=True))
        over_limit = [key for key, count in counts.items() if count is not None and int(count) >= self.max_attempts]
        failing = frozenset(key for key, count in counts.items() if count is not None)
        if not over_limit:
            return AttemptCheck(None, failing)
        # Only a refusal needs the waits: the usual sign-in gets away with the one round trip above.
        pipe = self.client.pipeline(transaction=False)
        for key in over_limit:
            pipe.ttl(self.prefix + key)
        return AttemptCheck(max(max(int(ttl), 1) for ttl in pipe.execute()), failing)

    def record_failure(self, keys: list[str]) -> None:
        pipe = self.client.pipeline(transaction=True)
        for key in keys:
            pipe.incr(self.prefix + key)
            pipe.expire(self.prefix + key, self.window_seconds, nx=True)
        pipe.execute()

    def clear(self, key: str) -> None:
        self.client.delete(self.prefix + key)


class MemoryAttemptLimiter:
    """In-process stand-in for unit tests (no expiry: tests decide when to clear)."""

    def __init__(self, max_attempts: int = 10, window_seconds: int = 900) -> None:
        self.max_attempts = max_attempts
        self.window_seconds = window_seconds
        self.counts: dict[str, int] = {}

    def check(self, keys: list[str]) -> AttemptCheck:
        over_limit = any(self.counts.get(k, 0) >= self.max_attempts for k in keys)
        return AttemptCheck(self.window_seconds if over_limit else None, frozenset(k for k in keys if k in self.counts))

    def record_failure(self, keys: list[str]) -> None:
        for key in keys:
            self.counts[key] = self.counts.get(key, 0) + 1

    def clear(self, key: str) -> None:
        self.counts.pop(key, None)
