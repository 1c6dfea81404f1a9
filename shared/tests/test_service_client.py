"""The inter-service HTTP client against a real local HTTP server: what it sends, what it retries, what it raises."""

from __future__ import annotations

import json
import os
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from renewals_shared.http import ServiceClient, ServiceUnavailable


class Recorder(BaseHTTPRequestHandler):
    seen: list[dict[str, Any]] = []
    answers: list[tuple[int, bytes]] = []

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        Recorder.seen.append(
            {
                "method": self.command,
                "path": self.path,
                "headers": dict(self.headers),
                "body": self.rfile.read(length) if length else b"",
            }
        )
        status, body = Recorder.answers.pop(0) if Recorder.answers else (200, b'{"ok": true}')
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Retry-After", "7")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_DELETE = _answer

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    Recorder.seen, Recorder.answers = [], []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/base"
    httpd.shutdown()
    httpd.server_close()


def test_a_get_carries_the_credential_and_the_query_without_empty_values(server: str) -> None:
    response = ServiceClient(server, "s3cret").get("/links", params={"a": "1 2", "b": None, "c": ["x", "y"]})

    assert response.status_code == 200 and response.json() == {"ok": True}
    assert response.headers["retry-after"] == "7"  # headers are case-insensitive
    (request,) = Recorder.seen
    assert request["path"] == "/base/links?a=1+2&c=x&c=y"
    assert request["headers"]["Authorization"] == "Bearer s3cret"
    assert request["headers"]["X-Correlation-ID"]


def test_characters_a_url_cannot_carry_are_escaped_and_escapes_kept(server: str) -> None:
    ServiceClient(server, "t").get("/links/a b\u00e9/x%2Fy")

    assert Recorder.seen[0]["path"] == "/base/links/a%20b%C3%A9/x%2Fy"


def test_a_post_sends_json_and_its_idempotency_key(server: str) -> None:
    ServiceClient(server, "t").post("/orders", json={"term_years": 2}, idempotency_key="k-1")

    (request,) = Recorder.seen
    assert json.loads(request["body"]) == {"term_years": 2}
    assert request["headers"]["Content-Type"] == "application/json"
    assert request["headers"]["Idempotency-Key"] == "k-1"


def test_a_client_error_is_returned_with_its_problem_body(server: str) -> None:
    Recorder.answers = [(404, b'{"title": "Not Found"}')]

    response = ServiceClient(server, "t").get("/links/x")

    assert response.status_code == 404 and response.json()["title"] == "Not Found"
    assert len(Recorder.seen) == 1


def test_a_body_that_is_not_json_raises_value_error(server: str) -> None:
    Recorder.answers = [(200, b"<html>")]

    response = ServiceClient(server, "t").get("/")

    assert response.text == "<html>"
    with pytest.raises(ValueError):
        response.json()


def test_reads_and_keyed_writes_are_retried_on_5xx_then_give_up(server: str) -> None:
    client = ServiceClient(server, "t", attempts=3)
    Recorder.answers = [(503, b"{}"), (200, b'{"n": 1}')]
    assert client.get("/x").json() == {"n": 1}

    Recorder.seen, Recorder.answers = [], [(500, b"{}")] * 3
    with pytest.raises(ServiceUnavailable):
        client.post("/orders", json={}, idempotency_key="k")
    assert len(Recorder.seen) == 3


def test_a_write_without_idempotency_key_is_never_repeated(server: str) -> None:
    Recorder.answers = [(502, b"{}"), (200, b"{}")]

    with pytest.raises(ServiceUnavailable):
        ServiceClient(server, "t").post("/orders", json={})

    assert len(Recorder.seen) == 1


def test_a_service_that_does_not_answer_is_unavailable() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound but not listening: connection refused
        with pytest.raises(ServiceUnavailable):
            ServiceClient(f"http://127.0.0.1:{port}", "t", timeout=0.5, attempts=2).get("/")


