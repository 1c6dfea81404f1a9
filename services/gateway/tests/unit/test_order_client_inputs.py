"""What schemathesis found: path segments and link tokens from the outside are made safe before a downstream call."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from gateway.adapters.downstream import DownstreamError
from gateway.adapters.order_client import OrderClient


class StubServiceClient:
    """Answers every call with 404 and records (method, path)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def _answer(self, method: str, path: str) -> requests.Response:
        self.calls.append((method, path))
        answer = requests.Response()
        answer.status_code = 404
        answer._content = b'{"title": "Not found", "status": 404}'
        return answer

    def get(self, path: str, params: Any = None, headers: Any = None) -> requests.Response:
        return self._answer("get", path)

    def post(self, path: str, json: Any = None, headers: Any = None, idempotency_key: Any = None) -> requests.Response:
        return self._answer("post", path)


@pytest.mark.parametrize("token", ["ⱬ", "tok en", "tok\x15", "🔑" * 3])
def test_a_token_no_header_can_carry_is_an_unknown_link_without_a_call(token):
    stub = StubServiceClient()
    with pytest.raises(DownstreamError) as raised:
        OrderClient(stub).quote(token)
    assert raised.value.status == 404 and stub.calls == []


def test_order_numbers_are_one_path_segment():
    stub = StubServiceClient()
    client = OrderClient(stub)
    for call in (lambda: client.get_order("QdP#./x?y"), lambda: client.pay("QdP#./x?y", {"method": "card"}, "k" * 8)):
        with pytest.raises(DownstreamError):
            call()
    assert [path for _, path in stub.calls] == ["/orders/QdP%23.%2Fx%3Fy", "/orders/QdP%23.%2Fx%3Fy/payments"]


def test_registration_without_a_vat_id_omits_it_downstream(world):
    registration = {
        "company": "Acme",
        "contact_name": "Rita",
        "email": "new-reseller@acme.example",
        "password": "Sturdy-Reseller-Pass-42",
        "phone": "+49 89 123456",
        "vat_id": "",
        "billing_address": {"line1": "Resellerweg 5", "postal_code": "80331", "city": "Munich", "country": "DE"},
    }
    answer = world.client.post("/api/v1/resellers", json=registration)
    assert answer.status_code == 201, answer.get_json()
    assert "vat_id" not in world.resellers.registrations[-1]
