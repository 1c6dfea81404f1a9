"""Wire the gateway: real HTTP clients and Redis by default, anything injected through overrides (tests)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from gateway.adapters.downstream import HeaderSource
from gateway.adapters.mailbox_reader import MailboxReader
from gateway.adapters.notifier_client import NotifierClient
from gateway.adapters.order_client import OrderClient
from gateway.adapters.reseller_client import ResellerClient
from gateway.adapters.session_store import RedisSessionStore
from gateway.adapters.token_client import TokenClient
from gateway.config import GatewayConfig
from gateway.domain.session_policy import SessionPolicy
from renewals_shared.clock import Clock, clock_from_env
from renewals_shared.config import Settings
from renewals_shared.http import ServiceClient


@dataclass(frozen=True)
class Gateway:
    settings: Settings
    config: GatewayConfig
    orders: Any
    tokens: Any
    resellers: Any
    notifier: Any
    redis: Any
    session_store: RedisSessionStore
    session_policy: SessionPolicy
    session_clock: Callable[[], float]
    clock: Clock
    mailbox: MailboxReader


OVERRIDES = {
    "order_client",
    "token_client",
    "reseller_client",
    "notifier_client",
    "redis",
    "clock",
    "session_clock",
    "session_policy",
    "config",
    "mailbox_dir",
    "cookie_secure",
    "context_headers",
}


def bootstrap(settings: Settings, **overrides: Any) -> Gateway:
    unknown = set(overrides) - OVERRIDES
    if unknown:
        raise TypeError(f"unknown overrides: {sorted(unknown)}")
    config: GatewayConfig = overrides.get("config") or GatewayConfig.from_env(settings)
    if "mailbox_dir" in overrides:
        config = replace(config, mailbox_dir=str(overrides["mailbox_dir"]))
    if "cookie_secure" in overrides:
        config = replace(config, cookie_secure=bool(overrides["cookie_secure"]))
    headers: HeaderSource = overrides.get("context_headers") or (dict)

    def client(url: str) -> ServiceClient:
        return ServiceClient(url, settings.service_token, timeout=config.service_timeout)

    redis_client = overrides.get("redis")
    if redis_client is None:
        import redis

        redis_client = redis.Redis.from_url(settings.redis_url, socket_timeout=2, socket_connect_timeout=2)

    return Gateway(
        settings=settings,
        config=config,
        orders=overrides.get("order_client") or OrderClient(client(settings.order_service_url), headers),
        tokens=overrides.get("token_client") or TokenClient(client(settings.token_service_url), headers),
        resellers=overrides.get("reseller_client") or ResellerClient(client(settings.reseller_service_url), headers),
        notifier=overrides.get("notifier_client") or NotifierClient(client(config.notifier_service_url), headers),
        redis=redis_client,
        session_store=RedisSessionStore(redis_client, settings.redis_prefix),
        session_policy=overrides.get("session_policy") or SessionPolicy(),
        session_clock=overrides.get("session_clock") or time.time,
        clock=overrides.get("clock") or clock_from_env(),
        mailbox=MailboxReader(config.mailbox_dir),
    )
