"""The token-service HTTP API on real PostgreSQL and Redis (service_env)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from renewals_shared.config import Settings
from renewals_shared.db import make_engine
from renewals_shared.testing import TEST_SECRETS
from sqlalchemy import text
from token_service.entrypoints.flask_app import create_app

SERVICE = {"Authorization": f"Bearer {TEST_SECRETS['SERVICE_TOKEN']}"}
OPS = {"Authorization": f"Bearer {TEST_SECRETS['OPS_TOKEN']}"}
TODAY = dt.date(2025, 2, 1)


class FixedToday:
    def __init__(self, today: dt.date) -> None:
        self.value = today

    def today(self) -> dt.date:
        return self.value

    def now(self) -> dt.datetime:
        return dt.datetime.combine(self.value, dt.time(12), tzinfo=dt.UTC)


def link_request(**changes: Any) -> dict[str, Any]:
    return {
        "license_id": "lic-1",
        "product_sku": "PRO",
        "cycle_end": "2025-03-31",
        "licensee_name": "Acme GmbH",
        "currency": "EUR",
        **changes,
    }


@pytest.fixture
def token_settings(service_env: Callable[..., Settings]) -> Settings:
    return service_env("token", RESOLVE_FAILURE_LIMIT="3")


@pytest.fixture
def clock() -> FixedToday:
    return FixedToday(TODAY)


@pytest.fixture
def client(token_settings: Settings, clock: FixedToday):
    app = create_app(token_settings, clock=clock)
    app.testing = True
    return app.test_client()


def resolve(client, token: str | None, address: str = "203.0.113.7"):
    headers = {**SERVICE, "X-Client-Address": address}
    if token is not None:
        headers["X-Extension-Token"] = token
    return client.get("/links/resolve", headers=headers)


def test_issue_is_idempotent_and_resolves_to_the_bound_link(client, token_settings: Settings) -> None:
    first = client.post("/links", json=link_request(), headers=SERVICE)
    assert first.status_code == 201, first.get_json()
    body = first.get_json()
    assert set(body) == {"link_id", "token", "url", "status", "cycle_end", "customer_discount_bp", "expires_on"}
    assert body["url"] == f"http://renewals.test/extend/{body['token']}"
    assert (body["status"], body["customer_discount_bp"], body["expires_on"]) == ("active", 5000, "2026-03-31")

    again = client.post("/links", json=link_request(licensee_name="Other"), headers=SERVICE)
    assert again.status_code == 200 and again.get_json() == body

    resolved = resolve(client, body["token"])
    assert resolved.status_code == 200
    assert resolved.get_json() == {
        "link_id": body["link_id"],
        "license_id": "lic-1",
        "product_sku": "PRO",
        "cycle_end": "2025-03-31",
        "customer_discount_bp": 5000,
        "licensee_name": "Acme GmbH",
        "currency": "EUR",
        "status": "active",
        "expires_on": "2026-03-31",
        "redeemed_order_number": None,
    }

    engine = make_engine(token_settings.database_url)
    with engine.connect() as connection:
        row = connection.execute(text("SELECT * FROM extension_links")).mappings().one()
        outbox = connection.execute(text("SELECT event_type, envelope FROM outbox")).all()
    engine.dispose()
    assert body["token"] not in json.dumps({k: str(v) for k, v in row.items()})
    assert [o.event_type for o in outbox] == ["extension_link.issued"]
    assert outbox[0].envelope["data"]["link_id"] == body["link_id"]
    assert body["token"] not in json.dumps([o.envelope for o in outbox])


def test_expired_link_resolves_with_status_expired(client, clock: FixedToday) -> None:
    token = client.post("/links", json=link_request(), headers=SERVICE).get_json()["token"]
    clock.value = dt.date(2026, 4, 1)
    assert resolve(client, token).get_json()["status"] == "expired"


def test_malformed_and_unknown_tokens_answer_the_same_404(client) -> None:
    client.post("/links", json=link_request(), headers=SERVICE)
    answers = [resolve(client, t, address=f"198.51.100.{i}") for i, t in enumerate([None, "x", "A" * 32])]
    assert {a.status_code for a in answers} == {404}
    assert len({a.get_data() for a in answers}) == 1
    assert answers[0].content_type == "application/problem+json"


def test_failed_resolves_are_limited_per_client_address(client) -> None:
    token = client.post("/links", json=link_request(), headers=SERVICE).get_json()["token"]
    for _ in range(3):
        assert resolve(client, "B" * 32).status_code == 404
    limited = resolve(client, "B" * 32)
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert resolve(client, token).status_code == 429  # the address is blocked, whatever it presents
    assert resolve(client, token, address="192.0.2.1").status_code == 200  # other clients are not


def test_service_credential_is_required(client) -> None:
    assert client.post("/links", json=link_request()).status_code == 401
    assert client.get("/links/resolve", headers={"X-Extension-Token": "A" * 32}).status_code == 401
    wrong = {"Authorization": "Bearer nope"}
    assert (
        client.put("/admin/discount-policy/products/PRO", json={"customer_discount_bp": 1}, headers=wrong).status_code
        == 401
    )


def test_invalid_issue_requests_are_422(client) -> None:
    assert client.post("/links", json=link_request(currency="eur"), headers=SERVICE).status_code == 422
    assert client.post("/links", json=link_request(cycle_end="31.03.2025"), headers=SERVICE).status_code == 422
    response = client.post("/links", json=link_request(customer_discount_bp=10000), headers=SERVICE)
    assert response.status_code == 422 and "customer_discount_bp" in response.get_json()["errors"]


def test_discount_overrides_by_operations(client) -> None:
    assert (
        client.put("/admin/discount-policy/products/PRO", json={"customer_discount_bp": 4000}, headers=OPS).status_code
        == 200
    )
    assert (
        client.put(
            "/admin/discount-policy/licenses/lic-9", json={"customer_discount_bp": 6500}, headers=OPS
        ).status_code
        == 200
    )
    assert (
        client.put(
            "/admin/discount-policy/licenses/lic-9", json={"customer_discount_bp": 10001}, headers=OPS
        ).status_code
        == 422
    )
    issued = {
        lic: client.post("/links", json=link_request(license_id=lic), headers=SERVICE).get_json()
        for lic in ("lic-8", "lic-9")
    }
    other = client.post("/links", json=link_request(license_id="lic-7", product_sku="STD"), headers=SERVICE)
    assert issued["lic-8"]["customer_discount_bp"] == 4000
    assert issued["lic-9"]["customer_discount_bp"] == 6500
    assert other.get_json()["customer_discount_bp"] == 5000


def test_operations_revoke_a_link(client) -> None:
    issued = client.post("/links", json=link_request(), headers=SERVICE).get_json()
    revoked = client.post(f"/links/{issued['link_id']}/revoke", json={"reason": "fraud"}, headers=OPS)
    assert revoked.status_code == 200 and revoked.get_json()["status"] == "revoked"
    assert resolve(client, issued["token"]).get_json()["status"] == "revoked"
    assert client.post("/links/nope/revoke", json={"reason": "x"}, headers=OPS).status_code == 404


def test_secret_rotation_keeps_the_sent_url(service_env: Callable[..., Settings], clock: FixedToday) -> None:
    old = service_env("token", LINK_SECRET="old-link-secret-0123456789")
    old_client = create_app(old, clock=clock).test_client()
    sent = old_client.post("/links", json=link_request(), headers=SERVICE).get_json()

    rotated = service_env(
        "token",
        LINK_SECRET="new-link-secret-0123456789",
        LINK_SECRET_PREVIOUS="old-link-secret-0123456789",
        TOKEN_DATABASE_URL=old.database_url,
    )
    rotated_client = create_app(rotated, clock=clock).test_client()
    assert resolve(rotated_client, sent["token"]).status_code == 200
    assert rotated_client.post("/links", json=link_request(), headers=SERVICE).get_json()["url"] == sent["url"]

    retired = service_env(
        "token",
        LINK_SECRET="new-link-secret-0123456789",
        LINK_SECRET_PREVIOUS="",
        TOKEN_DATABASE_URL=old.database_url,
    )
    retired_client = create_app(retired, clock=clock).test_client()
    assert resolve(retired_client, sent["token"]).status_code == 404


def test_concurrent_issues_for_one_cycle_give_one_link(token_settings: Settings, clock: FixedToday) -> None:
    import threading

    app = create_app(token_settings, clock=clock)
    barrier = threading.Barrier(4)
    answers: list[Any] = []

    def issue() -> None:
        client = app.test_client()
        barrier.wait()
        answers.append(client.post("/links", json=link_request(license_id="lic-race"), headers=SERVICE))

    threads = [threading.Thread(target=issue) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(a.status_code for a in answers) == [200, 200, 200, 201]
    assert len({a.get_json()["url"] for a in answers}) == 1
    engine = make_engine(token_settings.database_url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM extension_links")).scalar_one() == 1
        assert connection.execute(text("SELECT count(*) FROM outbox")).scalar_one() == 1
    engine.dispose()


def test_no_raw_token_in_logs_of_the_http_api(client, caplog: pytest.LogCaptureFixture) -> None:
    issued = client.post("/links", json=link_request(), headers=SERVICE).get_json()
    resolve(client, issued["token"])
    resolve(client, issued["token"][:-1] + "A")
    client.post(f"/links/{issued['link_id']}/revoke", json={"reason": "x"}, headers=OPS)
    assert "extension link issued" in caplog.text
    assert issued["token"] not in caplog.text
