"""Event contracts at the producer: new_event accepts valid data and refuses invalid data; the quick proof of
validity it tries first never accepts what marshmallow would refuse."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import RAISE, Schema, ValidationError, fields, validate
from renewals_shared.events import SCHEMAS, InvalidEvent, _proof, new_event, schema_instance

PARTY = {
    "name": "Erika Mustermann",
    "company": "Example GmbH",
    "email": "erika@example.com",
    "vat_id": None,
    "address": {
        "line1": "Hauptstr. 1",
        "line2": "",
        "postal_code": "10115",
        "city": "Berlin",
        "region": "",
        "country": "DE",
    },
}
ORDER_PAID = {
    "order_number": "R-2026-000001",
    "license_id": "lic-1",
    "link_id": "link-1",
    "reseller_id": None,
    "license_key_masked": "****-1234",
    "product_name": "Pro",
    "licensee_name": "Example GmbH",
    "previous_maintenance_end": dt.date(2026, 12, 1),
    "new_maintenance_end": dt.date(2027, 12, 1),
    "years_charged": 1,
    "price_per_year": {"amount": 2450, "currency": "EUR"},
    "total": {"amount": 2450, "currency": "EUR"},
    "effective_discount_bp": 5000,
    "billing": PARTY,
    "end_customer": PARTY,
    "payment_method": "card",
    "card_brand": "visa",
    "card_last4": "4242",
}
MAINTENANCE_EXTENDED = {
    "license_id": "lic-1",
    "previous_maintenance_end": dt.date(2026, 12, 1),
    "maintenance_end": dt.date(2027, 12, 1),
    "order_number": "R-2026-000001",
    "contact_email": "admin@example.com",
    "licensee_name": "Example GmbH",
    "product_name": "Pro",
    "end_customer": PARTY,
}


@pytest.mark.parametrize(
    ("event_type", "data"), [("order.paid", ORDER_PAID), ("license.maintenance_extended", MAINTENANCE_EXTENDED)]
)
def test_the_hot_events_are_proven_valid_without_marshmallow(event_type: str, data: dict[str, Any]) -> None:
    schema = SCHEMAS[(event_type, 1)]
    dumped = schema_instance(schema).dump(data)

    assert _proof(schema)(dumped) is True
    assert new_event(event_type, data, "test").data == dumped


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"billing": {**PARTY, "email": "not-an-email"}}, "email"),
        ({"total": {"amount": 2450, "currency": "euro"}}, "currency"),
        ({"payment_method": "cash"}, "payment_method"),
        ({"licensee_name": None}, "licensee_name"),
        ({"years_charged": None}, "years_charged"),
        ({"end_customer": {**PARTY, "address": {**PARTY["address"], "country": "Germany"}}}, "country"),
    ],
)
def test_new_event_refuses_data_that_breaks_the_contract(change: dict[str, Any], complaint: str) -> None:
    with pytest.raises(InvalidEvent, match=complaint):
        new_event("order.paid", {**ORDER_PAID, **change}, "test")


def test_new_event_refuses_a_missing_required_field() -> None:
    data = dict(ORDER_PAID)
    del data["order_number"]

    with pytest.raises(InvalidEvent, match="order_number"):
        new_event("order.paid", data, "test")


def _value(field: fields.Field) -> st.SearchStrategy[Any]:
    """Values a dumped payload could hold for `field`: right and wrong types, valid and invalid formats."""
    anything = st.one_of(
        st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=5), st.lists(st.integers(), max_size=2)
    )
    if isinstance(field, fields.Nested):
        return st.one_of(_payload(field.nested), anything)
    if isinstance(field, fields.List):
        return st.one_of(st.lists(_value(field.inner), max_size=3), anything)
    choices: list[st.SearchStrategy[Any]] = [anything]
    for validator in field.validators:
        if isinstance(validator, validate.OneOf):
            choices.append(st.sampled_from(list(validator.choices)))
        if isinstance(validator, validate.Regexp):
            choices.append(st.from_regex(validator.regex, fullmatch=True))
    if isinstance(field, fields.Email):
        choices += [st.emails(), st.sampled_from(["a@example.com", "a@b", "@x.org", "a@-x.com"])]
    if isinstance(field, fields.Date):
        choices += [st.dates().map(dt.date.isoformat), st.sampled_from(["2026-02-30", "20260101", "2026-1-1"])]
    if isinstance(field, fields.Integer):
        choices.append(st.sampled_from([1.0, 1.5, "7", True]))
    return st.one_of(choices)


def _payload(schema: type[Schema]) -> st.SearchStrategy[dict[str, Any]]:
    entries = {name: _value(field) for name, field in schema_instance(schema).fields.items()}
    return st.fixed_dictionaries({}, optional=entries).flatmap(
        lambda payload: st.one_of(st.just(payload), st.just({**payload, "unexpected": 1}))
    )


@pytest.mark.parametrize("schema", sorted(set(SCHEMAS.values()), key=lambda s: s.__name__))
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_what_the_proof_accepts_marshmallow_accepts(schema: type[Schema], data: st.DataObject) -> None:
    payload = data.draw(_payload(schema))
    proof = _proof(schema)
    assert proof is not None, f"{schema.__name__} has fields the proof does not know"

    if proof(payload):
        try:
            schema_instance(schema).load(payload, unknown=RAISE)
        except ValidationError as exc:
            pytest.fail(f"proved valid, refused by marshmallow: {payload!r}: {exc.messages}")
