"""The session store on a real Redis (services stay fakes): keys prefixed, TTL set, logout deletes, login rotates."""

from __future__ import annotations

import re

import redis

from gateway.entrypoints.flask_app import create_app
from gateway.fakes import FakeForwarder, FakeOrders, FakeResellers


def test_sessions_live_in_redis_with_the_prefix_and_a_ttl(service_env):
    settings = service_env("gateway")
    app = create_app(
        settings,
        order_client=FakeOrders(),
        reseller_client=FakeResellers(),
        token_client=FakeForwarder("token-service"),
        notifier_client=FakeForwarder("notifier"),
    )
    client = app.test_client()
    real = redis.Redis.from_url(settings.redis_url)
    pattern = f"{settings.redis_prefix}gateway:session:*"

    html = client.get("/reseller/login").get_data(as_text=True)
    (anonymous_key,) = list(real.scan_iter(pattern))
    assert 0 < real.ttl(anonymous_key) <= 30 * 60

    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    response = client.post(
        "/reseller/login",
        data={"csrf_token": token, "email": "rita@resell.example", "password": "correct horse battery"},
    )
    assert response.status_code == 303
    (logged_in_key,) = list(real.scan_iter(pattern))
    assert logged_in_key != anonymous_key  # rotated at login, the old record is gone
    assert b'"r-1"' in real.get(logged_in_key)
    assert client.get("/reseller/account").status_code == 200
    assert client.get("/readyz").status_code == 200

    html = client.get("/reseller/logout").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    assert client.post("/reseller/logout", data={"csrf_token": token}).status_code == 303
    assert list(real.scan_iter(pattern)) == []
