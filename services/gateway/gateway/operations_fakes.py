"""Fakes for the operations console: a Redis with the list/counter commands it uses, and the services' admin
endpoints at the adapter boundary (same `get`/`send` as `downstream.ServiceAdapter`). Unit tests only."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from gateway.adapters.downstream import DownstreamError, ServiceDown

Route = Callable[[Any, dict[str, Any]], Any]


class FakeOpsRedis:
    def __init__(self) -> None:
        self.data: dict[str, Any] = {}
        self.ttl: dict[str, int | None] = {}
        self.down = False

    def _check(self) -> None:
        if self.down:
            raise ConnectionError("redis down")

    def get(self, name: str) -> Any:
        self._check()
        value = self.data.get(name)
        return None if isinstance(value, list) else value

    def set(self, name: str, value: str, ex: int | None = None, nx: bool = False) -> bool | None:
        self._check()
        if nx and name in self.data:
            return None
        self.data[name] = value
        self.ttl[name] = ex
        return True

    def delete(self, *names: str) -> int:
        self._check()
        return sum(1 for n in names if self.data.pop(n, None) is not None)

    def incr(self, name: str) -> int:
        self._check()
        self.data[name] = str(int(self.data.get(name) or 0) + 1)
        return int(self.data[name])

    def expire(self, name: str, seconds: int) -> bool:
        self.ttl[name] = seconds
        return True

    def lpush(self, name: str, *values: str) -> int:
        self._check()
        items = self.data.setdefault(name, [])
        for value in values:
            items.insert(0, value)
        return len(items)

    def ltrim(self, name: str, start: int, end: int) -> bool:
        items = self.data.get(name, [])
        self.data[name] = items[start : end + 1]
        return True

    def lrange(self, name: str, start: int, end: int) -> list[Any]:
        self._check()
        return list(self.data.get(name, [])[start : end + 1])

    def llen(self, name: str) -> int:
        return len(self.data.get(name, []))

    def ping(self) -> bool:
        self._check()
        return True


class FakeAdminService:
    """One service's admin HTTP contract in memory: routes keyed by (method, path) -> handler(json, params)."""

    def __init__(self, service: str, routes: dict[tuple[str, str], Route] | None = None) -> None:
        self.service = service
        self.routes = dict(routes or {})
        self.calls: list[tuple[str, str, Any, dict[str, str]]] = []
        self.down = False

    def _dispatch(self, method: str, path: str, payload: Any, headers: dict[str, str] | None) -> dict[str, Any]:
        if self.down:
            raise ServiceDown(self.service)
        self.calls.append((method, path, copy.deepcopy(payload), dict(headers or {})))
        route = self.routes.get((method, path))
        if route is None:
            raise DownstreamError(self.service, 404, {"title": "Not found", "status": 404})
        return copy.deepcopy(route(payload, headers or {}))

    def get(
        self, path: str, params: dict[str, Any] | None = None, headers: dict[str, str] | None = None
    ) -> dict[str, Any]:
        return self._dispatch("get", path, params or {}, headers)

    def send(
        self,
        method: str,
        path: str,
        json: Any = None,
        headers: dict[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        return self._dispatch(method, path, json, headers)


def problem(service: str, status: int, title: str, **extra: Any) -> DownstreamError:
    return DownstreamError(service, status, {"title": title, "status": status, **extra})
