"""Every page and API answer carries the security headers, errors included."""

from __future__ import annotations

import secrets

import pytest
import requests
from purchases import buyable_link, forget_rate_limits

PAGES = [
    "/",
    "/reseller/login",
    "/reseller/login?next=/reseller/orders",
    "/reseller/register",
    "/reseller/password-reset",
    "/reseller/password-reset/unknown-token",
    "/reseller/account",
    "/reseller/orders",
    "/reseller/logout",
    "/support/change-request",
    "/orders/R-2000-000001",
    "/no/such/page",
    "/dev/mailbox",
    "/api/v1/openapi.json",
    "/api/v1/docs",
    "/api/v1/session",
    "/api/v1/orders/R-2000-000001",
    "/api/v1/admin/licenses",
    "/api/v1/no-such-endpoint",
]


@pytest.fixture(scope="module")
def extension_paths(system):
    token = buyable_link(system).token
    unknown = secrets.token_urlsafe(32)
    yield [f"/extend/{token}", f"/extend/{unknown}", f"/api/v1/extensions/{token}", f"/api/v1/extensions/{unknown}"]
    forget_rate_limits(system)


def _check(response: requests.Response, path: str) -> None:
    headers = response.headers
    assert response.status_code < 500, (path, response.status_code)
    csp = headers.get("Content-Security-Policy", "")
    assert "frame-ancestors 'none'" in csp and "default-src" in csp, (path, csp)
    if not path.startswith("/api/") or path == "/api/v1/docs":
        assert "script-src 'none'" in csp or "script-src 'self'" in csp, (path, csp)
    assert headers.get("X-Content-Type-Options") == "nosniff", path
    assert headers.get("X-Frame-Options") == "DENY", path
    assert headers.get("Referrer-Policy") in ("same-origin", "no-referrer", "strict-origin-when-cross-origin"), path
    assert "no-store" in headers.get("Cache-Control", ""), path
    assert "Traceback" not in response.text, path


def test_security_headers_on_every_page_and_api_answer(system, extension_paths):
    for path in PAGES + extension_paths:
        _check(requests.get(f"{system.url()}{path}", allow_redirects=False, timeout=20), path)
    for path in ("/reseller/login", "/api/v1/session", "/api/v1/resellers", "/extend/x/order"):
        _check(requests.post(f"{system.url()}{path}", data=b"{", allow_redirects=False, timeout=20), path)
