"""The reseller-service HTTP contract (docs/internal-api.md) on real PostgreSQL and Redis."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from renewals_shared.testing import TEST_SECRETS
from sqlalchemy import text

SERVICE = {"Authorization": f"Bearer {TEST_SECRETS['SERVICE_TOKEN']}"}
OPS = {"Authorization": f"Bearer {TEST_SECRETS['OPS_TOKEN']}"}
PASSWORD = "Tr0ub4dor-and-3-horses"
Reseller = Any  # conftest.Reseller


def test_register_approve_authenticate(reseller: Reseller) -> None:
    reseller_id = reseller.register("  Erika@Muster.EXAMPLE ")
    approved = reseller.approve(reseller_id, discount_bp=1500, invoice_allowed=True)
    assert approved["status"] == "approved"

    response = reseller.authenticate("ERIKA@muster.example", PASSWORD)
    assert response.status_code == 200
    account = response.get_json()
    assert account["id"] == reseller_id
    assert account["email"] == "erika@muster.example"
    assert (account["status"], account["discount_bp"], account["invoice_allowed"]) == (
        "approved",
        1500,
        True,
    )
    assert account["billing"] == {
        "name": "Erika Muster",
        "company": "Muster GmbH",
        "email": "erika@muster.example",
        "address": {
            "line1": "Hauptstr. 1",
            "line2": "",
            "postal_code": "10115",
            "city": "Berlin",
            "region": "",
            "country": "DE",
        },
        "vat_id": "DE123456789",
    }
    assert "password" not in str(account) and "argon2" not in str(account)
    assert reseller.client.get(f"/resellers/{reseller_id}", headers=SERVICE).get_json() == account


def test_default_discount_is_1000_bp(reseller: Reseller) -> None:
    reseller_id = reseller.register()
    assert reseller.approve(reseller_id)["discount_bp"] == 1000


def test_pending_account_gets_no_discount_and_403_only_after_correct_password(
    reseller: Reseller,
) -> None:
    reseller_id = reseller.register()
    account = reseller.client.get(f"/resellers/{reseller_id}", headers=SERVICE).get_json()
    assert (account["status"], account["discount_bp"], account["invoice_allowed"]) == (
        "pending",
        0,
        False,
    )

    wrong = reseller.authenticate("erika@muster.example", "not-the-password-at-all")
    assert wrong.status_code == 401
    assert "pending" not in wrong.get_data(as_text=True)

    right = reseller.authenticate("erika@muster.example", PASSWORD)
    assert right.status_code == 403
    assert right.get_json()["status"] == "pending"
    assert "discount_bp" not in right.get_json()


def test_rejected_and_suspended_are_told_their_state(reseller: Reseller) -> None:
    rejected = reseller.register("rejected@muster.example")
    suspended = reseller.register("suspended@muster.example")
    response = reseller.client.post(f"/admin/resellers/{rejected}/reject", json={"reason": "no VAT id"}, headers=OPS)
    assert response.get_json()["status"] == "rejected"
    reseller.approve(suspended)
    response = reseller.client.post(f"/admin/resellers/{suspended}/suspend", json={"reason": "fraud"}, headers=OPS)
    assert response.get_json()["status"] == "suspended"
    assert response.get_json()["discount_bp"] == 0
    assert reseller.authenticate("rejected@muster.example", PASSWORD).get_json()["status"] == "rejected"
    assert reseller.authenticate("suspended@muster.example", PASSWORD).get_json()["status"] == "suspended"
    again = reseller.client.post(f"/admin/resellers/{rejected}/approve", json={}, headers=OPS)
    assert again.status_code == 409


def test_unknown_email_and_wrong_password_look_the_same(reseller: Reseller) -> None:
    reseller.approve(reseller.register())

    def timed(email: str) -> tuple[int, dict[str, object], float]:
        started = time.perf_counter()
        response = reseller.authenticate(email, "Wrong-password-123456", client=f"198.51.100.{len(email)}")
        return response.status_code, response.get_json(), time.perf_counter() - started

    reseller.authenticate("warm@up.example", "x" * 12)  # first request pays imports and connections
    known, unknown = [], []
    for _ in range(7):  # interleaved, so load from other processes hits both alike
        known.append(timed("erika@muster.example"))
        unknown.append(timed("nobody@muster.example"))
    assert {(s, tuple(sorted(b.items()))) for s, b, _ in known + unknown} == {(401, tuple(sorted(known[0][1].items())))}
    known_median = statistics.median(t for *_, t in known)
    unknown_median = statistics.median(t for *_, t in unknown)
    # Both verify one argon2id hash: within a factor of 2 of each other (the hash dominates; a shortcut for
    # unknown emails would be tens of times faster).
    assert 1 / 2 < unknown_median / known_median < 2, (known_median, unknown_median)


def test_failed_attempts_are_limited_per_account_and_per_client(
    make_reseller: Callable[..., Reseller],
) -> None:
    reseller = make_reseller(RESELLER_AUTH_MAX_FAILURES="3")
    reseller.approve(reseller.register())
    for i in range(3):
        assert reseller.authenticate("erika@muster.example", "Wrong-password-123456", f"192.0.2.{i}").status_code == 401
    blocked = reseller.authenticate("erika@muster.example", PASSWORD, "192.0.2.99")
    assert blocked.status_code == 429  # even the right password, from a new address: the account is locked
    assert 0 < int(blocked.headers["Retry-After"]) <= 900

    # per client: one address trying many accounts
    for i in range(3):
        assert (
            reseller.authenticate(f"guess{i}@muster.example", "Wrong-password-123456", "192.0.2.50").status_code == 401
        )
    assert reseller.authenticate("other@muster.example", "whatever-password", "192.0.2.50").status_code == 429
    assert reseller.authenticate("other@muster.example", "whatever-password", "192.0.2.51").status_code == 401
    keys = [k.decode() for k in __import__("redis").Redis.from_url(reseller.settings.redis_url).keys("*auth-fail*")]
    assert keys and all(k.startswith(reseller.settings.redis_prefix) for k in keys if "192.0.2.5" in k)


def test_successful_login_resets_the_account_counter(
    make_reseller: Callable[..., Reseller],
) -> None:
    reseller = make_reseller(RESELLER_AUTH_MAX_FAILURES="3")
    reseller.approve(reseller.register())
    for round_ in range(2):
        for i in range(2):
            reseller.authenticate(
                "erika@muster.example",
                "Wrong-password-123456",
                f"192.0.2.{round_ * 10 + i}",
            )
        assert reseller.authenticate("erika@muster.example", PASSWORD, f"192.0.2.{round_ * 10 + 9}").status_code == 200


def test_registration_input_is_validated(reseller: Reseller, registration_body: Callable[..., Any]) -> None:
    registration = registration_body
    cases = {
        "status": registration(status="approved"),
        "discount_bp": registration(discount_bp=5000),
        "email": registration("not-an-email"),
        "password": registration(password="Password123!"),
        "vat_id": registration(vat_id="DE12"),
        "billing_address": registration(billing_address={**registration()["billing_address"], "country": "XX"}),
        "phone": registration(phone="call me"),
    }
    for field, body in cases.items():
        response = reseller.client.post("/resellers", json=body, headers=SERVICE)
        assert response.status_code == 422, (field, response.get_json())
        assert response.content_type == "application/problem+json"
        assert field in str(response.get_json()["errors"]), (field, response.get_json())
        assert "Password123!" not in response.get_data(as_text=True)
    with reseller.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM resellers")).scalar_one() == 0
        assert connection.execute(text("SELECT count(*) FROM outbox")).scalar_one() == 0


def test_email_is_unique_case_insensitively(reseller: Reseller, registration_body: Callable[..., Any]) -> None:
    registration = registration_body
    reseller.register("erika@muster.example")
    response = reseller.client.post("/resellers", json=registration("ERIKA@Muster.Example"), headers=SERVICE)
    assert response.status_code == 409
    with reseller.engine.begin() as connection:  # even a row that escaped normalisation
        connection.execute(text("UPDATE resellers SET email = 'Erika@Muster.example'"))
    assert reseller.client.post("/resellers", json=registration(), headers=SERVICE).status_code == 409


def test_oversized_bodies_and_missing_credentials_are_refused(
    reseller: Reseller, registration_body: Callable[..., Any]
) -> None:
    registration = registration_body
    big = registration(company="x" * 200_000)
    assert reseller.client.post("/resellers", json=big, headers=SERVICE).status_code == 413
    assert reseller.client.post("/resellers", json=registration()).status_code == 401
    assert reseller.client.get("/admin/resellers", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert reseller.client.post("/resellers", data="x", headers=SERVICE).status_code == 415


def test_admin_lists_pending_and_edits_billing_with_audit(reseller: Reseller) -> None:
    first = reseller.register("a@muster.example")
    second = reseller.register("b@muster.example")
    reseller.approve(second)
    pending = reseller.client.get("/admin/resellers?status=pending", headers=OPS).get_json()["resellers"]
    assert [r["id"] for r in pending] == [first]
    assert reseller.client.get("/admin/resellers?status=bogus", headers=OPS).status_code == 422

    response = reseller.client.patch(
        f"/admin/resellers/{second}/billing",
        json={
            "address": {"city": "Hamburg", "postal_code": "20095"},
            "company": "Muster Nord GmbH",
        },
        headers={**OPS, "X-Actor": "ops-alice"},
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["billing"]["address"]["city"] == "Hamburg"
    assert response.get_json()["billing"]["address"]["line1"] == "Hauptstr. 1"
    edits = reseller.client.get(f"/admin/resellers/{second}/billing-edits", headers=OPS).get_json()["billing_edits"]
    assert len(edits) == 1
    assert edits[0]["changed_by"] == "ops-alice"
    assert edits[0]["old"]["address"]["city"] == "Berlin" and edits[0]["new"]["address"]["city"] == "Hamburg"
    assert sorted(edits[0]["changed_fields"]) == [
        "address.city",
        "address.postal_code",
        "company",
    ]

    bad = reseller.client.patch(
        f"/admin/resellers/{second}/billing",
        json={"vat_id": "FR12345678901"},
        headers=OPS,
    )
    assert bad.status_code == 422  # French VAT id on a German address
    assert reseller.client.patch(f"/admin/resellers/{second}/billing", json={"x": 1}, headers=OPS).status_code == 422


def test_change_requests_are_stored_listed_and_closed(reseller: Reseller) -> None:
    reseller_id = reseller.register()
    response = reseller.client.post(
        "/change-requests",
        json={
            "reseller_email": "Erika@Muster.example",
            "previous_order_number": "R-2024-0001",
            "topic": "billing",
            "message": "Please use our new address.",
        },
        headers=SERVICE,
    )
    assert response.status_code == 202
    request_id = response.get_json()["id"]
    listed = reseller.client.get("/admin/change-requests?status=open", headers=OPS).get_json()["change_requests"]
    assert [(r["id"], r["reseller_id"], r["topic"]) for r in listed] == [(request_id, reseller_id, "billing")]
    closed = reseller.client.post(f"/admin/change-requests/{request_id}/close", headers=OPS)
    assert closed.get_json()["status"] == "closed"
    assert reseller.client.get("/admin/change-requests?status=open", headers=OPS).get_json()["change_requests"] == []
    assert reseller.client.post(f"/admin/change-requests/{request_id}/close", headers=OPS).status_code == 409


def test_approve_without_a_body_uses_the_defaults(reseller: Reseller) -> None:
    reseller_id = reseller.register()
    response = reseller.client.post(f"/admin/resellers/{reseller_id}/approve", headers=OPS)
    assert response.status_code == 200
    assert (response.get_json()["discount_bp"], response.get_json()["invoice_allowed"]) == (1000, False)
    assert reseller.client.post("/admin/resellers/nope/approve", headers=OPS).status_code == 404


def test_an_empty_vat_id_means_none_and_an_overlong_one_is_refused(
    reseller: Reseller, registration_body: Callable[..., dict[str, Any]]
) -> None:
    reseller.register(vat_id="")  # asserts 201
    overlong = reseller.client.post(
        "/resellers",
        json=registration_body("other@muster.example", vat_id="DE" + "1" * 30),
        headers=SERVICE,
    )
    assert overlong.status_code == 422
    assert "vat_id" in overlong.get_json()["errors"]
