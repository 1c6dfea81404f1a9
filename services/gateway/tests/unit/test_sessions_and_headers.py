from __future__ import annotations

import json
import logging

import pytest

from gateway.domain.session_policy import ABSOLUTE_SECONDS, IDLE_SECONDS
from gateway.fakes import TOKEN


def set_cookie_header(response) -> str:
    headers = [h for h in response.headers.getlist("Set-Cookie") if "session" in h]
    assert headers, "no session cookie set"
    return headers[-1]


def test_cookie_is_httponly_lax_and_plain_in_http_dev(world):
    response = world.client.get(f"/extend/{TOKEN}")
    cookie = set_cookie_header(response)
    assert cookie.startswith("renewals_session=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie
    assert "Domain" not in cookie


def test_cookie_is_host_prefixed_and_secure_over_https(make_world):
    world = make_world(public_base_url="https://renewals.example", mode="real")
    response = world.client.get(f"/extend/{TOKEN}", base_url="https://renewals.example")
    cookie = set_cookie_header(response)
    assert cookie.startswith("__Host-renewals_session=")
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Domain" not in cookie
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_the_session_lives_in_redis_not_in_the_cookie(world):
    world.login()
    ((key, raw),) = world.redis.data.items()
    assert key.startswith("test:gateway:session:")
    record = json.loads(raw)
    assert record["data"]["reseller"]["id"] == "r-1"
    assert record["data"]["reseller"]["session_version"] == 1
    cookie = world.client.get_cookie("renewals_session").value
    assert "r-1" not in cookie and "reseller" not in cookie
    assert world.redis.ttl[key] == IDLE_SECONDS


def test_a_tampered_cookie_opens_no_session(world):
    world.login()
    sid, _, signature = world.client.get_cookie("renewals_session").value.rpartition(".")
    # the signature's first character carries six real bits; its last one carries padding bits that decode ignores
    forged = ("B" if signature[0] == "A" else "A") + signature[1:]
    world.client.set_cookie("renewals_session", f"{sid}.{forged}")
    assert world.client.get("/reseller/account").status_code == 302


def test_idle_timeout_ends_the_session(world):
    world.login()
    world.clock.advance(IDLE_SECONDS - 5)
    assert world.client.get("/reseller/account").status_code == 200  # activity slides the idle window
    world.clock.advance(IDLE_SECONDS - 5)
    assert world.client.get("/reseller/account").status_code == 200
    world.clock.advance(IDLE_SECONDS + 1)
    assert world.client.get("/reseller/account").status_code == 302


def _session_record(world):
    ((key, raw),) = world.redis.data.items()
    return key, json.loads(raw)


def test_an_unchanged_session_is_written_back_at_most_once_a_minute(world):
    world.login()
    world.client.get(f"/extend/{TOKEN}")  # the first page after login adds a fresh CSRF token: written
    key, record = _session_record(world)
    assert "csrf_token" in record["data"]
    world.clock.advance(30)
    response = world.client.get(f"/extend/{TOKEN}")
    assert response.status_code == 200
    assert set_cookie_header(response).startswith("renewals_session=")  # the same cookie, still sent
    assert _session_record(world) == (key, record)  # nothing changed, idle clock fresh: no write
    world.clock.advance(31)
    world.client.get(f"/extend/{TOKEN}")
    key_after, refreshed = _session_record(world)
    assert key_after == key and refreshed["last_seen"] == world.clock.now
    assert refreshed["created_at"] == record["created_at"] and world.redis.ttl[key] == IDLE_SECONDS


def test_a_changed_session_is_written_at_once(world):
    world.client.get(f"/extend/{TOKEN}")
    _, before = _session_record(world)
    world.clock.advance(1)
    csrf = world.csrf(f"/extend/{TOKEN}")
    response = world.client.post(
        f"/extend/{TOKEN}/order", data={"csrf_token": csrf, "term_years": "1", "idempotency_key": "k" * 16}
    )
    assert response.status_code == 303
    _, after = _session_record(world)
    assert after["data"]["direct_orders"] and after["last_seen"] == world.clock.now != before["last_seen"]


def test_idle_window_slides_with_views_less_than_a_minute_apart(world):
    world.login()
    for _ in range(IDLE_SECONDS // 50 + 5):  # well past the idle limit in total, never idle for long
        world.clock.advance(50)
        assert world.client.get("/reseller/account").status_code == 200


def test_absolute_timeout_ends_even_an_active_session(world):
    world.login()
    for _ in range(ABSOLUTE_SECONDS // (IDLE_SECONDS - 60) + 2):
        world.clock.advance(IDLE_SECONDS - 60)
        if world.client.get("/reseller/account").status_code != 200:
            break
    else:
        pytest.fail("session outlived the absolute limit")
    assert world.clock.now - 1_800_000_000.0 > ABSOLUTE_SECONDS - IDLE_SECONDS


def test_redis_down_still_serves_the_extension_page(world):
    world.redis.down = True
    response = world.client.get(f"/extend/{TOKEN}")
    assert response.status_code == 200


@pytest.mark.parametrize(
    "path",
    ["/", f"/extend/{TOKEN}", "/reseller/login", "/api/v1/openapi.json", "/nope"],
)
def test_security_headers_everywhere(world, path):
    response = world.client.get(path)
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "'unsafe-inline'" not in csp
    assert "script-src 'none'" in csp or "default-src 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_pages_have_no_inline_scripts(world):
    for path in (
        "/",
        f"/extend/{TOKEN}",
        "/reseller/login",
        "/reseller/register",
        "/support/change-request",
    ):
        html = world.client.get(path).get_data(as_text=True)
        assert "<script" not in html
        assert " style=" not in html
        assert " onclick=" not in html


def test_request_log_masks_the_link_token(world, caplog):
    caplog.set_level(logging.INFO, logger="gateway.access")
    world.client.get(f"/extend/{TOKEN}")
    world.client.get(f"/api/v1/extensions/{TOKEN}")
    world.client.get("/reseller/password-reset/secret-reset-token-123")
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "/extend/tok_…" in text
    assert TOKEN not in text
    assert "secret-reset-token-123" not in text


def test_unknown_page_is_friendly_html(world):
    response = world.client.get("/nope")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)
    assert response.mimetype == "text/html"


def test_unexpected_error_never_shows_a_traceback(world):
    def broken(token, reseller_id=None):
        raise RuntimeError("boom at line 42")

    world.orders.quote = broken
    response = world.client.get(f"/extend/{TOKEN}")
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert "boom" not in html and "Traceback" not in html
    assert "Something went wrong" in html


def test_health_endpoints(world):
    assert world.client.get("/healthz").status_code == 200
    assert world.client.get("/metrics").status_code == 200


def test_readiness_is_the_session_store(world):
    response = world.client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json()["checks"] == {"sessions": "ok"}
    world.redis.down = True
    assert world.client.get("/readyz").status_code == 503


def test_login_works_over_https_with_the_host_cookie(make_world):
    import re

    world = make_world(public_base_url="https://renewals.example", mode="real")
    base = "https://renewals.example"
    html = world.client.get("/reseller/login", base_url=base).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    response = world.client.post(
        "/reseller/login",
        base_url=base,
        headers={"Referer": f"{base}/reseller/login"},
        data={"csrf_token": token, "email": "rita@resell.example", "password": "correct horse battery"},
    )
    assert response.status_code == 303
    assert world.client.get("/reseller/account", base_url=base).status_code == 200
    # a cross-site referer is refused on https (flask-wtf strict referer check)
    html = world.client.get("/support/change-request", base_url=base).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    refused = world.client.post(
        "/support/change-request",
        base_url=base,
        headers={"Referer": "https://evil.example/"},
        data={
            "csrf_token": token,
            "reseller_email": "a@b.example",
            "previous_order_number": "R",
            "topic": "other",
            "message": "m",
        },
    )
    assert refused.status_code == 400
