"""Extension links are capabilities: guessing is throttled, unknown looks like malformed, GET changes nothing,
and a redeemed link buys nothing more."""

from __future__ import annotations

import secrets

import requests
from purchases import buy_direct, buyable_link, forget_rate_limits, place_direct_order, query, wait_until

VOLATILE = {"instance", "correlation_id", "trace_id"}


def _forget_failures(system) -> None:
    forget_rate_limits(system)


def test_malformed_and_unknown_tokens_answer_exactly_alike(system):
    _forget_failures(system)
    real = buyable_link(system).token
    unknown = secrets.token_urlsafe(len(real) * 3 // 4)[: len(real)]
    assert len(unknown) == len(real) and unknown != real
    candidates = [
        unknown,
        "x",
        "not-a-token",
        "A" * 400,
        "a.b~c",
        "%C3%BCnicode",
        "'%20OR%201=1--",
        real[:-1] + ("A" if real[-1] != "A" else "B"),
    ]
    api = [requests.get(f"{system.url()}/api/v1/extensions/{c}", timeout=20) for c in candidates]
    pages = [requests.get(f"{system.url()}/extend/{c}", timeout=20) for c in candidates]
    _forget_failures(system)
    assert {r.status_code for r in api} == {404}, [
        (c, r.status_code, r.text) for c, r in zip(candidates, api, strict=True)
    ]
    bodies = [{k: v for k, v in r.json().items() if k not in VOLATILE} for r in api]
    assert all(body == bodies[0] for body in bodies), bodies
    assert {r.status_code for r in pages} == {404}
    assert len({r.text for r in pages}) == 1, "the page for an unknown link must not depend on the token"
    # tokens that are not even a path segment are refused by routing, never with an error page that differs
    for odd in ("%00", "..%2F..%2Fetc", "%0d%0aSet-Cookie:%20x=y"):
        for path in (f"/api/v1/extensions/{odd}", f"/extend/{odd}"):
            response = requests.get(f"{system.url()}{path}", timeout=20)
            assert 400 <= response.status_code < 500 and "Traceback" not in response.text, (path, response.status_code)
            assert "x=y" not in response.headers.get("Set-Cookie", "")
    _forget_failures(system)


def test_guessing_links_is_throttled_with_429_and_retry_after(system):
    _forget_failures(system)
    try:
        statuses = []
        for _ in range(60):
            response = requests.get(f"{system.url()}/api/v1/extensions/{secrets.token_urlsafe(32)}", timeout=20)
            statuses.append(response.status_code)
            if response.status_code == 429:
                break
        assert statuses[-1] == 429, statuses
        assert int(response.headers["Retry-After"]) > 0
        assert response.headers["Content-Type"].startswith("application/problem+json")
        assert 5 <= statuses.count(404) <= 50, statuses
        page = requests.get(f"{system.url()}/extend/{secrets.token_urlsafe(32)}", timeout=20)
        assert page.status_code == 429 and "<html" in page.text.lower()
    finally:
        _forget_failures(system)  # the session's other tests share 127.0.0.1


def _link_state(system, license_id):
    return query(
        system,
        "token",
        "SELECT state, redeemed_order_number, updated_at FROM extension_links WHERE license_id = :id",
        id=license_id,
    )


def _counts(system):
    return {
        "orders": query(system, "order", "SELECT count(*) FROM orders")[0][0],
        "order_outbox": query(system, "order", "SELECT count(*) FROM outbox")[0][0],
        "token_outbox": query(system, "token", "SELECT count(*) FROM outbox")[0][0],
        "idempotency": query(system, "order", "SELECT count(*) FROM idempotency_keys")[0][0],
    }


def test_opening_a_link_changes_nothing(system):
    link = buyable_link(system)
    before_link, before = _link_state(system, link.license_id), _counts(system)
    for _ in range(3):
        assert requests.get(f"{system.url()}/extend/{link.token}", timeout=20).status_code == 200
        assert requests.get(f"{system.url()}/extend/{link.token}?term=2", timeout=20).status_code == 200
        assert requests.get(f"{system.url()}/api/v1/extensions/{link.token}", timeout=20).status_code == 200
        assert requests.head(f"{system.url()}/extend/{link.token}", timeout=20).status_code == 200
    assert _link_state(system, link.license_id) == before_link
    after = _counts(system)
    # other tests of this session may not run concurrently, so the totals are exact
    assert after == before, (before, after)
    assert before_link[0][0] == "active"


def test_a_redeemed_link_cannot_buy_again(system):
    link = buyable_link(system)
    order = buy_direct(system, link)
    wait_until(
        lambda: requests.get(f"{system.url()}/api/v1/extensions/{link.token}", timeout=20).status_code == 410,
        what="the link to be redeemed",
    )
    again = place_direct_order(system, link.token)
    assert again.status_code in (409, 410), again.text
    page = requests.get(f"{system.url()}/extend/{link.token}", timeout=20)
    assert page.status_code == 410 and "Buy Now" not in page.text
    assert _link_state(system, link.license_id)[0][:2] == ("redeemed", order["order_number"])
    assert query(system, "order", "SELECT count(*) FROM orders WHERE license_id = :id", id=link.license_id)[0][0] == 1
