from __future__ import annotations

import email.message
import mailbox
from typing import Any

import pytest
import requests

from gateway.adapters.downstream import DownstreamError, ServiceDown
from gateway.adapters.mailbox_reader import MailboxReader
from gateway.adapters.order_client import OrderClient
from gateway.adapters.reseller_client import ResellerClient
from gateway.fakes import TOKEN
from renewals_shared.http import ServiceUnavailable


def response(status: int, body: Any = None, headers: dict[str, str] | None = None) -> requests.Response:
    import json

    resp = requests.Response()
    resp.status_code = status
    resp._content = b"" if body is None else json.dumps(body).encode()
    resp.headers.update(headers or {})
    return resp


class StubServiceClient:
    def __init__(self, *responses: requests.Response | Exception) -> None:
        self.responses = list(responses)
        self.calls: list[tuple[str, str, dict[str, Any]]] = []

    def _next(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        self.calls.append((method, path, kwargs))
        item = self.responses.pop(0)
        if isinstance(item, Exception):
            raise item
        return item

    def get(self, path, params=None, headers=None):
        return self._next("get", path, params=params, headers=headers)

    def post(self, path, json=None, headers=None, idempotency_key=None):
        return self._next("post", path, json=json, headers=headers, idempotency_key=idempotency_key)


def test_quote_sends_the_token_in_a_header_never_in_the_url():
    stub = StubServiceClient(response(200, {"offer": {}}))
    client = OrderClient(stub, lambda: {"X-Client-Address": "203.0.113.9"})
    client.quote(TOKEN, reseller_id="r-1")
    _method, path, kwargs = stub.calls[0]
    assert path == "/quote" and TOKEN not in path
    assert kwargs["params"] == {"reseller_id": "r-1"}
    assert kwargs["headers"] == {
        "X-Client-Address": "203.0.113.9",
        "X-Extension-Token": TOKEN,
    }


def test_place_order_and_pay_carry_idempotency_keys():
    stub = StubServiceClient(response(201, {"order_number": "R-1"}), response(200, {"status": "paid"}))
    client = OrderClient(stub)
    client.place_order(TOKEN, 2, "key-1")
    client.pay("R-1", {"method": "invoice"}, "key-2", reseller_id="r-1")
    assert stub.calls[0][2]["json"] == {"term_years": 2}
    assert stub.calls[0][2]["idempotency_key"] == "key-1"
    assert stub.calls[1][1] == "/orders/R-1/payments"
    assert stub.calls[1][2]["json"] == {"method": "invoice", "reseller_id": "r-1"}
    assert stub.calls[1][2]["idempotency_key"] == "key-2"
    assert "X-Extension-Token" not in stub.calls[1][2]["headers"]


def test_problem_answers_become_downstream_errors():
    stub = StubServiceClient(response(410, {"title": "Gone", "status": 410, "link_status": "redeemed"}))
    with pytest.raises(DownstreamError) as caught:
        OrderClient(stub).quote(TOKEN)
    assert caught.value.status == 410
    assert caught.value.problem["link_status"] == "redeemed"


def test_retry_after_is_kept():
    stub = StubServiceClient(response(429, {"title": "Slow down", "status": 429}, {"Retry-After": "7"}))
    with pytest.raises(DownstreamError) as caught:
        ResellerClient(stub).authenticate("a@b.example", "pw")
    assert caught.value.retry_after == "7"


def test_unavailable_service_becomes_service_down():
    stub = StubServiceClient(ServiceUnavailable("boom"))
    with pytest.raises(ServiceDown) as caught:
        ResellerClient(stub).account("r-1")
    assert caught.value.service == "reseller-service"


def test_forward_returns_status_and_body():
    stub = StubServiceClient(response(201, {"imported": 2}))
    assert OrderClient(stub).forward("post", "/admin/licenses", json=[{}]) == (
        201,
        {"imported": 2},
    )


def test_account_status_of_a_403():
    assert DownstreamError("r", 403, {"status": 403, "account_status": "pending"}).account_status == "pending"
    assert DownstreamError("r", 403, {"status": "rejected"}).account_status == "rejected"
    assert DownstreamError("r", 403, {"status": 403}).account_status is None


def write_mail(directory, subject: str, date: str, text: str, html: str | None = None) -> str:
    box = mailbox.Maildir(str(directory), create=True)
    message = email.message.EmailMessage()
    message["Subject"], message["From"], message["To"], message["Date"] = (
        subject,
        "shop@x.example",
        "c@y.example",
        date,
    )
    message.set_content(text)
    if html:
        message.add_alternative(html, subtype="html")
    return box.add(message)


def test_mailbox_lists_newest_first_and_renders_links(world, tmp_path):
    directory = tmp_path / "mailbox"
    write_mail(directory, "Older", "Mon, 01 Feb 2027 10:00:00 +0000", "old")
    key = write_mail(
        directory,
        "Your maintenance ends soon",
        "Tue, 02 Feb 2027 10:00:00 +0000",
        f"Open http://127.0.0.1:8000/extend/{TOKEN} to extend.",
        f'<p><a href="http://127.0.0.1:8000/extend/{TOKEN}">Extend</a></p>',
    )
    assert [m.subject for m in MailboxReader(directory).list()] == [
        "Your maintenance ends soon",
        "Older",
    ]
    listing = world.client.get("/dev/mailbox").get_data(as_text=True)
    assert listing.index("Your maintenance ends soon") < listing.index("Older")
    page = world.client.get(f"/dev/mailbox/{key}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f'<a href="http://127.0.0.1:8000/extend/{TOKEN}">' in html
    assert 'sandbox="allow-popups' in html and "srcdoc=" in html
    assert "script-src 'none'" in page.headers["Content-Security-Policy"]


def test_mailbox_empty_and_unknown_message(world):
    assert 'id="mailbox-empty"' in world.client.get("/dev/mailbox").get_data(as_text=True)
    assert world.client.get("/dev/mailbox/nope").status_code == 404
    assert world.client.get("/dev/mailbox/..%2Fsecrets").status_code == 404


def test_mailbox_is_absent_outside_embedded_mode(make_world):
    world = make_world(mode="real")
    assert world.client.get("/dev/mailbox").status_code == 404
