"""Commands to handlers, with the dependencies each handler names injected (cosmicpython's bootstrap shape)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from token_service.service_layer import commands, handlers
from token_service.service_layer.unit_of_work import AbstractUnitOfWork

COMMAND_HANDLERS: dict[type, Callable[..., Any]] = {
    commands.IssueLink: handlers.issue_link,
    commands.ResolveLink: handlers.resolve_link,
    commands.RedeemLink: handlers.redeem_link,
    commands.RevokeLink: handlers.revoke_link,
    commands.RevokeOtherLinks: handlers.revoke_other_links,
    commands.SetProductDiscount: handlers.set_product_discount,
    commands.SetLicenseDiscount: handlers.set_license_discount,
}


class MessageBus:
    """``providers`` maps a dependency name to a zero-argument function giving its current value (``today`` is
    read from the clock at each call). Errors propagate to the caller: the web answers a problem, the consumer
    retries and finally dead-letters."""

    def __init__(self, uow_factory: Callable[[], AbstractUnitOfWork], providers: dict[str, Callable[[], Any]]):
        self.uow_factory = uow_factory
        self.providers = providers
        # read once, not per request: inspect.signature took 3 % of the token-service's CPU under load
        self._wanted = {kind: list(inspect.signature(h).parameters)[2:] for kind, h in COMMAND_HANDLERS.items()}

    def handle(self, command: Any, uow: AbstractUnitOfWork | None = None) -> Any:
        kind = type(command)
        kwargs = {name: self.providers[name]() for name in self._wanted[kind]}
        return COMMAND_HANDLERS[kind](command, uow or self.uow_factory(), **kwargs)

    def today(self) -> Any:
        return self.providers["today"]()
