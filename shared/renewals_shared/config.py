"""Settings from environment variables, validated once at start-up.

One name per thing (DESIGN.md section 9). A variable set in the environment always wins; in embedded mode
missing secrets are generated once and kept under ``var/``; real mode refuses to start without them.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

SERVICE_PORTS = {"gateway": 8000, "order": 8001, "token": 8002, "reseller": 8003, "notifier": 8004}
DATABASE_SERVICES = ("order", "token", "reseller", "notifier")
SECRET_NAMES = ("OPS_TOKEN", "SERVICE_TOKEN", "LINK_SECRET", "SESSION_SECRET")
EMBEDDED_PG_PORT = 5433
EMBEDDED_REDIS_PORT = 6380


class SettingsError(Exception):
    """A setting is missing or malformed; the message names the variable."""


def var_dir() -> Path:
    return Path(os.environ.get("RENEWALS_VAR_DIR", "var")).resolve()


def _env(name: str) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else None


def _require_scheme(name: str, value: str, schemes: tuple[str, ...]) -> str:
    scheme = urlsplit(value).scheme
    if scheme not in schemes:
        raise SettingsError(f"{name}: expected a URL with scheme {' or '.join(schemes)}, got {value!r}")
    return value


def env_int(name: str, default: int, minimum: int | None = None, maximum: int | None = None) -> int:
    raw = _env(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}: expected an integer, got {raw!r}") from None
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise SettingsError(f"{name}: {value} is outside [{minimum}, {maximum}]")
    return value


def env_str(name: str, default: str) -> str:
    return _env(name) or default


def _embedded_secrets() -> dict[str, str]:
    """Secrets generated once per checkout and kept under var/, so a restart keeps links and sessions valid."""
    path = var_dir() / "secrets.json"
    stored: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    missing = [name for name in SECRET_NAMES if name not in stored]
    if missing:
        for name in missing:
            stored[name] = secrets.token_urlsafe(32)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(stored, indent=2))
        tmp.chmod(0o600)
        tmp.replace(path)
    return stored


@dataclass(frozen=True)
class Settings:
    service: str
    mode: str
    database_url: str | None
    broker_url: str
    redis_url: str
    smtp_url: str
    public_base_url: str
    ops_token: str
    service_token: str
    link_secret: str
    link_secret_previous: str | None
    session_secret: str
    order_service_url: str
    token_service_url: str
    reseller_service_url: str
    bus_namespace: str
    redis_prefix: str
    max_lapse_days: int
    log_level: str

    @property
    def embedded(self) -> bool:
        return self.mode == "embedded"

    @classmethod
    def from_env(cls, service: str) -> Settings:
        if service not in SERVICE_PORTS:
            raise SettingsError(f"unknown service {service!r}")
        mode = env_str("RENEWALS_MODE", "embedded")
        if mode not in ("embedded", "real"):
            raise SettingsError(f"RENEWALS_MODE: expected 'embedded' or 'real', got {mode!r}")

        if mode == "real":
            missing = [name for name in SECRET_NAMES if _env(name) is None]
            if missing:
                raise SettingsError(f"{', '.join(missing)}: required in real mode (refusing to generate secrets)")
            generated: dict[str, str] = {}
        else:
            generated = _embedded_secrets() if any(_env(n) is None for n in SECRET_NAMES) else {}

        def secret(name: str) -> str:
            value = _env(name) or generated.get(name)
            if value is None or len(value) < 16:
                raise SettingsError(f"{name}: must be at least 16 characters")
            return value

        database_url = None
        if service in DATABASE_SERVICES:
            name = f"{service.upper()}_DATABASE_URL"
            default = f"postgresql+psycopg://postgres@127.0.0.1:{EMBEDDED_PG_PORT}/{service}"
            if mode == "real" and _env(name) is None:
                raise SettingsError(f"{name}: required in real mode")
            database_url = _require_scheme(name, env_str(name, default), ("postgresql", "postgresql+psycopg"))

        embedded_redis = f"redis://127.0.0.1:{EMBEDDED_REDIS_PORT}"
        return cls(
            service=service,
            mode=mode,
            database_url=database_url,
            broker_url=_require_scheme(
                "BROKER_URL", env_str("BROKER_URL", f"{embedded_redis}/1"), ("amqp", "amqps", "pyamqp", "redis")
            ),
            redis_url=_require_scheme("REDIS_URL", env_str("REDIS_URL", f"{embedded_redis}/0"), ("redis", "rediss")),
            smtp_url=_require_scheme("SMTP_URL", env_str("SMTP_URL", "smtp://127.0.0.1:8025"), ("smtp", "smtps")),
            public_base_url=_require_scheme(
                "PUBLIC_BASE_URL", env_str("PUBLIC_BASE_URL", "http://127.0.0.1:8000"), ("http", "https")
            ).rstrip("/"),
            ops_token=secret("OPS_TOKEN"),
            service_token=secret("SERVICE_TOKEN"),
            link_secret=secret("LINK_SECRET"),
            link_secret_previous=_env("LINK_SECRET_PREVIOUS"),
            session_secret=secret("SESSION_SECRET"),
            order_service_url=_require_scheme(
                "ORDER_SERVICE_URL", env_str("ORDER_SERVICE_URL", "http://127.0.0.1:8001"), ("http", "https")
            ).rstrip("/"),
            token_service_url=_require_scheme(
                "TOKEN_SERVICE_URL", env_str("TOKEN_SERVICE_URL", "http://127.0.0.1:8002"), ("http", "https")
            ).rstrip("/"),
            reseller_service_url=_require_scheme(
                "RESELLER_SERVICE_URL", env_str("RESELLER_SERVICE_URL", "http://127.0.0.1:8003"), ("http", "https")
            ).rstrip("/"),
            bus_namespace=env_str("BUS_NAMESPACE", "renewals"),
            redis_prefix=env_str("REDIS_PREFIX", "renewals:"),
            max_lapse_days=env_int("MAX_LAPSE_DAYS", 365, 0, 3650),
            log_level=env_str("LOG_LEVEL", "INFO").upper(),
        )
