"""Dispatches a command to its handler with the dependencies bootstrap injected."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class MessageBus:
    def __init__(self, command_handlers: dict[type, Callable[[Any], Any]], dependencies: dict[str, Any]) -> None:
        self.command_handlers = command_handlers
        self.dependencies = dependencies

    def handle(self, command: Any) -> Any:
        return self.command_handlers[type(command)](command)
