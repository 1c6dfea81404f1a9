from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from reseller_service.domain import commands
from reseller_service.domain.model import AccountStatus
from reseller_service.service_layer import errors
from reseller_service.service_layer.messagebus import MessageBus

PASSWORD = "Tr0ub4dor-and-3-horses"


def register(bus: MessageBus, email: str = "erika@muster.example", **overrides: Any) -> str:
    values: dict[str, Any] = {
        "company": "Muster GmbH",
        "contact_name": "Erika Muster",
        "email": email,
        "password": PASSWORD,
        "billing_address": {
            "line1": "Hauptstr. 1",
            "postal_code": "10115",
            "city": "Berlin",
            "country": "DE",
        },
        "phone": "+49 30 1234567",
        "vat_id": "DE123456789",
    }
    values.update(overrides)
    return str(bus.handle(commands.RegisterReseller(**values)))


def test_register_creates_pending_account_and_event(bus: MessageBus, uow: Any) -> None:
    reseller_id = register(bus, " Erika@Muster.Example ")
    account = uow.resellers.rows[reseller_id]
    assert account.status is AccountStatus.PENDING
    assert account.email == "erika@muster.example"
    assert account.password_hash == f"v1${PASSWORD}"
    assert account.billing.name == "Erika Muster" and account.billing.address.country == "DE"
    assert uow.events == [
        (
            "reseller.registered",
            {
                "reseller_id": reseller_id,
                "email": "erika@muster.example",
                "company": "Muster GmbH",
                "contact_name": "Erika Muster",
            },
        )
    ]


def test_register_refuses_duplicate_weak_password_and_vat_mismatch(bus: MessageBus, uow: Any) -> None:
    register(bus)
    with pytest.raises(errors.EmailTaken):
        register(bus, "ERIKA@muster.example")
    with pytest.raises(errors.InvalidInput) as weak:
        register(
            bus,
            "b@muster.example",
            password="B@Muster.example",
        )
    assert "password" in weak.value.errors
    with pytest.raises(errors.InvalidInput) as vat:
        register(bus, "c@muster.example", vat_id="FR12345678901")
    assert "vat_id" in vat.value.errors
    assert len(uow.resellers.rows) == 1 and len(uow.events) == 1


def test_authenticate_approved(bus: MessageBus) -> None:
    reseller_id = register(bus)
    bus.handle(commands.ApproveReseller(reseller_id))
    account = bus.handle(commands.Authenticate("erika@muster.example", PASSWORD, "192.0.2.1"))
    assert account.id == reseller_id and account.reseller_discount_bp == 1000


def test_unknown_email_still_verifies_a_hash(bus: MessageBus, hasher: Any) -> None:
    with pytest.raises(errors.InvalidCredentials):
        bus.handle(commands.Authenticate("nobody@muster.example", PASSWORD, "192.0.2.1"))
    assert len(hasher.verified) == 1  # the dummy hash: same work as a wrong password


@pytest.mark.parametrize("action", ["pending", "reject", "suspend"])
def test_inactive_accounts_learn_their_state_only_with_the_right_password(bus: MessageBus, action: str) -> None:
    reseller_id = register(bus)
    if action == "reject":
        bus.handle(commands.RejectReseller(reseller_id, "no"))
    if action == "suspend":
        bus.handle(commands.ApproveReseller(reseller_id))
        bus.handle(commands.SuspendReseller(reseller_id, "no"))
    with pytest.raises(errors.InvalidCredentials):
        bus.handle(commands.Authenticate("erika@muster.example", "wrong-password-1234", "192.0.2.1"))
    with pytest.raises(errors.AccountNotActive) as exc:
        bus.handle(commands.Authenticate("erika@muster.example", PASSWORD, "192.0.2.1"))
    assert exc.value.status == {"pending": "pending", "reject": "rejected", "suspend": "suspended"}[action]


def test_rehash_on_login_when_parameters_change(bus: MessageBus, uow: Any, hasher: Any) -> None:
    reseller_id = register(bus)
    bus.handle(commands.ApproveReseller(reseller_id))
    hasher.version = 2
    bus.handle(commands.Authenticate("erika@muster.example", PASSWORD, "192.0.2.1"))
    account = uow.resellers.rows[reseller_id]
    assert account.password_hash == f"v2${PASSWORD}"
    assert account.session_version == 1  # same password: sessions stay


def test_failures_are_limited_per_account_and_per_client(bus: MessageBus, limiter: Any) -> None:
    register(bus)
    for i in range(10):
        with pytest.raises(errors.InvalidCredentials):
            bus.handle(commands.Authenticate("erika@muster.example", "wrong-password-1234", f"192.0.2.{i}"))
    with pytest.raises(errors.TooManyAttempts) as exc:
        bus.handle(commands.Authenticate("erika@muster.example", PASSWORD, "192.0.2.200"))
    assert exc.value.retry_after == 900
    limiter.counts.clear()
    for i in range(10):
        with pytest.raises(errors.InvalidCredentials):
            bus.handle(commands.Authenticate(f"x{i}@muster.example", "wrong-password-1234", "192.0.2.77"))
    with pytest.raises(errors.TooManyAttempts):
        bus.handle(commands.Authenticate("erika@muster.example", PASSWORD, "192.0.2.77"))


