"""Notifier settings: the project-wide `Settings` plus the notifier's own knobs, validated once at start-up."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass

from renewals_shared.config import Settings, SettingsError, env_int, env_str

from notifier.domain.model import DEFAULT_REMINDER_STAGES, parse_stages


@dataclass(frozen=True)
class NotifierConfig:
    settings: Settings
    reminder_stages: tuple[int, ...] = DEFAULT_REMINDER_STAGES
    reminder_scan_at: dt.time = dt.time(6, 0)  # UTC
    support_email: str = "support@renewals.example"
    mail_from: str = "Renewals <no-reply@renewals.example>"
    scan_batch_size: int = 1000
    sending_lease_seconds: int = 300  # an attempt owns a `sending` row this long (SMTP timeouts are far shorter)
    pending_sweep_seconds: int = 45  # beat: how often pending rows are re-enqueued
    pending_grace_seconds: int = 60  # only rows older than this (the normal enqueue after commit got there first)
    smtp_timeout_seconds: int = 20
    max_send_retries: int = 8  # Celery retries of one task; afterwards the sweep keeps trying, slower

    @property
    def queue_name(self) -> str:
        return f"{self.settings.bus_namespace}.notifier.email"

    @property
    def message_id_domain(self) -> str:
        address = self.mail_from.rsplit("<", 1)[-1].rstrip(">")
        return address.rsplit("@", 1)[-1] or "renewals.example"

    @classmethod
    def from_env(cls, settings: Settings | None = None) -> NotifierConfig:
        settings = settings or Settings.from_env("notifier")
        try:
            stages = parse_stages(env_str("REMINDER_STAGES", "-60,-30,-7,0,14,30"))
        except ValueError as exc:
            raise SettingsError(f"REMINDER_STAGES: {exc}") from None
        raw_time = env_str("REMINDER_SCAN_AT", "06:00")
        try:
            scan_at = dt.time.fromisoformat(raw_time)
        except ValueError:
            raise SettingsError(f"REMINDER_SCAN_AT: expected HH:MM (UTC), got {raw_time!r}") from None
        support = env_str("SUPPORT_EMAIL", cls.support_email)
        mail_from = env_str("MAIL_FROM", os.environ.get("EMAIL_FROM") or cls.mail_from)
        for name, value in (("SUPPORT_EMAIL", support), ("MAIL_FROM", mail_from)):
            if "@" not in value:
                raise SettingsError(f"{name}: expected an email address, got {value!r}")
        return cls(
            settings=settings,
            reminder_stages=stages,
            reminder_scan_at=scan_at,
            support_email=support,
            mail_from=mail_from,
            scan_batch_size=env_int("SCAN_BATCH_SIZE", 1000, 1, 100_000),
            sending_lease_seconds=env_int("EMAIL_SENDING_LEASE_SECONDS", 300, 1, 86_400),
            pending_sweep_seconds=env_int("EMAIL_SWEEP_SECONDS", 45, 1, 3600),
            pending_grace_seconds=env_int("EMAIL_PENDING_GRACE_SECONDS", 60, 0, 86_400),
            smtp_timeout_seconds=env_int("SMTP_TIMEOUT_SECONDS", 20, 1, 600),
            max_send_retries=env_int("EMAIL_MAX_RETRIES", 8, 0, 100),
        )
