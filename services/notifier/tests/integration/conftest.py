"""Integration fixtures: a fake token-service over real HTTP, the notifier on real PostgreSQL/broker/SMTP sink."""

from __future__ import annotations

import secrets
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask, jsonify, request
from renewals_shared.testing import TEST_SECRETS, free_port
from werkzeug.serving import make_server


@dataclass
class FakeTokenService:
    """token-service's POST /links (idempotent per license and cycle) and GET /links/resolve, in memory."""

    url: str = ""
    links: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    issue_calls: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def app(self) -> Flask:
        app = Flask("fake-token-service")
        token = TEST_SECRETS["SERVICE_TOKEN"]

        @app.post("/links")
        def issue() -> Any:
            if request.headers.get("Authorization") != f"Bearer {token}":
                return jsonify(title="unauthorized"), 401
            body = request.get_json()
            key = (body["license_id"], body["cycle_end"])
            with self.lock:
                self.issue_calls += 1
                existing = self.links.get(key)
                if existing is None:
                    raw = secrets.token_urlsafe(16)
                    existing = self.links[key] = {
                        "link_id": str(uuid.uuid4()),
                        "token": raw,
                        "url": f"http://renewals.test/extend/{raw}",
                        "status": "active",
                        "cycle_end": body["cycle_end"],
                        "customer_discount_bp": 5000,
                        "expires_on": "2099-01-01",
                        "license_id": body["license_id"],
                        "licensee_name": body["licensee_name"],
                        "product_sku": body["product_sku"],
                        "currency": body["currency"],
                    }
                    return jsonify(existing), 201
            return jsonify(existing), 200

        @app.get("/links/resolve")
        def resolve() -> Any:
            raw = request.headers.get("X-Extension-Token", "")
            for link in self.links.values():
                if secrets.compare_digest(link["token"], raw):
                    return jsonify({k: v for k, v in link.items() if k not in ("token", "url")}), 200
            return jsonify(title="unknown link"), 404

        return app


@pytest.fixture
def token_service() -> Iterator[FakeTokenService]:
    fake = FakeTokenService()
    port = free_port()
    server = make_server("127.0.0.1", port, fake.app(), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{port}"
    yield fake
    server.shutdown()


@pytest.fixture
def notifier_settings(service_env: Callable[..., Any], smtp_sink: Any, token_service: FakeTokenService) -> Any:
    return service_env(
        "notifier",
        SMTP_URL=f"smtp://127.0.0.1:{smtp_sink.port}",
        TOKEN_SERVICE_URL=token_service.url,
        RESELLER_SERVICE_URL="http://127.0.0.1:9",
        EMAIL_RETRY_BACKOFF_SECONDS="1",
        EMAIL_RETRY_BACKOFF_MAX_SECONDS="2",
        SUPPORT_EMAIL="support@renewals.test",
    )
