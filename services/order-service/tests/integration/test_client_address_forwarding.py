"""Link look-ups carry the end user's address to token-service, whose guard against guessed links counts failures
per address: counted against order-service's own address, one guesser would block every customer's quotes."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from order_service.entrypoints.flask_app import create_app
from renewals_shared.db import make_engine

SERVICE = {"Authorization": "Bearer test-service-token-0123456789"}


class UnknownLinks(BaseHTTPRequestHandler):
    """token-service that knows no link and remembers the address each look-up came for."""

    addresses: list[str | None] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        UnknownLinks.addresses.append(self.headers.get("X-Client-Address"))
        body = b'{"title": "Not found", "status": 404}'
        self.send_response(404)
        self.send_header("Content-Type", "application/problem+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def token_service() -> Iterator[str]:
    UnknownLinks.addresses = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), UnknownLinks)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_look_up_carries_the_address_the_gateway_forwarded_else_the_callers(
    service_env: Callable[..., Any], token_service: str
) -> None:
    settings = service_env("order", TOKEN_SERVICE_URL=token_service)
    client = create_app(settings, engine=make_engine(settings.database_url)).test_client()

    from_gateway = client.get(
        "/quote", headers={**SERVICE, "X-Extension-Token": "guess-1", "X-Client-Address": "203.0.113.7"}
    )
    direct = client.get("/quote", headers={**SERVICE, "X-Extension-Token": "guess-2"})

    assert (from_gateway.status_code, direct.status_code) == (404, 404)
    assert UnknownLinks.addresses == ["203.0.113.7", "127.0.0.1"]
