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


_ANYTHING = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=5), st.lists(st.integers(), max_size=2)
)


def _valid(field: fields.Field) -> st.SearchStrategy[Any]:
    """Values marshmallow accepts for `field`, in the form dump writes them."""
    if isinstance(field, fields.Nested):
        return _payload(field.nested)
    if isinstance(field, fields.List):
        return st.lists(_valid(field.inner), max_size=3)
    if isinstance(field, fields.Date):
        return st.dates().map(dt.date.isoformat)
    if isinstance(field, fields.Integer):
        return st.integers(-(2**63), 2**63 - 1)
    if isinstance(field, fields.Boolean):
        return st.booleans()
    if isinstance(field, fields.Email):
        return st.sampled_from(["a@example.com", "erika.mustermann@example.org"])
    for validator in field.validators:
        if isinstance(validator, validate.OneOf):
            return st.sampled_from(list(validator.choices))
        if isinstance(validator, validate.Regexp):
            return st.from_regex(validator.regex, fullmatch=True)
    return st.text(max_size=8)


def _off(field: fields.Field) -> st.SearchStrategy[Any]:
    """Values near the edge for `field`, valid or not, and values of any type."""
    edges: dict[type[fields.Field], list[Any]] = {
        fields.Date: ["2026-02-30", "20260101", "2026-W01-1", "2026-1-1", ""],
        fields.Integer: [1.0, 1.5, "7", True, 2**70],
        fields.Email: ["a@b", "@x.org", "a@-x.com", "a@example.com\n", ""],
        fields.Boolean: [0, 1, "true"],
    }
    choices = [_ANYTHING, st.sampled_from(edges.get(type(field), ["", "x", "eur", "other"]))]
    if isinstance(field, fields.Email):
        choices.append(st.emails())
    return st.one_of(choices)


def _payload(schema: type[Schema]) -> st.SearchStrategy[dict[str, Any]]:
    """A valid payload, often with a field or two changed to something near the edge, a field left out or an
    unknown key added: mostly valid, so that the proof's verdicts on whole payloads get tested."""
    declared = schema_instance(schema).fields
    names = sorted(declared)
    change = st.sampled_from(names).flatmap(lambda name: st.tuples(st.just(name), _off(declared[name])))

    def vary(payload: dict[str, Any], changes: list[tuple[str, Any]], dropped: list[str], unknown: bool) -> Any:
        varied = {**payload, **dict(changes)}
        for name in dropped:
            varied.pop(name, None)
        return {**varied, "unexpected": 1} if unknown else varied

    return st.builds(
        vary,
        st.fixed_dictionaries({name: _valid(field) for name, field in declared.items()}),
        st.lists(change, max_size=2),
        st.lists(st.sampled_from(names), max_size=1),
        st.sampled_from([False, False, False, True]),
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


def _typed(schema: type[Schema], payload: dict[str, Any]) -> dict[str, Any]:
    """The payload as a producer holds it: dates as `datetime.date`."""
    declared = schema_instance(schema).fields
    typed: dict[str, Any] = {}
    for name, value in payload.items():
        if value is not None and isinstance(declared[name], fields.Date):
            value = dt.date.fromisoformat(value)
        elif value is not None and isinstance(declared[name], fields.Nested):
            value = _typed(declared[name].nested, value)
        typed[name] = value
    return typed


@pytest.mark.parametrize("schema", sorted(set(SCHEMAS.values()), key=lambda s: s.__name__))
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_what_the_proof_accepts_is_what_dump_makes_of_it(schema: type[Schema], data: st.DataObject) -> None:
    """new_event takes a payload the proof accepts as it is, without dumping it: it must be what dump makes."""
    payload = data.draw(_payload(schema))

    if _proof(schema)(payload):
        assert schema_instance(schema).dump(_typed(schema, payload)) == payload


def test_data_already_in_contract_form_becomes_the_event_as_it_is_but_not_shared() -> None:
    data = schema_instance(SCHEMAS[("order.paid", 1)]).dump(ORDER_PAID)

    event = new_event("order.paid", data, "test")
    data["billing"]["name"] = "changed afterwards"

    assert event.data == schema_instance(SCHEMAS[("order.paid", 1)]).dump(ORDER_PAID)
