"""Server-side session records in Redis: the browser only holds a signed, random session id."""

from __future__ import annotations

import json
from typing import Any, Protocol


class RedisLike(Protocol):
    def get(self, name: str) -> Any: ...

    def set(self, name: str, value: str, ex: int | None = None) -> Any: ...

    def delete(self, *names: str) -> Any: ...


class RedisSessionStore:
    def __init__(self, redis: RedisLike, prefix: str) -> None:
        self._redis = redis
        self._prefix = f"{prefix}gateway:session:"

    def key(self, sid: str) -> str:
        return self._prefix + sid

    def load(self, sid: str) -> dict[str, Any] | None:
        raw = self._redis.get(self.key(sid))
        if raw is None:
            return None
        try:
            record = json.loads(raw)
        except ValueError:
            return None
        return record if isinstance(record, dict) else None

    def save(self, sid: str, record: dict[str, Any], ttl_seconds: int) -> None:
        self._redis.set(
            self.key(sid),
            json.dumps(record, separators=(",", ":")),
            ex=max(1, int(ttl_seconds)),
        )

    def delete(self, sid: str) -> None:
        self._redis.delete(self.key(sid))
