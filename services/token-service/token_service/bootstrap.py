"""Wires real adapters (or the ones a test passes) into the message bus."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from renewals_shared.clock import Clock, clock_from_env
from renewals_shared.db import make_engine
from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from token_service.adapters import orm
from token_service.config import TokenConfig
from token_service.domain.tokens import LinkSecrets
from token_service.service_layer.messagebus import MessageBus
from token_service.service_layer.unit_of_work import AbstractUnitOfWork, SqlAlchemyUnitOfWork


def link_secrets(config: TokenConfig) -> LinkSecrets:
    return LinkSecrets(config.settings.link_secret, config.settings.link_secret_previous)


def bootstrap(
    config: TokenConfig,
    *,
    engine: Engine | None = None,
    clock: Clock | None = None,
    uow_factory: Callable[[], AbstractUnitOfWork] | None = None,
) -> MessageBus:
    orm.start_mappers()
    clock = clock or clock_from_env()
    if uow_factory is None:
        assert config.settings.database_url is not None
        engine = engine or make_engine(config.settings.database_url)
        sessions = sessionmaker(bind=engine, expire_on_commit=False)
        uow_factory = partial(SqlAlchemyUnitOfWork, sessions)
    secrets_ = link_secrets(config)
    return MessageBus(
        uow_factory,
        {
            "link_secrets": lambda: secrets_,
            "default_discount_bp": lambda: config.default_customer_discount_bp,
            "max_lapse_days": lambda: config.settings.max_lapse_days,
            "today": clock.today,
        },
    )
