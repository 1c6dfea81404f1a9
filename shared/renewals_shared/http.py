"""The one HTTP client services use to call each other: credential, timeouts, correlation id, safe retries.

Built on urllib3's connection pool directly: a call between services is on the hot path of every page, and
requests' per-call machinery (settings merge, hooks, cookies, adapters) cost more CPU than the call itself.
"""

from __future__ import annotations

import json as jsonlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import urllib3
from opentelemetry import trace
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter

from renewals_shared.observability import current_correlation_id, trace_carrier, tracer


class ServiceUnavailable(Exception):
    """The other service did not answer, or answered 5xx."""


@dataclass(frozen=True)
class ServiceResponse:
    """What another service answered below 500 (5xx raises `ServiceUnavailable`)."""

    status_code: int
    headers: Mapping[str, str]  # case-insensitive
    content: bytes
    reason: str = ""

    def json(self) -> Any:
        """The body as JSON; ValueError when it is not JSON."""
        return jsonlib.loads(self.content)

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")


def _query(params: Mapping[str, Any] | None) -> str:
    """Like requests: None values are left out, lists repeat the key."""
    present = {key: value for key, value in (params or {}).items() if value is not None}
    return "?" + urlencode(present, doseq=True) if present else ""


class ServiceClient:
    def __init__(self, base_url: str, token: str, *, timeout: float = 3.0, attempts: int = 3) -> None:
        self.base_url = base_url.rstrip("/")
        parts = urlsplit(self.base_url)
        self.server_address = parts.netloc
        self.prefix = parts.path
        self.attempts = attempts
        self._authorization = f"Bearer {token}"
        # Calls go straight to the other service: no proxy from the environment. A CA bundle named there is used.
        ca_bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        self._pool = urllib3.connection_from_url(
            self.base_url,
            maxsize=32,
            block=False,
            retries=False,
            timeout=urllib3.Timeout(connect=timeout, read=timeout),
            headers={"User-Agent": "renewals-service-client"},
            **({"ca_certs": ca_bundle} if parts.scheme == "https" and ca_bundle else {}),
        )
        self._retrying = Retrying(  # the attempts after the first
            retry=retry_if_exception_type(ServiceUnavailable),
            stop=stop_after_attempt(attempts - 1),
            wait=wait_exponential_jitter(initial=0.05, max=1.0),
            reraise=True,
        )

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> ServiceResponse:
        # The span names the peer, never the path: paths and queries may carry link tokens.
        with tracer().start_as_current_span(
            f"{method} {self.server_address}",
            kind=trace.SpanKind.CLIENT,
            attributes={"http.request.method": method, "server.address": self.server_address},
        ) as span:
            all_headers = {
                "Authorization": self._authorization,
                "X-Correlation-ID": current_correlation_id(),
                **trace_carrier(),
                **(headers or {}),
            }
            body = None
            if json is not None:
                body = jsonlib.dumps(json, allow_nan=False).encode()
                all_headers["Content-Type"] = "application/json"
            try:
                answer = self._pool.urlopen(
                    method,
                    f"{self.prefix}{path}{_query(params)}",
                    body=body,
                    headers=all_headers,
                    redirect=False,
                    assert_same_host=False,
                )
            except urllib3.exceptions.HTTPError as exc:
                span.set_status(trace.StatusCode.ERROR, type(exc).__name__)
                raise ServiceUnavailable(f"{method} {self.base_url}: {type(exc).__name__}") from None
            span.set_attribute("http.response.status_code", answer.status)
            if answer.status >= 500:
                span.set_status(trace.StatusCode.ERROR)
                raise ServiceUnavailable(f"{method} {self.base_url}: HTTP {answer.status}")
            return ServiceResponse(answer.status, answer.headers, answer.data, answer.reason or "")

    def _request(self, method: str, path: str, *, retryable: bool, **kwargs: Any) -> ServiceResponse:
        try:
            return self._send(method, path, **kwargs)
        except ServiceUnavailable:
            if not retryable or self.attempts <= 1:
                raise
        # tenacity only once the first attempt failed (its retry state costs on every call otherwise); the first
        # retry goes at once, which is what a keep-alive connection the peer just closed needs, later ones back off
        return self._retrying(self._send, method, path, **kwargs)

    def get(
        self, path: str, params: dict[str, Any] | None = None, headers: dict[str, str] | None = None
    ) -> ServiceResponse:
        return self._request("GET", path, retryable=True, params=params, headers=headers)

    def _write(
        self, method: str, path: str, json: Any, headers: dict[str, str] | None, idempotency_key: str | None
    ) -> ServiceResponse:
        headers = dict(headers or {})
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        return self._request(method, path, retryable=idempotency_key is not None, json=json, headers=headers)

    def post(
        self, path: str, json: Any = None, headers: dict[str, str] | None = None, idempotency_key: str | None = None
    ) -> ServiceResponse:
        return self._write("POST", path, json, headers, idempotency_key)

    def put(
        self, path: str, json: Any = None, headers: dict[str, str] | None = None, idempotency_key: str | None = None
    ) -> ServiceResponse:
        return self._write("PUT", path, json, headers, idempotency_key)

    def patch(
        self, path: str, json: Any = None, headers: dict[str, str] | None = None, idempotency_key: str | None = None
    ) -> ServiceResponse:
        return self._write("PATCH", path, json, headers, idempotency_key)

    def delete(self, path: str, headers: dict[str, str] | None = None) -> ServiceResponse:
        return self._request("DELETE", path, retryable=True, headers=headers)
