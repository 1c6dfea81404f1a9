"""The token-service's own settings, on top of renewals_shared.config.Settings; validated once."""

from __future__ import annotations

from dataclasses import dataclass

from renewals_shared.config import Settings, env_int


@dataclass(frozen=True)
class TokenConfig:
    settings: Settings
    default_customer_discount_bp: int
    resolve_failure_limit: int
    resolve_failure_window_seconds: int

    @classmethod
    def from_env(cls, settings: Settings | None = None) -> TokenConfig:
        return cls(
            settings=settings or Settings.from_env("token"),
            default_customer_discount_bp=env_int("CUSTOMER_DISCOUNT_BP", 5000, 0, 10000),
            resolve_failure_limit=env_int("RESOLVE_FAILURE_LIMIT", 30, 1, 100_000),
            resolve_failure_window_seconds=env_int("RESOLVE_FAILURE_WINDOW_SECONDS", 60, 1, 86_400),
        )
