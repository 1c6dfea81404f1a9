"""The one HTTP client services use to call each other: credential, timeouts, correlation id, safe retries."""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit

import requests
from opentelemetry import trace
from requests.adapters import HTTPAdapter
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter

from renewals_shared.observability import current_correlation_id, trace_carrier, tracer


class ServiceUnavailable(Exception):
    """The other service did not answer, or answered 5xx."""


class ServiceClient:
    def __init__(self, base_url: str, token: str, *, timeout: float = 3.0, attempts: int = 3) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.attempts = attempts
        self.server_address = urlsplit(self.base_url).netloc
        self.session = requests.Session()
        # Calls go straight to the other service: no proxy and no .netrc from the environment. Reading them
        # (requests' trust_env) scans the environment on every call; a CA bundle named there is read once here.
        self.session.trust_env = False
        self.session.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        self.session.mount("http://", HTTPAdapter(pool_connections=4, pool_maxsize=32))
        self.session.mount("https://", HTTPAdapter(pool_connections=4, pool_maxsize=32))

    def _send(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        # The span names the peer, never the path: paths and queries may carry link tokens.
        with tracer().start_as_current_span(
            f"{method} {self.server_address}",
            kind=trace.SpanKind.CLIENT,
            attributes={"http.request.method": method, "server.address": self.server_address},
        ) as span:
            headers = {
                "Authorization": f"Bearer {self.token}",
                "X-Correlation-ID": current_correlation_id(),
                **trace_carrier(),
                **(kwargs.pop("headers", None) or {}),
            }
            try:
                response = self.session.request(
                    method, f"{self.base_url}{path}", headers=headers, timeout=self.timeout, **kwargs
                )
            except requests.RequestException as exc:
                span.set_status(trace.StatusCode.ERROR, type(exc).__name__)
                raise ServiceUnavailable(f"{method} {self.base_url}: {type(exc).__name__}") from None
            span.set_attribute("http.response.status_code", response.status_code)
            if response.status_code >= 500:
                span.set_status(trace.StatusCode.ERROR)
                raise ServiceUnavailable(f"{method} {self.base_url}: HTTP {response.status_code}")
            return response

    def _request(self, method: str, path: str, *, retryable: bool, **kwargs: Any) -> requests.Response:
        if not retryable:
            return self._send(method, path, **kwargs)
        retrying = retry(
            retry=retry_if_exception_type(ServiceUnavailable),
            stop=stop_after_attempt(self.attempts),
            wait=wait_exponential_jitter(initial=0.05, max=1.0),
            reraise=True,
        )
        return retrying(self._send)(method, path, **kwargs)

    def get(
        self, path: str, params: dict[str, Any] | None = None, headers: dict[str, str] | None = None
    ) -> requests.Response:
        return self._request("GET", path, retryable=True, params=params, headers=headers)

    def _write(
        self, method: str, path: str, json: Any, headers: dict[str, str] | None, idempotency_key: str | None
    ) -> requests.Response:
        headers = dict(headers or {})
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        return self._request(method, path, retryable=idempotency_key is not None, json=json, headers=headers)

    def post(
        self, path: str, json: Any = None, headers: dict[str, str] | None = None, idempotency_key: str | None = None
    ) -> requests.Response:
        return self._write("POST", path, json, headers, idempotency_key)

    def put(
        self, path: str, json: Any = None, headers: dict[str, str] | None = None, idempotency_key: str | None = None
    ) -> requests.Response:
        return self._write("PUT", path, json, headers, idempotency_key)

    def patch(
        self, path: str, json: Any = None, headers: dict[str, str] | None = None, idempotency_key: str | None = None
    ) -> requests.Response:
        return self._write("PATCH", path, json, headers, idempotency_key)

    def delete(self, path: str, headers: dict[str, str] | None = None) -> requests.Response:
        return self._request("DELETE", path, retryable=True, headers=headers)
