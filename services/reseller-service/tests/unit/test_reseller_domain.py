from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reseller_service.domain.countries import is_country_code
from reseller_service.domain.email_address import is_valid_email, normalise_email
from reseller_service.domain.model import (
    AccountStatus,
    Address,
    ChangeRequest,
    ChangeTopic,
    DomainError,
    InvalidTransition,
    Party,
    PasswordReset,
    ResellerAccount,
)
from reseller_service.domain.passwords import common_passwords, password_problems
from reseller_service.domain.vat import normalise_vat_id, vat_id_problem

NOW = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)


def make_account(**overrides: object) -> ResellerAccount:
    values: dict[str, object] = {
        "id": "r-1",
        "company": "Muster GmbH",
        "contact_name": "Erika Muster",
        "email": "erika@muster.example",
        "phone": "+49 30 1234567",
        "password_hash": "h",
        "billing": Party(
            name="Erika Muster",
            company="Muster GmbH",
            email="erika@muster.example",
            address=Address(line1="Hauptstr. 1", postal_code="10115", city="Berlin", country="DE"),
            vat_id="DE123456789",
        ),
        "created_at": NOW,
    }
    values.update(overrides)
    return ResellerAccount(**values)  # type: ignore[arg-type]


# --- account lifecycle ---------------------------------------------------------------------------------------


def test_new_account_is_pending_with_default_discount_but_gets_none() -> None:
    account = make_account()
    assert account.status is AccountStatus.PENDING
    assert account.discount_bp == 1000
    assert account.reseller_discount_bp == 0


def test_approve_applies_discount_and_invoice_flag() -> None:
    account = make_account()
    account.approve(NOW, discount_bp=1500, invoice_allowed=True)
    assert account.status is AccountStatus.APPROVED
    assert account.reseller_discount_bp == 1500
    assert account.invoice_allowed is True
    assert account.decided_at == NOW


def test_approve_without_override_keeps_default_discount() -> None:
    account = make_account()
    account.approve(NOW)
    assert account.reseller_discount_bp == 1000


@pytest.mark.parametrize("discount", [-1, 10001])
def test_approve_refuses_discount_out_of_range(discount: int) -> None:
    with pytest.raises(DomainError):
        make_account().approve(NOW, discount_bp=discount)


@pytest.mark.parametrize(
    ("start", "action", "allowed"),
    [
        (AccountStatus.PENDING, "approve", True),
        (AccountStatus.PENDING, "reject", True),
        (AccountStatus.PENDING, "suspend", False),
        (AccountStatus.APPROVED, "approve", False),
        (AccountStatus.APPROVED, "reject", False),
        (AccountStatus.APPROVED, "suspend", True),
        (AccountStatus.REJECTED, "approve", False),
        (AccountStatus.REJECTED, "suspend", False),
        (AccountStatus.SUSPENDED, "approve", False),
        (AccountStatus.SUSPENDED, "reject", False),
    ],
)
def test_status_transitions(start: AccountStatus, action: str, allowed: bool) -> None:
    account = make_account(status=start)
    act = {
        "approve": lambda: account.approve(NOW),
        "reject": lambda: account.reject(NOW, "no"),
        "suspend": lambda: account.suspend(NOW, "no"),
    }[action]
    if allowed:
        act()
        assert account.status is not start
    else:
        with pytest.raises(InvalidTransition):
            act()
        assert account.status is start


@pytest.mark.parametrize("status", [AccountStatus.PENDING, AccountStatus.REJECTED, AccountStatus.SUSPENDED])
def test_only_approved_accounts_get_a_discount(status: AccountStatus) -> None:
    assert make_account(status=status, discount_bp=2000).reseller_discount_bp == 0


def test_password_change_bumps_session_version_but_rehash_does_not() -> None:
    account = make_account()
    account.rehash("h2")
    assert account.session_version == 1
    account.set_password_hash("h3")
    assert (account.password_hash, account.session_version) == ("h3", 2)


def test_suspension_ends_sessions() -> None:
    account = make_account(status=AccountStatus.APPROVED)
    account.suspend(NOW, "unpaid invoices")
    assert account.session_version == 2
    assert account.status_reason == "unpaid invoices"


def test_update_billing_reports_changed_fields_and_keeps_old() -> None:
    account = make_account()
    old, changed = account.update_billing({"address": {"city": "Hamburg", "postal_code": "20095"}, "vat_id": None})
    assert changed == ["vat_id", "address.postal_code", "address.city"]
    assert old.address.city == "Berlin"
    assert account.billing.address.city == "Hamburg"
    assert account.billing.address.line1 == "Hauptstr. 1"


def test_update_billing_with_same_values_changes_nothing() -> None:
    account = make_account()
    _, changed = account.update_billing({"name": "Erika Muster"})
    assert changed == []


