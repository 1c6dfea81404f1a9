"""Outcomes of a use case that the edge turns into an HTTP status."""

from __future__ import annotations


class ServiceError(Exception):
    pass


class NotFound(ServiceError):
    pass


class EmailTaken(ServiceError):
    pass


class InvalidInput(ServiceError):
    """Field errors in the same shape as marshmallow's: {field: [messages]}."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("invalid input")
        self.errors = errors


class InvalidCredentials(ServiceError):
    pass


class AccountNotActive(ServiceError):
    def __init__(self, status: str) -> None:
        super().__init__(f"account is {status}")
        self.status = status


class TooManyAttempts(ServiceError):
    def __init__(self, retry_after: int) -> None:
        super().__init__("too many failed attempts")
        self.retry_after = retry_after


class InvalidResetToken(ServiceError):
    pass


class Gone(ServiceError):
    pass


class Conflict(ServiceError):
    pass
