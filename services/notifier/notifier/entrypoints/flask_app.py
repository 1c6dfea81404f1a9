"""Notifier web app (port 8004): health, readiness, metrics, and the on-demand expiry scan for operations."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Flask, jsonify
from marshmallow import Schema, fields
from renewals_shared.config import Settings
from renewals_shared.dead_letter_api import register_dead_letter_api
from renewals_shared.web import Problem, create_service_app, load_body, require_ops_token

from notifier.adapters.metrics import register_email_metrics
from notifier.bootstrap import Notifier, bootstrap
from notifier.config import NotifierConfig
from notifier.service_layer.ports import TransientDeliveryError


class ReminderScanRequest(Schema):
    as_of = fields.Date(load_default=None, allow_none=True)


def create_app(settings: Settings | None = None, **overrides: Any) -> Flask:
    """`overrides` are passed to bootstrap (e.g. links=, enqueue=, clock= in tests)."""
    settings = settings or Settings.from_env("notifier")
    notifier: Notifier = overrides.pop("notifier", None) or bootstrap(NotifierConfig.from_env(settings), **overrides)
    app = create_service_app(settings, notifier.engine)
    register_dead_letter_api(app, settings)  # GET/POST /admin/dead-letters[/replay|/discard]
    register_email_metrics(notifier.engine)
    app.extensions["notifier"] = notifier

    @app.post("/admin/reminder-scans")
    @require_ops_token(settings)
    def reminder_scan() -> Any:
        body = load_body(ReminderScanRequest)
        as_of: dt.date = body.get("as_of") or notifier.clock.today()
        try:
            result = notifier.scan(as_of)
        except TransientDeliveryError as exc:
            raise Problem(503, "token-service unavailable", str(exc)) from None
        return jsonify(as_of=result.as_of.isoformat(), reminders_queued=result.reminders_queued)

    return app
