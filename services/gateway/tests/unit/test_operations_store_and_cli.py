"""Operators in Redis (argon2id), the audit log's cap, and the `create-ops-user` / `seed-demo` commands."""

from __future__ import annotations

import json
from typing import Any

import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner

from gateway.adapters import operations_store
from gateway.adapters.operations_store import AuditLog, OperatorAccounts, OperatorExists, WeakPassword
from gateway.entrypoints import cli
from gateway.operations_fakes import FakeOpsRedis

FAST = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


def test_operators_are_stored_with_an_argon2id_hash_under_the_prefix() -> None:
    redis = FakeOpsRedis()
    accounts = OperatorAccounts(redis, "p:", FAST)
    accounts.create(" Ops@Example.com ", "twelve chars ok")
    record = json.loads(redis.data["p:gateway:ops:user:ops@example.com"])
    assert record["password_hash"].startswith("$argon2id$")
    assert accounts.verify("OPS@example.com", "twelve chars ok")
    assert not accounts.verify("ops@example.com", "twelve chars NO")


def test_an_operator_is_created_once_unless_replaced() -> None:
    accounts = OperatorAccounts(FakeOpsRedis(), "p:", FAST)
    accounts.create("ops@example.com", "first password!")
    with pytest.raises(OperatorExists):
        accounts.create("ops@example.com", "second password!")
    accounts.create("ops@example.com", "second password!", replace=True)
    assert accounts.verify("ops@example.com", "second password!")
    with pytest.raises(WeakPassword):
        accounts.create("new@example.com", "short")


def test_failures_lock_the_email_for_a_window_and_success_clears_them() -> None:
    redis = FakeOpsRedis()
    accounts = OperatorAccounts(redis, "p:", FAST)
    accounts.create("ops@example.com", "right password!")
    for _ in range(4):
        accounts.verify("ops@example.com", "wrong")
    assert not accounts.locked_out("ops@example.com")
    assert accounts.verify("ops@example.com", "right password!")
    assert redis.get("p:gateway:ops:login-failures:ops@example.com") is None
    for _ in range(5):
        accounts.verify("ops@example.com", "wrong")
    assert accounts.locked_out("ops@example.com")
    assert redis.ttl["p:gateway:ops:login-failures:ops@example.com"] == 15 * 60


def test_the_audit_log_is_newest_first_and_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(operations_store, "AUDIT_MAX_ENTRIES", 3)
    log = AuditLog(FakeOpsRedis(), "p:", clock=lambda: "2027-01-01T00:00:00+00:00")
    for n in range(5):
        log.record("ops@example.com", f"action.{n}", target=str(n))
    assert [e["action"] for e in log.latest()] == ["action.4", "action.3", "action.2"]
    assert log.latest()[0] == {
        "at": "2027-01-01T00:00:00+00:00",
        "actor": "ops@example.com",
        "action": "action.4",
        "target": "4",
        "outcome": "ok",
        "details": {},
    }


@pytest.fixture
def cli_redis(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> FakeOpsRedis:
    redis = FakeOpsRedis()
    monkeypatch.setattr(cli, "_redis", lambda settings: redis)
    monkeypatch.setenv("RENEWALS_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("REDIS_PREFIX", "cli:")
    return redis


def _prefix(redis: FakeOpsRedis) -> str:
    [key] = [k for k in redis.data if ":gateway:ops:user:" in k]
    return key.split("gateway:ops:user:")[0]


def test_create_ops_user_with_a_password_option_and_the_audit_entry(cli_redis: FakeOpsRedis) -> None:
    runner = CliRunner()
    result = runner.invoke(cli.cli, ["create-ops-user", "ops@example.com", "--password", "a long passphrase"])
    assert result.exit_code == 0, result.output
    prefix = _prefix(cli_redis)
    assert OperatorAccounts(cli_redis, prefix).verify("ops@example.com", "a long passphrase")
    again = runner.invoke(cli.cli, ["create-ops-user", "ops@example.com", "--password", "a long passphrase"])
    assert again.exit_code != 0 and "--replace" in again.output
    replaced = runner.invoke(
        cli.cli, ["create-ops-user", "ops@example.com", "--password", "another passphrase", "--replace"]
    )
    assert replaced.exit_code == 0
    actions = [e["action"] for e in AuditLog(cli_redis, prefix).latest()]
    assert actions == ["operator.password_reset", "operator.create"]


def test_create_ops_user_prompts_for_the_password(cli_redis: FakeOpsRedis) -> None:
    result = CliRunner().invoke(
        cli.cli, ["create-ops-user", "ops@example.com"], input="prompted passphrase\nprompted passphrase\n"
    )
    assert result.exit_code == 0, result.output
    assert OperatorAccounts(cli_redis, _prefix(cli_redis)).verify("ops@example.com", "prompted passphrase")


def test_create_ops_user_refuses_a_short_password(cli_redis: FakeOpsRedis) -> None:
    result = CliRunner().invoke(cli.cli, ["create-ops-user", "ops@example.com", "--password", "short"])
    assert result.exit_code != 0 and "12 characters" in result.output


def test_seed_demo_creates_the_demo_operator_once_and_prints_its_password(
    cli_redis: FakeOpsRedis, tmp_path: Any
) -> None:
    runner = CliRunner()
    first = runner.invoke(cli.cli, ["seed-demo"])
    assert first.exit_code == 0, first.output
    password = (tmp_path / "ops-password.txt").read_text().strip()
    assert f"ops@example.com / {password}" in first.output
    second = runner.invoke(cli.cli, ["seed-demo"])
    assert f"ops@example.com / {password}" in second.output
    assert OperatorAccounts(cli_redis, _prefix(cli_redis)).verify("ops@example.com", password)
