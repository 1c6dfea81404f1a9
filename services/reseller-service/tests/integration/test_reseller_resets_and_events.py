"""Password resets (single use, 30 minutes, ends sessions) and events leaving through the outbox with no secret."""

from __future__ import annotations

import json
import time
from typing import Any

from kombu import Queue
from renewals_shared.bus import connect
from renewals_shared.testing import TEST_SECRETS
from renewals_shared.worker import build_relay, topology_for
from sqlalchemy import text

SERVICE = {"Authorization": f"Bearer {TEST_SECRETS['SERVICE_TOKEN']}"}
OPS = {"Authorization": f"Bearer {TEST_SECRETS['OPS_TOKEN']}"}
PASSWORD = "Tr0ub4dor-and-3-horses"
NEW_PASSWORD = "a brand new passphrase for Erika"
Reseller = Any  # conftest.Reseller


def outbox(reseller: Reseller) -> list[dict[str, Any]]:
    with reseller.engine.connect() as connection:
        return [row[0] for row in connection.execute(text("SELECT envelope FROM outbox ORDER BY seq"))]


def request_reset(reseller: Reseller, email: str = "erika@muster.example") -> tuple[str, str]:
    response = reseller.client.post("/password-resets", json={"email": email}, headers=SERVICE)
    assert response.status_code == 202
    reset_id = outbox(reseller)[-1]["data"]["reset_id"]
    url = reseller.client.get(f"/password-resets/{reset_id}/url", headers=SERVICE).get_json()["url"]
    prefix = "http://renewals.test/reseller/password-reset/"
    assert url.startswith(prefix)
    return reset_id, url.removeprefix(prefix)


def complete(reseller: Reseller, token: str, password: str = NEW_PASSWORD) -> Any:
    return reseller.client.post(
        "/password-resets/complete",
        json={"token": token, "new_password": password},
        headers=SERVICE,
    )


def test_password_reset_sets_password_once_and_ends_sessions(
    reseller: Reseller,
) -> None:
    reseller_id = reseller.register()
    reseller.approve(reseller_id)
    before = reseller.client.get(f"/resellers/{reseller_id}", headers=SERVICE).get_json()["session_version"]
    reset_id, token = request_reset(reseller)
    assert len(token) >= 43  # 256-bit HMAC, URL-safe

    assert complete(reseller, token, "Password123!").status_code == 422  # weak: token not consumed
    assert complete(reseller, token).status_code == 204
    assert complete(reseller, token, "yet another passphrase 42").status_code == 400  # single use
    assert reseller.client.get(f"/password-resets/{reset_id}/url", headers=SERVICE).status_code == 410

    after = reseller.client.get(f"/resellers/{reseller_id}", headers=SERVICE).get_json()["session_version"]
    assert after == before + 1
    assert reseller.authenticate("erika@muster.example", PASSWORD).status_code == 401
    assert reseller.authenticate("erika@muster.example", NEW_PASSWORD).status_code == 200
    with reseller.engine.connect() as connection:
        stored = connection.execute(text("SELECT token_hash FROM password_resets")).scalar_one()
    assert stored != token and token not in json.dumps(outbox(reseller))


def test_password_reset_expires_after_30_minutes(reseller: Reseller) -> None:
    reseller.register()
    reset_id, token = request_reset(reseller)
    reseller.clock.advance(minutes=30, seconds=1)
    assert reseller.client.get(f"/password-resets/{reset_id}/url", headers=SERVICE).status_code == 410
    assert complete(reseller, token).status_code == 400
    assert reseller.authenticate("erika@muster.example", NEW_PASSWORD).status_code == 401


def test_a_completed_reset_voids_the_other_open_ones(reseller: Reseller) -> None:
    reseller.register()
    _, first = request_reset(reseller)
    _, second = request_reset(reseller)
    assert complete(reseller, second).status_code == 204
    assert complete(reseller, first, "another good passphrase 7").status_code == 400


def test_reset_request_answers_the_same_for_unknown_email(reseller: Reseller) -> None:
    reseller.register()
    known = reseller.client.post("/password-resets", json={"email": "erika@muster.example"}, headers=SERVICE)
    unknown = reseller.client.post("/password-resets", json={"email": "nobody@muster.example"}, headers=SERVICE)
    assert (known.status_code, known.get_json()) == (unknown.status_code, unknown.get_json()) == (202, known.get_json())
    assert complete(reseller, "made-up-token").status_code == 400
    assert reseller.client.get("/password-resets/unknown-id/url", headers=SERVICE).status_code == 404
    assert reseller.client.get("/password-resets/unknown-id/url").status_code == 401


def test_events_leave_through_the_outbox_without_secrets(reseller: Reseller) -> None:
    settings = reseller.settings
    topology = topology_for(settings)
    observed = Queue(
        f"{settings.bus_namespace}.observer",
        exchange=topology.events,
        routing_key="reseller.*",
    )
    connection = connect(settings.broker_url)
    try:
        for exchange in (topology.events,):
            exchange(connection.default_channel).declare()
        observed(connection.default_channel).declare()

        reseller_id = reseller.register()
        reseller.approve(reseller_id, discount_bp=1200, invoice_allowed=True)
        reseller.client.patch(
            f"/admin/resellers/{reseller_id}/billing",
            json={"address": {"city": "Hamburg"}},
            headers=OPS,
        )
        _, token = request_reset(reseller)
        rejected = reseller.register("other@muster.example")
        reseller.client.post(
            f"/admin/resellers/{rejected}/reject",
            json={"reason": "duplicate"},
            headers=OPS,
        )
        reseller.client.post(
            "/change-requests",
            json={
                "reseller_email": "erika@muster.example",
                "previous_order_number": "R-1",
                "topic": "end_customer",
                "message": "The end customer moved.",
            },
            headers=SERVICE,
        )
        complete(reseller, token)
        reseller.client.post(
            f"/admin/resellers/{reseller_id}/suspend",
            json={"reason": "audit"},
            headers=OPS,
        )

        relay = build_relay(settings, reseller.engine)
        try:
            while relay.relay_once():
                pass
        finally:
            relay.publisher.close()

        seen: list[dict[str, Any]] = []
        queue = observed(connection.default_channel)
        deadline = time.monotonic() + 20
        while len(seen) < 8 and time.monotonic() < deadline:
            message = queue.get(no_ack=True)
            if message is None:
                time.sleep(0.1)
                continue
            seen.append(json.loads(message.body))
    finally:
        connection.release()

    assert [e["type"] for e in seen] == [
        "reseller.registered",
        "reseller.approved",
        "reseller.billing_updated",
        "reseller.password_reset_requested",
        "reseller.registered",
        "reseller.rejected",
        "reseller.change_requested",
        "reseller.suspended",
    ]
    assert all(e["producer"] == "reseller-service" for e in seen)
    approved = seen[1]["data"]
    assert (
        approved["reseller_id"],
        approved["discount_bp"],
        approved["invoice_allowed"],
    ) == (reseller_id, 1200, True)
    assert seen[2]["data"]["changed_fields"] == ["address.city"]
    reset = seen[3]["data"]
    assert set(reset) == {"reseller_id", "reset_id", "email", "contact_name"}
    everything = json.dumps(seen)
    for secret in (
        PASSWORD,
        NEW_PASSWORD,
        token,
        "argon2",
        TEST_SECRETS["LINK_SECRET"],
    ):
        assert secret not in everything
    with reseller.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM outbox WHERE published_at IS NULL")).scalar_one() == 0
