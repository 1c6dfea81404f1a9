"""Operations' HTTP view of a service's dead-letter queue (the same walk as the `renewals-bus` CLI).

Each service's `create_app` calls `register_dead_letter_api(app, settings)` once; the gateway's operations
console calls these endpoints with the service credential:

    GET  /admin/dead-letters                          -> {service, dead_letters: [{id, type, attempts, error,
                                                          occurred_at, producer, correlation_id, data}]}
    POST /admin/dead-letters/replay  {ids: [..]} or {all: true} -> {replayed: [{id, type, ...}]}
    POST /admin/dead-letters/discard {ids: [..]}                -> {discarded: [{id, type, ...}]}

A service that consumes no events has no dead-letter queue: it lists nothing and never touches the broker.
Replaying everything needs an explicit `all: true` so an empty `ids` list never replays the whole queue.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, jsonify
from kombu.exceptions import OperationalError
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from renewals_shared.bus import SUBSCRIPTIONS
from renewals_shared.config import Settings
from renewals_shared.web import Problem, load_body, require_ops_token

MAX_IDS = 500


@dataclass(frozen=True)
class DeadLetterBackend:
    """The three walks over the queue; tests inject fakes, production uses `renewals_shared.bus_admin`."""

    inspect: Callable[[Settings], list[dict[str, Any]]]
    replay: Callable[[Settings, set[str] | None], list[dict[str, Any]]]
    discard: Callable[[Settings, set[str]], list[dict[str, Any]]]


def inspect_dead_letters(settings: Settings) -> list[dict[str, Any]]:
    """Every dead letter with its envelope (the queue is walked once and left as it was)."""
    from renewals_shared import bus_admin

    envelopes: dict[str, dict[str, Any]] = {}

    def keep(envelope: dict[str, Any], _headers: dict[str, Any]) -> str:
        envelopes[str(envelope.get("id"))] = envelope
        return "keep"

    rows = bus_admin._walk(settings, keep)
    out = []
    for row in rows:
        envelope = envelopes.get(str(row.get("id")), {})
        out.append(
            {
                "id": row.get("id"),
                "type": row.get("type"),
                "attempts": row.get("attempts"),
                "error": row.get("error"),
                "occurred_at": envelope.get("occurred_at"),
                "producer": envelope.get("producer"),
                "correlation_id": envelope.get("correlation_id"),
                "data": envelope.get("data"),
            }
        )
    return out


def _default_backend() -> DeadLetterBackend:
    from renewals_shared import bus_admin

    return DeadLetterBackend(
        inspect=inspect_dead_letters,
        replay=bus_admin.replay_dead_letters,
        discard=bus_admin.discard_dead_letters,
    )


class _ReplaySchema(Schema):
    ids = fields.List(fields.String(validate=validate.Length(min=1, max=64)), validate=validate.Length(max=MAX_IDS))
    all = fields.Boolean(load_default=False)

    @validates_schema
    def ids_or_all(self, data: dict[str, Any], **_: Any) -> None:
        if not data.get("all") and not data.get("ids"):
            raise ValidationError("give the event ids to replay, or all: true", "ids")
        if data.get("all") and data.get("ids"):
            raise ValidationError("give either ids or all: true, not both", "all")


class _DiscardSchema(Schema):
    ids = fields.List(
        fields.String(validate=validate.Length(min=1, max=64)),
        required=True,
        validate=validate.Length(min=1, max=MAX_IDS),
    )


def register_dead_letter_api(app: Flask, settings: Settings, backend: DeadLetterBackend | None = None) -> None:
    ops = require_ops_token(settings)
    consumes = settings.service in SUBSCRIPTIONS

    def walks() -> DeadLetterBackend:
        return backend or _default_backend()

    def broker_call(call: Callable[[], list[dict[str, Any]]]) -> list[dict[str, Any]]:
        if not consumes:
            return []
        try:
            return call()
        except (OSError, OperationalError) as exc:
            raise Problem(503, "Broker unavailable", type(exc).__name__).with_headers(Retry_After="5") from None

    @app.get("/admin/dead-letters")
    @ops
    def list_dead_letters() -> Response:
        rows = broker_call(lambda: walks().inspect(settings))
        return jsonify(service=settings.service, dead_letters=rows)

    @app.post("/admin/dead-letters/replay")
    @ops
    def replay_dead_letters() -> Response:
        body = load_body(_ReplaySchema)
        ids = None if body["all"] else set(body["ids"])
        rows = broker_call(lambda: walks().replay(settings, ids))
        return jsonify(service=settings.service, replayed=rows)

    @app.post("/admin/dead-letters/discard")
    @ops
    def discard_dead_letters() -> Response:
        body = load_body(_DiscardSchema)
        rows = broker_call(lambda: walks().discard(settings, set(body["ids"])))
        return jsonify(service=settings.service, discarded=rows)
