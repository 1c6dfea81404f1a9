"""Sign-in against real PostgreSQL and Redis: the parts tuned for speed still keep their guarantees."""

from __future__ import annotations

from typing import Any

import redis
from renewals_shared.testing import TEST_SECRETS

from reseller_service.adapters.attempt_limiter import RedisAttemptLimiter
from reseller_service.adapters.password_hasher import MIN_MEMORY_KIB, MIN_TIME_COST, Argon2PasswordHasher
from reseller_service.entrypoints.flask_app import create_app

SERVICE = {"Authorization": f"Bearer {TEST_SECRETS['SERVICE_TOKEN']}"}
PASSWORD = "Tr0ub4dor-and-3-horses"
Reseller = Any  # conftest.Reseller


def test_the_limiter_check_reports_failures_and_waits_in_one_answer(reseller: Reseller) -> None:
    limiter = RedisAttemptLimiter(
        redis.Redis.from_url(reseller.settings.redis_url), reseller.settings.redis_prefix, 2, 900
    )
    fresh = limiter.check(["a", "b"])
    assert (fresh.retry_after, fresh.failing) == (None, frozenset())

    limiter.record_failure(["a"])
    once = limiter.check(["a", "b"])
    assert (once.retry_after, once.failing) == (None, frozenset({"a"}))

    limiter.record_failure(["a", "b"])
    over = limiter.check(["a", "b"])
    assert over.failing == {"a", "b"}
    assert over.retry_after is not None and 0 < over.retry_after <= 900  # only "a" is at the limit

    limiter.clear("a")
    assert limiter.check(["a", "b"]).failing == {"b"}


def test_a_success_clears_the_account_failures_it_saw(reseller: Reseller) -> None:
    reseller.approve(reseller.register())
    client = redis.Redis.from_url(reseller.settings.redis_url)
    for i in range(3):
        assert reseller.authenticate("erika@muster.example", "Wrong-password-123456", f"192.0.2.{i}").status_code == 401
    assert client.keys(f"{reseller.settings.redis_prefix}*auth-fail:account:*")
    assert reseller.authenticate("erika@muster.example", PASSWORD, "192.0.2.9").status_code == 200
    assert not client.keys(f"{reseller.settings.redis_prefix}*auth-fail:account:*")
    assert client.keys(f"{reseller.settings.redis_prefix}*auth-fail:client:*")  # per address: not the account's


def test_sign_in_rehashes_when_the_parameters_change(reseller: Reseller) -> None:
    reseller.approve(reseller.register())
    stronger = Argon2PasswordHasher(MIN_MEMORY_KIB, MIN_TIME_COST + 1)
    app = create_app(reseller.settings, engine=reseller.engine, clock=reseller.clock, hasher=stronger)
    signed_in = app.test_client().post(
        "/authenticate", json={"email": "erika@muster.example", "password": PASSWORD}, headers=SERVICE
    )
    assert signed_in.status_code == 200, signed_in.get_json()
    with reseller.engine.connect() as connection:
        stored = connection.exec_driver_sql("SELECT password_hash FROM resellers").scalar_one()
    assert f"t={MIN_TIME_COST + 1}," in stored and stronger.verify(stored, PASSWORD)
    assert reseller.authenticate("erika@muster.example", PASSWORD).status_code == 200  # old parameters still verify