def test_party_round_trips_through_dict() -> None:
    party = make_account().billing
    assert Party.from_dict(party.to_dict()) == party


def test_password_reset_is_single_use_and_expires() -> None:
    reset = PasswordReset("p", "r", "n", "h", NOW, NOW + dt.timedelta(minutes=30))
    assert reset.usable(NOW + dt.timedelta(minutes=29))
    assert not reset.usable(NOW + dt.timedelta(minutes=30))
    reset.use(NOW)
    assert not reset.usable(NOW)
    with pytest.raises(DomainError):
        reset.use(NOW)


def test_change_request_closes_once() -> None:
    request = ChangeRequest("c", "a@b.example", "R-1", ChangeTopic.BILLING, "new address", NOW)
    request.close(NOW, "ops")
    with pytest.raises(InvalidTransition):
        request.close(NOW, "ops")


# --- passwords -----------------------------------------------------------------------------------------------


def test_shipped_common_password_list_is_large_and_lower_case() -> None:
    words = common_passwords()
    assert len(words) >= 5000
    assert "password" in words and "password123!" in words
    assert all(w == w.lower() for w in list(words)[:2000])


@pytest.mark.parametrize(
    ("password", "fragment"),
    [
        ("short", "at least 12"),
        ("x" * 129, "at most 128"),
        ("Password123!", "too common"),
        ("QWERTYUIOP123", "too common"),
        ("Erika@Muster.example", "email"),
        ("aaaaaaaaaaaaaa", "single character"),
    ],
)
def test_password_policy_refuses(password: str, fragment: str) -> None:
    problems = password_problems(password, "erika@muster.example")
    assert any(fragment in p for p in problems), problems
    assert all(password not in p for p in problems)  # never echo the password


@pytest.mark.parametrize(
    "password",
    [
        "Demo-Reseller-2026!",
        "correct horse battery staple",
        "Пароль-для-реселлера",
        "密码很长很长很长很长很长很长",
        "x" * 127 + "y",
    ],
)
def test_password_policy_accepts(password: str) -> None:
    assert password_problems(password, "erika@muster.example") == []


def test_password_length_counts_code_points_not_bytes() -> None:
    assert password_problems("ééééééééééé" + "f", None) == []  # 12 code points, 23 bytes
    assert password_problems("éééééééééé" + "f", None) != []


@given(st.text(min_size=0, max_size=11))
def test_anything_shorter_than_12_is_refused(password: str) -> None:
    assert password_problems(password) != []


# --- email, country, VAT -------------------------------------------------------------------------------------


def test_email_normalisation() -> None:
    assert normalise_email("  Erika@Muster.EXAMPLE \n") == "erika@muster.example"


@pytest.mark.parametrize(
    ("email", "valid"),
    [
        ("erika@muster.example", True),
        ("first.last+tag@sub.example.co.uk", True),
        ("no-at-sign.example", False),
        ("a@b", False),
        ("a@@b.example", False),
        ("a b@c.example", False),
        (".a@b.example", False),
        ("a@-b.example", False),
        ("x" * 65 + "@b.example", False),
        ("a@" + "b" * 250 + ".example", False),
    ],
)
def test_email_validation(email: str, valid: bool) -> None:
    assert is_valid_email(email) is valid


@pytest.mark.parametrize(
    ("code", "valid"),
    [("DE", True), ("AT", True), ("XX", False), ("de", False), ("DEU", False)],
)
def test_country_codes(code: str, valid: bool) -> None:
    assert is_country_code(code) is valid


@pytest.mark.parametrize(
    ("vat_id", "country", "ok"),
    [
        ("DE123456789", "DE", True),
        ("DE12345678", "DE", False),
        ("ATU12345678", "AT", True),
        ("AT12345678", "AT", False),
        ("FR12345678901", "FR", True),
        ("NL123456789B01", "NL", True),
        ("NL123456789", "NL", False),
        ("EL123456789", "GR", True),
        (
            "GR123456789",
            "GR",
            True,
        ),  # not an EU VAT prefix: generic shape only, but country mismatch not checked
        ("IE1234567T", "IE", True),
        ("IE1234567WA", "IE", True),
        ("ESX1234567X", "ES", True),
        ("SE123456789001", "SE", True),
        ("SE123456789002", "SE", False),
        ("DE123456789", "FR", False),
        ("CHE123456789", "CH", True),
        ("GB123456789", "GB", True),
        ("1234", "DE", False),
        ("DE123456789", None, True),
    ],
)
def test_vat_id_formats(vat_id: str, country: str | None, ok: bool) -> None:
    assert (vat_id_problem(vat_id, country) is None) is ok


def test_vat_normalisation_strips_separators() -> None:
    assert normalise_vat_id(" de 123.456-789 ") == "DE123456789"
