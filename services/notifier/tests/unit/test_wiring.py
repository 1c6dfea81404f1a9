"""SMTP_URL parsing, the notifier's settings and the Celery configuration for both transports."""

from __future__ import annotations

import datetime as dt

import pytest
from notifier.adapters.smtp import SmtpTarget
from notifier.config import NotifierConfig
from notifier.entrypoints.celery_app import celery_config
from renewals_shared.config import Settings, SettingsError

SECRETS = {"OPS_TOKEN": "o" * 20, "SERVICE_TOKEN": "s" * 20, "LINK_SECRET": "l" * 20, "SESSION_SECRET": "x" * 20}


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://127.0.0.1:8025", SmtpTarget("127.0.0.1", 8025, False, False, None, None)),
        ("smtp://mail.example:587?starttls=1", SmtpTarget("mail.example", 587, False, True, None, None)),
        ("smtps://u%40x:p%3Ass@mail.example", SmtpTarget("mail.example", 465, True, False, "u@x", "p:ss")),
        ("smtp://user:pw@mail.example", SmtpTarget("mail.example", 25, False, False, "user", "pw")),
    ],
)
def test_smtp_url(url: str, expected: SmtpTarget) -> None:
    assert SmtpTarget.parse(url) == expected


def test_smtp_url_rejects_other_schemes() -> None:
    with pytest.raises(ValueError):
        SmtpTarget.parse("http://mail.example")


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path) -> pytest.MonkeyPatch:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("RENEWALS_VAR_DIR", str(tmp_path))
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("BUS_NAMESPACE", "ns1")
    monkeypatch.setenv("REDIS_PREFIX", "p1:")
    return monkeypatch


def test_settings_defaults_and_overrides(env: pytest.MonkeyPatch) -> None:
    config = NotifierConfig.from_env(Settings.from_env("notifier"))
    assert config.reminder_stages == (-60, -30, -7, 0, 14, 30)
    assert config.reminder_scan_at == dt.time(6, 0)
    env.setenv("REMINDER_STAGES", "-14,0")
    env.setenv("REMINDER_SCAN_AT", "07:30")
    env.setenv("MAIL_FROM", "Shop <shop@vendor.example>")
    config = NotifierConfig.from_env(Settings.from_env("notifier"))
    assert config.reminder_stages == (-14, 0) and config.reminder_scan_at == dt.time(7, 30)
    assert config.message_id_domain == "vendor.example"
    env.setenv("REMINDER_SCAN_AT", "noon")
    with pytest.raises(SettingsError, match="REMINDER_SCAN_AT"):
        NotifierConfig.from_env(Settings.from_env("notifier"))


def test_celery_on_rabbitmq_uses_quorum_queues_confirms_and_acks_late(env: pytest.MonkeyPatch) -> None:
    env.setenv("BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
    conf = celery_config(NotifierConfig.from_env(Settings.from_env("notifier")))
    assert conf["task_default_queue"] == "ns1.notifier.email"
    assert conf["task_default_queue_type"] == "quorum" and conf["task_create_missing_queue_type"] == "quorum"
    assert conf["task_default_exchange_type"] == "topic"
    assert conf["broker_transport_options"] == {"confirm_publish": True}
    assert conf["task_acks_late"] and conf["task_reject_on_worker_lost"] and conf["worker_prefetch_multiplier"] == 1
    assert conf["redbeat_key_prefix"].startswith("p1:") and conf["redbeat_lock_timeout"] == 25
    assert conf["beat_max_loop_interval"] == 5
    assert conf["beat_schedule"]["expiry-scan"]["schedule"].hour == {6}
    # two deployments on one broker never fight over the workers' exclusive pidbox queues
    assert conf["control_exchange"] == "ns1.notifier.control" and conf["event_exchange"] == "ns1.notifier.events"


def test_celery_on_redis_prefixes_its_keys(env: pytest.MonkeyPatch) -> None:
    env.setenv("BROKER_URL", "redis://127.0.0.1:6380/1")
    conf = celery_config(NotifierConfig.from_env(Settings.from_env("notifier")))
    assert "task_default_queue_type" not in conf
    assert conf["broker_transport_options"]["global_keyprefix"] == "p1:notifier:celery:"
    assert conf["broker_transport_options"]["visibility_timeout"] >= 600  # longer than any retry countdown
