"""The operations console's state on a real Redis: operator, session TTL, audit list, all under the prefix."""

from __future__ import annotations

import json
import re

import redis

from gateway.adapters.operations_store import OperatorAccounts
from gateway.entrypoints.flask_app import create_app
from gateway.fakes import FakeForwarder, FakeOrders, FakeResellers


def test_console_login_session_and_audit_live_in_redis_with_the_prefix(service_env):
    settings = service_env("gateway")
    real = redis.Redis.from_url(settings.redis_url)
    OperatorAccounts(real, settings.redis_prefix).create("ops@example.com", "a long operator passphrase")
    app = create_app(
        settings,
        order_client=FakeOrders(),
        reseller_client=FakeResellers(),
        token_client=FakeForwarder("token-service"),
        notifier_client=FakeForwarder("notifier"),
    )
    client = app.test_client()
    html = client.get("/admin/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    response = client.post(
        "/admin/login", data={"csrf_token": token, "email": "ops@example.com", "password": "a long operator passphrase"}
    )
    assert response.status_code == 303
    (session_key,) = list(real.scan_iter(f"{settings.redis_prefix}gateway:ops:session:*"))
    assert 0 < real.ttl(session_key) <= 30 * 60
    assert client.get("/admin/audit").status_code == 200
    [entry] = [json.loads(e) for e in real.lrange(f"{settings.redis_prefix}gateway:ops:audit", 0, -1)]
    assert (entry["actor"], entry["action"], entry["outcome"]) == ("ops@example.com", "login", "ok")
    # no reseller session was created by the console
    assert list(real.scan_iter(f"{settings.redis_prefix}gateway:session:*")) == []
