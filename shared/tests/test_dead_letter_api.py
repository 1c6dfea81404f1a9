"""The dead-letter endpoints every service registers for the operations console (renewals_shared.dead_letter_api)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest
from flask import Flask
from kombu.exceptions import OperationalError
from renewals_shared.bus import BatchPublisher, Topology, connect, is_amqp
from renewals_shared.config import Settings
from renewals_shared.dead_letter_api import DeadLetterBackend, register_dead_letter_api
from renewals_shared.events import new_event
from renewals_shared.web import create_service_app

OPS = {"Authorization": "Bearer ops-test"}


def _settings(service: str = "order", **changes: Any) -> Settings:
    values: dict[str, Any] = {
        "service": service,
        "mode": "embedded",
        "database_url": None,
        "broker_url": "redis://127.0.0.1:1/1",
        "redis_url": "redis://127.0.0.1:1/0",
        "smtp_url": "smtp://127.0.0.1:1",
        "public_base_url": "http://127.0.0.1:8000",
        "ops_token": "ops-test",
        "service_token": "service-test",
        "link_secret": "link-secret",
        "link_secret_previous": None,
        "session_secret": "session-secret",
        "order_service_url": "http://127.0.0.1:8001",
        "token_service_url": "http://127.0.0.1:8002",
        "reseller_service_url": "http://127.0.0.1:8003",
        "bus_namespace": "dlapi",
        "redis_prefix": "t:",
        "max_lapse_days": 365,
        "log_level": "WARNING",
    }
    values.update(changes)
    return Settings(**values)


class FakeQueue:
    def __init__(self) -> None:
        self.rows = [
            {"id": "e1", "type": "order.paid", "attempts": 5, "error": "boom", "data": {"order_number": "R-1"}},
            {"id": "e2", "type": "order.paid", "attempts": 5, "error": "boom", "data": {"order_number": "R-2"}},
        ]
        self.calls: list[tuple[str, Any]] = []
        self.down = False

    def _check(self) -> None:
        if self.down:
            raise OperationalError("connection refused")

    def inspect(self, settings: Settings) -> list[dict[str, Any]]:
        self._check()
        self.calls.append(("inspect", settings.service))
        return list(self.rows)

    def replay(self, settings: Settings, ids: set[str] | None) -> list[dict[str, Any]]:
        self._check()
        self.calls.append(("replay", ids))
        return [r for r in self.rows if ids is None or r["id"] in ids]

    def discard(self, settings: Settings, ids: set[str]) -> list[dict[str, Any]]:
        self._check()
        self.calls.append(("discard", ids))
        return [r for r in self.rows if r["id"] in ids]


def _app(service: str = "order") -> tuple[Flask, FakeQueue]:
    queue = FakeQueue()
    settings = _settings(service)
    app = create_service_app(settings, name=f"dl-{service}")
    register_dead_letter_api(app, settings, DeadLetterBackend(queue.inspect, queue.replay, queue.discard))
    return app, queue


def test_listing_needs_the_ops_or_service_token():
    app, queue = _app()
    client = app.test_client()
    assert client.get("/admin/dead-letters").status_code == 401
    assert client.get("/admin/dead-letters", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.get("/admin/dead-letters", headers={"Authorization": "Bearer service-test"}).status_code == 200
    body = client.get("/admin/dead-letters", headers=OPS).get_json()
    assert body["service"] == "order"
    assert [r["id"] for r in body["dead_letters"]] == ["e1", "e2"]


def test_replay_takes_ids_or_an_explicit_all_never_an_empty_list():
    app, queue = _app()
    client = app.test_client()
    assert client.post("/admin/dead-letters/replay", json={}, headers=OPS).status_code == 422
    assert client.post("/admin/dead-letters/replay", json={"ids": []}, headers=OPS).status_code == 422
    assert client.post("/admin/dead-letters/replay", json={"ids": ["e1"], "all": True}, headers=OPS).status_code == 422
    assert client.post("/admin/dead-letters/replay", json={"ids": ["e1"], "x": 1}, headers=OPS).status_code == 422
    one = client.post("/admin/dead-letters/replay", json={"ids": ["e1"]}, headers=OPS).get_json()
    assert [r["id"] for r in one["replayed"]] == ["e1"]
    every = client.post("/admin/dead-letters/replay", json={"all": True}, headers=OPS).get_json()
    assert [r["id"] for r in every["replayed"]] == ["e1", "e2"]
    assert queue.calls == [("replay", {"e1"}), ("replay", None)]


def test_discard_needs_ids():
    app, queue = _app()
    client = app.test_client()
    assert client.post("/admin/dead-letters/discard", json={}, headers=OPS).status_code == 422
    assert client.post("/admin/dead-letters/discard", json={"ids": []}, headers=OPS).status_code == 422
    body = client.post("/admin/dead-letters/discard", json={"ids": ["e2"]}, headers=OPS).get_json()
    assert [r["id"] for r in body["discarded"]] == ["e2"]


def test_a_service_that_consumes_nothing_lists_nothing_without_touching_the_broker():
    app, queue = _app("reseller")
    body = app.test_client().get("/admin/dead-letters", headers=OPS).get_json()
    assert body == {"service": "reseller", "dead_letters": []}
    assert queue.calls == []


def test_broker_down_is_a_503_problem():
    app, queue = _app()
    queue.down = True
    response = app.test_client().get("/admin/dead-letters", headers=OPS)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"


@pytest.fixture
def redis_transport(redis_url: str) -> str:
    return redis_url.rsplit("/", 1)[0] + "/1"


def test_on_redis_a_dead_letter_is_listed_with_its_envelope_then_discarded(redis_transport, bus_namespace):
    settings = dataclasses.replace(_settings("token"), broker_url=redis_transport, bus_namespace=bus_namespace)
    topology = Topology(bus_namespace, is_amqp(redis_transport))
    with connect(redis_transport) as connection:
        topology.dead_letter_queue("token")(connection.default_channel).declare()
    event = new_event(
        "license.maintenance_extended",
        {
            "license_id": "lic-1",
            "previous_maintenance_end": dt.date(2026, 1, 1),
            "maintenance_end": dt.date(2027, 1, 1),
            "order_number": "R-1",
            "contact_email": "it@example.com",
            "licensee_name": "Example GmbH",
            "product_name": "Notepad Studio",
        },
        producer="order-service",
    )
    publisher = BatchPublisher(redis_transport, topology)
    publisher.publish([event.to_dict()], exchange=topology.dead_letters.name, routing_key=topology.queue_name("token"))
    publisher.close()

    app = create_service_app(settings, name="dl-token")
    register_dead_letter_api(app, settings)
    client = app.test_client()
    [row] = client.get("/admin/dead-letters", headers=OPS).get_json()["dead_letters"]
    assert row["id"] == event.id
    assert row["type"] == "license.maintenance_extended"
    assert row["data"]["license_id"] == "lic-1"
    assert row["producer"] == "order-service"
    # listing leaves the queue as it was
    assert len(client.get("/admin/dead-letters", headers=OPS).get_json()["dead_letters"]) == 1

    assert (
        client.post("/admin/dead-letters/discard", json={"ids": ["other"]}, headers=OPS).get_json()["discarded"] == []
    )
    discarded = client.post("/admin/dead-letters/discard", json={"ids": [event.id]}, headers=OPS).get_json()
    assert [r["id"] for r in discarded["discarded"]] == [event.id]
    assert client.get("/admin/dead-letters", headers=OPS).get_json()["dead_letters"] == []