class DropsSecondRequestOnFirstConnection:
    """A keep-alive server that reads the second request on its first connection, then closes it unanswered (a
    peer that went away mid-call, or a kept-alive connection it closed as the request arrived). Every request it
    read is recorded, with the number of the connection it came on."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.received: list[tuple[int, str]] = []
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}"

    def _serve(self) -> None:
        for connection_number in range(1, 10):
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._connection, args=(connection, connection_number), daemon=True).start()

    def _connection(self, connection: socket.socket, number: int) -> None:
        with connection, connection.makefile("rb") as reader:
            while request_line := reader.readline():
                length = 0
                while (line := reader.readline()) not in (b"\r\n", b""):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                reader.read(length)
                self.received.append((number, request_line.split()[0].decode()))
                if number == 1 and len(self.received) == 2:
                    return  # closed without an answer
                connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")

    def close(self) -> None:
        self.listener.close()


@pytest.mark.parametrize(
    ("idempotency_key", "body", "expected"),
    [
        # keyed: may go on the kept-alive connection and be sent again when that one breaks unanswered
        ("k-1", {"n": 1}, [(1, "GET"), (1, "POST"), (2, "POST")]),
        # no key, no body: sent on a connection of its own, which the dying kept-alive one cannot spoil
        (None, None, [(1, "GET"), (2, "POST")]),
    ],
)
def test_a_write_is_sent_again_on_a_broken_kept_alive_connection_only_when_that_is_safe(
    idempotency_key: str | None, body: Any, expected: list[tuple[int, str]]
) -> None:
    server = DropsSecondRequestOnFirstConnection()
    try:
        client = ServiceClient(server.url, "t", timeout=2, attempts=1)
        client.get("/warm")  # leaves connection 1 open for reuse

        answer = client.post("/orders", json=body, idempotency_key=idempotency_key)

        assert answer.status_code == 200
        assert server.received == expected
    finally:
        server.close()


def test_a_write_without_key_reports_a_broken_kept_alive_connection_instead_of_sending_again() -> None:
    server = DropsSecondRequestOnFirstConnection()
    try:
        client = ServiceClient(server.url, "t", timeout=2, attempts=3)
        client.get("/warm")

        with pytest.raises(ServiceUnavailable):
            client.post("/authenticate", json={"email": "a@example.com"})
        again = client.get("/after")  # the client is usable afterwards

        assert again.status_code == 200
        assert server.received == [(1, "GET"), (1, "POST"), (2, "GET")]  # the kept-alive connection was reused
    finally:
        server.close()


@pytest.mark.timeout(10)
def test_a_service_that_accepts_but_never_answers_times_out_as_unavailable() -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent:  # the kernel accepts; nobody reads or answers
        client = ServiceClient(f"http://127.0.0.1:{silent.getsockname()[1]}", "t", timeout=0.2, attempts=1)
        with pytest.raises(ServiceUnavailable, match="GET"):
            client.get("/slow")


@pytest.mark.parametrize("value", ["tok\r\nX-Injected: 1", "tok\nX-Injected: 1", "tok\x00"])
def test_a_header_value_that_would_smuggle_headers_is_refused_before_sending(server: str, value: str) -> None:
    with pytest.raises(ValueError, match="line break"):
        ServiceClient(server, "t").get("/links/resolve", headers={"X-Extension-Token": value})

    assert Recorder.seen == []


def test_a_forked_child_calls_on_its_own_connection_and_leaves_the_parents_alone(server: str) -> None:
    client = ServiceClient(server, "t")
    assert client.get("/before-fork").status_code == 200

    child = os.fork()
    if child == 0:  # the child: one call, then out without running pytest's exit handlers
        code = 0 if client.get("/in-child").status_code == 200 else 1
        os._exit(code)
    _, status = os.waitpid(child, 0)

    assert os.waitstatus_to_exitcode(status) == 0
    assert client.get("/after-fork").status_code == 200
    assert [seen["path"] for seen in Recorder.seen] == ["/base/before-fork", "/base/in-child", "/base/after-fork"]
