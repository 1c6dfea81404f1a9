"""Gateway settings: the project's shared Settings plus the few knobs only the gateway reads."""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import urlsplit

from renewals_shared.config import Settings, SettingsError, env_int, env_str


@dataclass(frozen=True)
class GatewayConfig:
    notifier_service_url: str
    mailbox_dir: str
    cookie_secure: bool
    service_timeout: float
    trusted_proxies: int = 0

    @property
    def cookie_name(self) -> str:
        # `__Host-` requires Secure, path=/ and no Domain: only when served over HTTPS
        return "__Host-renewals_session" if self.cookie_secure else "renewals_session"

    @classmethod
    def from_env(cls, settings: Settings) -> GatewayConfig:
        secure_raw = os.environ.get("SESSION_COOKIE_SECURE", "")
        if secure_raw not in ("", "0", "1"):
            raise SettingsError(f"SESSION_COOKIE_SECURE: expected 0 or 1, got {secure_raw!r}")
        secure = urlsplit(settings.public_base_url).scheme == "https" if secure_raw == "" else secure_raw == "1"
        notifier_url = env_str("NOTIFIER_SERVICE_URL", "http://127.0.0.1:8004").rstrip("/")
        if urlsplit(notifier_url).scheme not in ("http", "https"):
            raise SettingsError(f"NOTIFIER_SERVICE_URL: expected an http(s) URL, got {notifier_url!r}")
        try:
            timeout = float(env_str("SERVICE_TIMEOUT_SECONDS", "3.0"))
        except ValueError:
            raise SettingsError("SERVICE_TIMEOUT_SECONDS: expected a number") from None
        return cls(
            trusted_proxies=env_int("TRUSTED_PROXIES", 0, 0, 5),
            notifier_service_url=notifier_url,
            mailbox_dir=env_str("MAILBOX_DIR", "var/mailbox"),
            cookie_secure=secure,
            service_timeout=timeout,
        )
