"""Wire the reseller service: real adapters by default, any of them replaceable (tests pass fakes)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis
from renewals_shared.clock import Clock, clock_from_env
from renewals_shared.config import Settings
from renewals_shared.db import make_engine
from renewals_shared.observability import correlation_id_var
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from reseller_service.adapters.attempt_limiter import RedisAttemptLimiter
from reseller_service.adapters.password_hasher import Argon2PasswordHasher
from reseller_service.adapters.reset_tokens import HmacResetTokens
from reseller_service.config import ResellerConfig
from reseller_service.service_layer import handlers
from reseller_service.service_layer.messagebus import MessageBus
from reseller_service.service_layer.ports import (
    AttemptLimiter,
    PasswordHasher,
    ResetTokens,
)
from reseller_service.service_layer.unit_of_work import (
    AbstractUnitOfWork,
    SqlAlchemyUnitOfWork,
)


@dataclass
class ResellerService:
    settings: Settings
    config: ResellerConfig
    engine: Engine | None
    bus: MessageBus
    uow_factory: Callable[[], AbstractUnitOfWork]
    tokens: ResetTokens
    clock: Clock
    hasher: PasswordHasher


def bootstrap(
    settings: Settings,
    *,
    engine: Engine | None = None,
    uow_factory: Callable[[], AbstractUnitOfWork] | None = None,
    config: ResellerConfig | None = None,
    clock: Clock | None = None,
    hasher: PasswordHasher | None = None,
    redis_client: Any = None,
    limiter: AttemptLimiter | None = None,
    reset_limiter: AttemptLimiter | None = None,
) -> ResellerService:
    config = config or ResellerConfig.from_env()
    clock = clock or clock_from_env()
    hasher = hasher or Argon2PasswordHasher(
        config.argon2_memory_kib, config.argon2_time_cost, config.argon2_parallelism
    )
    if uow_factory is None:
        if engine is None:
            assert settings.database_url is not None
            engine = make_engine(settings.database_url)
        session_factory: sessionmaker[Session] = sessionmaker(bind=engine, expire_on_commit=False)
        uow_factory = lambda: SqlAlchemyUnitOfWork(session_factory, engine, correlation_id_var.get)  # noqa: E731
    if limiter is None or reset_limiter is None:
        client = redis_client or redis.Redis.from_url(settings.redis_url, socket_timeout=2, socket_connect_timeout=2)
        limiter = limiter or RedisAttemptLimiter(
            client,
            settings.redis_prefix,
            config.auth_max_failures,
            config.auth_window_seconds,
        )
        reset_limiter = reset_limiter or RedisAttemptLimiter(
            client,
            settings.redis_prefix,
            config.reset_requests_per_window,
            config.reset_window_seconds,
        )
    tokens = HmacResetTokens(settings.link_secret, settings.link_secret_previous)
    dependencies = {
        "hasher": hasher,
        "clock": clock,
        "limiter": limiter,
        "reset_limiter": reset_limiter,
        "tokens": tokens,
        # Unknown emails are verified against this, so they cost what a wrong password costs.
        "dummy_hash": hasher.hash("no account has this password: " + settings.service),
    }
    return ResellerService(
        settings=settings,
        config=config,
        engine=engine,
        bus=MessageBus(uow_factory, handlers.HANDLERS, dependencies),
        uow_factory=uow_factory,
        tokens=tokens,
        clock=clock,
        hasher=hasher,
    )
