"""What a call to another service can end with, besides success. Fakes in tests raise the same exceptions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from renewals_shared.http import ServiceClient, ServiceResponse, ServiceUnavailable


class ServiceDown(Exception):
    """The service did not answer (connection error, timeout or 5xx after retries)."""

    def __init__(self, service: str) -> None:
        super().__init__(f"{service} is unavailable")
        self.service = service


class DownstreamError(Exception):
    """The service answered with a problem (4xx). `problem` is its RFC 9457 body."""

    def __init__(
        self,
        service: str,
        status: int,
        problem: dict[str, Any] | None = None,
        retry_after: str | None = None,
    ) -> None:
        self.service = service
        self.status = status
        self.problem = dict(problem or {})
        self.retry_after = retry_after
        super().__init__(f"{service} answered {status}: {self.problem.get('title', '')}")

    @property
    def detail(self) -> str:
        return str(self.problem.get("detail") or self.problem.get("title") or "")

    @property
    def account_status(self) -> str | None:
        """reseller-service's 403 names the account's status; the problem's own `status` is the HTTP code, so
        accept `account_status` or a string `status`."""
        value = self.problem.get("account_status") or self.problem.get("status")
        return value if isinstance(value, str) else None

    @property
    def errors(self) -> dict[str, list[str]]:
        errors = self.problem.get("errors")
        return errors if isinstance(errors, dict) else {}


HeaderSource = Callable[[], dict[str, str]]


def _no_headers() -> dict[str, str]:
    return {}


class ServiceAdapter:
    """Base of the per-service clients: one `ServiceClient`, problem bodies turned into exceptions."""

    service = "service"

    def __init__(self, client: ServiceClient, context_headers: HeaderSource = _no_headers) -> None:
        self._client = client
        self._context_headers = context_headers

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = dict(self._context_headers())
        headers.update(extra or {})
        return headers

    def _call(self, method: str, path: str, **kwargs: Any) -> ServiceResponse:
        kwargs["headers"] = self._headers(kwargs.get("headers"))
        try:
            return getattr(self._client, method)(path, **kwargs)
        except ServiceUnavailable as exc:
            raise ServiceDown(self.service) from exc

    def _json(self, response: ServiceResponse) -> dict[str, Any]:
        if response.status_code >= 500:
            raise ServiceDown(self.service)
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = {
                    "title": response.reason or "Error",
                    "status": response.status_code,
                }
            raise DownstreamError(
                self.service,
                response.status_code,
                body if isinstance(body, dict) else {},
                response.headers.get("Retry-After"),
            )
        if response.status_code == 204 or not response.content:
            return {}
        try:
            body = response.json()
        except ValueError as exc:
            raise ServiceDown(self.service) from exc
        return body if isinstance(body, dict) else {"items": body}

    def get(
        self,
        path: str,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict:
        return self._json(self._call("get", path, params=params, headers=headers))

    def forward(
        self,
        method: str,
        path: str,
        json: Any = None,
        params: dict[str, Any] | None = None,
    ) -> tuple[int, dict[str, Any]]:
        """An operations call passed through: the service's status and body (problems still raise)."""
        if method == "get":
            response = self._call("get", path, params=params)
        else:
            response = self._call(method, path, json=json)
        return response.status_code, self._json(response)

    def send(
        self,
        method: str,
        path: str,
        json: Any = None,
        headers: dict[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        return self._json(
            self._call(
                method,
                path,
                json=json,
                headers=headers,
                idempotency_key=idempotency_key,
            )
        )
