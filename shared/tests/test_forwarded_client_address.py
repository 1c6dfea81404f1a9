"""The end user's address passed on to the next service: trusted from a service that authenticated, else the
peer's own (the gateway, at the edge, trusts no such header)."""

from __future__ import annotations

from flask import Flask, g
from renewals_shared.web import forwarded_client_address

APP = Flask(__name__)


def test_outside_a_request_nothing_is_passed_on() -> None:
    assert forwarded_client_address() == {}


def test_at_the_edge_the_peer_address_is_passed_on_and_a_sent_header_ignored() -> None:
    with APP.test_request_context(
        headers={"X-Client-Address": "198.51.100.1"}, environ_base={"REMOTE_ADDR": "203.0.113.7"}
    ):
        assert forwarded_client_address() == {"X-Client-Address": "203.0.113.7"}


def test_behind_an_authenticated_service_its_forwarded_address_is_passed_on() -> None:
    with APP.test_request_context(
        headers={"X-Client-Address": "198.51.100.1"}, environ_base={"REMOTE_ADDR": "10.0.0.5"}
    ):
        g.authenticated_service = True
        assert forwarded_client_address() == {"X-Client-Address": "198.51.100.1"}


def test_an_unknown_peer_address_passes_nothing_on() -> None:
    with APP.test_request_context(environ_base={"REMOTE_ADDR": ""}):
        assert forwarded_client_address() == {}
