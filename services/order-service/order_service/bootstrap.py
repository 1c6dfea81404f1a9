"""Wires real or fake adapters into the handlers, injecting only what each handler's signature names."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from order_service.adapters.payments import CardProvider, SandboxCardProvider
from order_service.adapters.reseller_client import HttpResellerService, RecentResellerAccounts, ResellerService
from order_service.adapters.token_client import HttpTokenService, TokenService
from order_service.service_layer import handlers
from order_service.service_layer.messagebus import MessageBus
from order_service.service_layer.unit_of_work import SqlAlchemyUnitOfWork, UnitOfWork
from renewals_shared.clock import Clock, clock_from_env
from renewals_shared.config import Settings, env_int
from renewals_shared.http import ServiceClient
from renewals_shared.web import forwarded_client_address


def _inject(handler: Callable[..., Any], dependencies: dict[str, Any]) -> Callable[[Any], Any]:
    wanted = {name: dependencies[name] for name in inspect.signature(handler).parameters if name in dependencies}
    return lambda command: handler(command, **wanted)


def bootstrap(
    settings: Settings,
    *,
    engine: Any = None,
    uow: UnitOfWork | None = None,
    tokens: TokenService | None = None,
    resellers: ResellerService | None = None,
    cards: CardProvider | None = None,
    clock: Clock | None = None,
) -> MessageBus:
    if uow is None:
        if engine is None:
            raise ValueError("bootstrap needs an engine or a unit of work")
        uow = SqlAlchemyUnitOfWork(engine)
    resellers = resellers or HttpResellerService(ServiceClient(settings.reseller_service_url, settings.service_token))
    quote_cache_seconds = env_int("RESELLER_QUOTE_CACHE_SECONDS", 5, 0, 300)
    dependencies: dict[str, Any] = {
        "uow": uow,
        "tokens": tokens
        or HttpTokenService(
            ServiceClient(settings.token_service_url, settings.service_token), forwarded_client_address
        ),
        "resellers": resellers,
        "recent_resellers": RecentResellerAccounts(resellers, quote_cache_seconds)
        if quote_cache_seconds
        else resellers,
        "cards": cards or SandboxCardProvider(),
        "clock": clock or clock_from_env(),
        "max_lapse_days": settings.max_lapse_days,
    }
    injected = {command: _inject(handler, dependencies) for command, handler in handlers.COMMAND_HANDLERS.items()}
    return MessageBus(injected, dependencies)
