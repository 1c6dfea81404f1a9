"""Reseller-service settings beyond the shared ones, read from the environment once at start-up."""

from __future__ import annotations

from dataclasses import dataclass

from renewals_shared.config import env_int

from reseller_service.adapters.password_hasher import MIN_MEMORY_KIB, MIN_TIME_COST


@dataclass(frozen=True)
class ResellerConfig:
    auth_max_failures: int = 10
    auth_window_seconds: int = 15 * 60
    reset_requests_per_window: int = 3
    reset_window_seconds: int = 15 * 60
    argon2_memory_kib: int = MIN_MEMORY_KIB
    argon2_time_cost: int = MIN_TIME_COST
    argon2_parallelism: int = 1
    max_content_length: int = 64 * 1024

    @classmethod
    def from_env(cls) -> ResellerConfig:
        return cls(
            auth_max_failures=env_int("RESELLER_AUTH_MAX_FAILURES", 10, 1, 10_000),
            auth_window_seconds=env_int("RESELLER_AUTH_WINDOW_SECONDS", 900, 1, 86_400),
            reset_requests_per_window=env_int("RESELLER_RESET_REQUESTS_PER_WINDOW", 3, 1, 1000),
            reset_window_seconds=env_int("RESELLER_RESET_WINDOW_SECONDS", 900, 1, 86_400),
            argon2_memory_kib=env_int(
                "RESELLER_ARGON2_MEMORY_KIB",
                MIN_MEMORY_KIB,
                MIN_MEMORY_KIB,
                4 * 1024 * 1024,
            ),
            argon2_time_cost=env_int("RESELLER_ARGON2_TIME_COST", MIN_TIME_COST, MIN_TIME_COST, 100),
            argon2_parallelism=env_int("RESELLER_ARGON2_PARALLELISM", 1, 1, 16),
            max_content_length=env_int("RESELLER_MAX_CONTENT_LENGTH", 64 * 1024, 1024, 10 * 1024 * 1024),
        )