def test_a_success_clears_the_account_failures_and_only_when_there_are_some(bus: MessageBus, limiter: Any) -> None:
    bus.handle(commands.ApproveReseller(register(bus)))
    cleared: list[str] = []
    clear = limiter.clear
    limiter.clear = lambda key: (cleared.append(key), clear(key))
    bus.handle(commands.Authenticate("erika@muster.example", PASSWORD, "192.0.2.1"))
    assert cleared == []  # nothing counted, nothing to delete: no round trip
    for round_ in range(2):  # 9 + 9 failures stay under the limit of 10 only because the success in between clears
        for i in range(9):
            with pytest.raises(errors.InvalidCredentials):
                bus.handle(commands.Authenticate("erika@muster.example", "wrong-password-1234", f"192.0.2.{i}"))
        bus.handle(commands.Authenticate("erika@muster.example", PASSWORD, f"192.0.2.{100 + round_}"))
    assert len(cleared) == 2


def test_approve_publishes_and_refuses_twice(bus: MessageBus, uow: Any) -> None:
    reseller_id = register(bus)
    bus.handle(commands.ApproveReseller(reseller_id, discount_bp=2500, invoice_allowed=True))
    assert uow.events[-1][0] == "reseller.approved"
    assert uow.events[-1][1]["discount_bp"] == 2500
    with pytest.raises(errors.Conflict):
        bus.handle(commands.ApproveReseller(reseller_id))
    with pytest.raises(errors.NotFound):
        bus.handle(commands.ApproveReseller("missing"))


def test_billing_update_is_audited(bus: MessageBus, uow: Any, clock: Any) -> None:
    reseller_id = register(bus)
    bus.handle(commands.UpdateBilling(reseller_id, {"address": {"city": "Hamburg"}}, "ops-alice"))
    [edit] = uow.billing_edits.rows
    assert (edit.changed_by, edit.changed_at, edit.changed_fields) == (
        "ops-alice",
        clock.now(),
        ["address.city"],
    )
    assert edit.old["address"]["city"] == "Berlin" and edit.new["address"]["city"] == "Hamburg"
    assert uow.events[-1] == (
        "reseller.billing_updated",
        {
            "reseller_id": reseller_id,
            "changed_by": "ops-alice",
            "changed_fields": ["address.city"],
        },
    )
    bus.handle(commands.UpdateBilling(reseller_id, {"address": {"city": "Hamburg"}}, "ops-alice"))
    assert len(uow.billing_edits.rows) == 1  # no change, no audit row, no event


def test_password_reset_round_trip(bus: MessageBus, uow: Any, tokens: Any, clock: Any) -> None:
    reseller_id = register(bus)
    reset_id = bus.handle(commands.RequestPasswordReset("ERIKA@muster.example"))
    reset = uow.password_resets.rows[reset_id]
    token = tokens.token_for(reset_id, reset.nonce)
    assert reset.token_hash == tokens.hash_token(token) != token
    assert reset.expires_at - reset.created_at == dt.timedelta(minutes=30)
    event_type, data = uow.events[-1]
    assert event_type == "reseller.password_reset_requested" and token not in str(data)
    bus.handle(commands.CompletePasswordReset(token, "a brand new passphrase"))
    account = uow.resellers.rows[reseller_id]
    assert account.password_hash == "v1$a brand new passphrase" and account.session_version == 2
    with pytest.raises(errors.InvalidResetToken):
        bus.handle(commands.CompletePasswordReset(token, "another brand new passphrase"))


def test_reset_request_for_unknown_email_does_nothing(bus: MessageBus, uow: Any) -> None:
    assert bus.handle(commands.RequestPasswordReset("nobody@muster.example")) is None
    assert uow.events == [] and uow.password_resets.rows == {}


def test_reset_requests_are_throttled_per_email(bus: MessageBus, uow: Any) -> None:
    register(bus)
    ids = [bus.handle(commands.RequestPasswordReset("erika@muster.example")) for _ in range(5)]
    assert sum(1 for i in ids if i) == 3


def test_change_request_links_known_reseller(bus: MessageBus, uow: Any) -> None:
    reseller_id = register(bus)
    request_id = bus.handle(commands.SubmitChangeRequest("Erika@Muster.example", "R-1", "billing", "new address"))
    assert uow.change_requests.rows[request_id].reseller_id == reseller_id
    anonymous = bus.handle(commands.SubmitChangeRequest("who@else.example", "R-2", "other", "hello"))
    assert uow.change_requests.rows[anonymous].reseller_id is None
    assert [t for t, _ in uow.events].count("reseller.change_requested") == 2
