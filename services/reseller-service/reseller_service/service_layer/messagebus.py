"""Dispatch a command to its handler with the dependencies that handler's signature names.

A fresh unit of work per command, so one bus can serve concurrent requests.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from reseller_service.domain.commands import Command
from reseller_service.service_layer.unit_of_work import AbstractUnitOfWork


class MessageBus:
    def __init__(
        self,
        uow_factory: Callable[[], AbstractUnitOfWork],
        handlers: dict[type[Command], Callable[..., Any]],
        dependencies: dict[str, Any],
    ) -> None:
        self.uow_factory = uow_factory
        self.handlers = handlers
        self.dependencies = dependencies
        self._wanted = {t: list(inspect.signature(h).parameters)[1:] for t, h in handlers.items()}

    def handle(self, command: Command) -> Any:
        handler = self.handlers[type(command)]
        kwargs = {
            name: self.uow_factory() if name == "uow" else self.dependencies[name]
            for name in self._wanted[type(command)]
        }
        return handler(command, **kwargs)
