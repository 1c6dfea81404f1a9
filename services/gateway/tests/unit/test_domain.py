from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.domain.navigation import safe_next
from gateway.domain.presentation import (
    choose_term,
    format_date,
    format_money,
    format_percent,
    years_label,
)
from gateway.domain.redaction import mask_path
from gateway.domain.session_policy import SessionPolicy, version_is_stale


@pytest.mark.parametrize(
    ("candidate", "expected"),
    [
        ("/extend/abc", "/extend/abc"),
        ("/reseller/orders?x=1", "/reseller/orders?x=1"),
        (None, "/reseller/account"),
        ("", "/reseller/account"),
        ("https://evil.example/", "/reseller/account"),
        ("//evil.example", "/reseller/account"),
        ("/\\evil.example", "/reseller/account"),
        ("\\\\evil.example", "/reseller/account"),
        ("javascript:alert(1)", "/reseller/account"),
        ("extend/abc", "/reseller/account"),
        ("/x\r\nSet-Cookie: a=b", "/reseller/account"),
        ("/x\tx", "/reseller/account"),
    ],
)
def test_safe_next(candidate, expected):
    assert safe_next(candidate) == expected


@given(st.text(max_size=60))
def test_safe_next_never_leaves_the_site(candidate):
    result = safe_next(candidate)
    assert result.startswith("/") and not result.startswith("//") and "\\" not in result


@pytest.mark.parametrize(
    ("money", "text"),
    [
        ({"amount": 123450, "currency": "EUR"}, "1,234.50 EUR"),
        ({"amount": 5, "currency": "USD"}, "0.05 USD"),
        ({"amount": 0, "currency": "EUR"}, "0.00 EUR"),
        ({"amount": 1500, "currency": "JPY"}, "1,500 JPY"),
        ({"amount": 1234, "currency": "KWD"}, "1.234 KWD"),
        ({"amount": -250, "currency": "EUR"}, "-2.50 EUR"),
        (None, "—"),
    ],
)
def test_format_money(money, text):
    assert format_money(money) == text


@pytest.mark.parametrize(
    ("bp", "text"),
    [
        (5000, "50 %"),
        (5500, "55 %"),
        (1250, "12.5 %"),
        (1234, "12.34 %"),
        (0, "0 %"),
        (None, "0 %"),
        (5, "0.05 %"),
    ],
)
def test_format_percent(bp, text):
    assert format_percent(bp) == text


def test_format_date_and_years():
    assert format_date("2028-02-29") == "29 February 2028"
    assert format_date(dt.date(2027, 3, 1)) == "1 March 2027"
    assert years_label(1) == "1 year" and years_label(3) == "3 years"


def test_choose_term():
    terms = [{"years": 1}, {"years": 2}, {"years": 3}]
    assert choose_term(terms, "2") == {"years": 2}
    assert choose_term(terms, 3) == {"years": 3}
    assert choose_term(terms, "7") == {"years": 1}
    assert choose_term(terms, "abc") == {"years": 1}
    assert choose_term(terms, None) == {"years": 1}
    assert choose_term([], "1") is None


@pytest.mark.parametrize(
    ("path", "masked"),
    [
        ("/extend/abcdefghijklmnop", "/extend/abcd…"),
        ("/extend/abcdefghijklmnop/order", "/extend/abcd…/order"),
        ("/api/v1/extensions/abcdefghijk/orders", "/api/v1/extensions/abcd…/orders"),
        ("/reseller/password-reset/secret-token", "/reseller/password-reset/secr…"),
        ("/reseller/password-reset", "/reseller/password-reset"),
        ("/orders/R-1/pay", "/orders/R-1/pay"),
    ],
)
def test_mask_path(path, masked):
    assert mask_path(path) == masked


@given(
    st.text(
        alphabet=st.characters(min_codepoint=33, max_codepoint=126, blacklist_characters="/?#"),
        min_size=8,
        max_size=64,
    )
)
def test_mask_path_never_contains_the_token(token):
    assert token not in mask_path(f"/extend/{token}/order")


@pytest.mark.parametrize(
    ("created", "last_seen", "now", "expired"),
    [
        (0, 0, 30 * 60, False),
        (0, 0, 30 * 60 + 1, True),
        (0, 12 * 3600 - 10, 12 * 3600, False),
        (0, 12 * 3600 - 10, 12 * 3600 + 1, True),
    ],
)
def test_session_policy(created, last_seen, now, expired):
    assert SessionPolicy().is_expired(created, last_seen, now) is expired


def test_remaining_never_passes_the_absolute_limit():
    policy = SessionPolicy()
    assert policy.remaining_seconds(0, 0) == 30 * 60
    assert policy.remaining_seconds(0, 12 * 3600 - 100) == 100


@pytest.mark.parametrize(
    ("stored", "current", "stale"),
    [(1, 1, False), (1, 2, True), (None, 1, True), (3, 2, False), (1, None, False)],
)
def test_version_is_stale(stored, current, stale):
    assert version_is_stale(stored, current) is stale
