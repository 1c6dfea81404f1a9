"""Failed-attempt counters in Redis: a fixed window per key (INCR + EXPIRE), shared by every web worker."""

from __future__ import annotations

import redis


class RedisAttemptLimiter:
    def __init__(self, client: redis.Redis, prefix: str, max_attempts: int, window_seconds: int) -> None:
        self.client = client
        self.prefix = f"{prefix}reseller:"
        self.max_attempts = max_attempts
        self.window_seconds = window_seconds

    def retry_after(self, keys: list[str]) -> int | None:
        pipe = self.client.pipeline(transaction=False)
        for key in keys:
            pipe.get(self.prefix + key)
            pipe.ttl(self.prefix + key)
        results = pipe.execute()
        waits = [
            max(int(ttl), 1)
            for count, ttl in zip(results[::2], results[1::2], strict=True)
            if count is not None and int(count) >= self.max_attempts
        ]
        return max(waits) if waits else None

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

    def retry_after(self, keys: list[str]) -> int | None:
        return self.window_seconds if any(self.counts.get(k, 0) >= self.max_attempts for k in keys) else None

    def record_failure(self, keys: list[str]) -> None:
        for key in keys:
            self.counts[key] = self.counts.get(key, 0) + 1

    def clear(self, key: str) -> None:
        self.counts.pop(key, None)
