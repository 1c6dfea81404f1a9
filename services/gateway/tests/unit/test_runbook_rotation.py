"""docs/operations.md, "Rotate secrets": what rotating the ops token and the session secret does, checked."""

from __future__ import annotations

import re
from typing import Any

from argon2 import PasswordHasher

from gateway.adapters.operations_store import operations_store
from gateway.entrypoints.admin_pages import build_console
from gateway.entrypoints.flask_app import create_app
from gateway.fakes import build_world, make_settings
from gateway.operations_fakes import FakeOpsRedis

FAST = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


def test_rotating_the_ops_token_refuses_the_old_one(tmp_path: Any) -> None:
    before = build_world(tmp_path, ops_token="old-ops-token-0123456789")
    old = {"Authorization": "Bearer old-ops-token-0123456789"}
    assert before.client.get("/api/v1/admin/resellers?status=pending", headers=old).status_code == 200
    after = build_world(tmp_path, ops_token="new-ops-token-0123456789")
    assert after.client.get("/api/v1/admin/resellers?status=pending", headers=old).status_code == 401
    new = {"Authorization": "Bearer new-ops-token-0123456789"}
    assert after.client.get("/api/v1/admin/resellers?status=pending", headers=new).status_code == 200


def test_rotating_the_session_secret_signs_everyone_out(tmp_path: Any) -> None:
    world = build_world(tmp_path, session_secret="old-session-secret-0123")
    ops_redis = FakeOpsRedis()
    gateway = world.app.extensions["gateway"]
    store = operations_store(ops_redis, "test:", gateway.session_policy, world.clock, FAST)
    store.operators.create("ops@example.com", "a long operator passphrase")
    world.app.extensions["operations_console"] = build_console(gateway, store=store)

    assert world.login().status_code == 303  # a reseller
    html = world.client.get("/admin/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    signed_in = world.client.post(
        "/admin/login", data={"csrf_token": token, "email": "ops@example.com", "password": "a long operator passphrase"}
    )
    assert signed_in.status_code == 303
    assert world.client.get("/reseller/account").status_code == 200
    assert world.client.get("/admin/").status_code == 200

    def restarted(secret: str) -> Any:
        """The same Redis and the same browser cookies, a gateway restarted with `secret` as SESSION_SECRET."""
        app = create_app(
            make_settings(session_secret=secret),
            order_client=world.orders,
            reseller_client=world.resellers,
            token_client=world.tokens,
            notifier_client=world.notifier,
            redis=world.redis,
            session_clock=world.clock,
        )
        app.extensions["operations_console"] = build_console(app.extensions["gateway"], store=store)
        client = app.test_client()
        for cookie in world.client._cookies.values():
            client.set_cookie(cookie.key, cookie.value, domain=cookie.domain, path=cookie.path)
        return client

    same = restarted("old-session-secret-0123")  # control: a plain restart keeps everyone signed in
    assert same.get("/reseller/account").status_code == 200
    assert same.get("/admin/").status_code == 200
    rotated = restarted("new-session-secret-0123")
    assert rotated.get("/reseller/account").status_code in (302, 303)
    assert rotated.get("/admin/").status_code == 303
