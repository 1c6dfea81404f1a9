"""Fakes for the reseller service's unit tests: in-memory repositories, a cheap hasher, a fixed clock."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest

from reseller_service.adapters import repository
from reseller_service.adapters.attempt_limiter import MemoryAttemptLimiter
from reseller_service.adapters.reset_tokens import HmacResetTokens
from reseller_service.domain.model import (
    AccountStatus,
    BillingEdit,
    ChangeRequest,
    ChangeRequestStatus,
    PasswordReset,
    ResellerAccount,
)
from reseller_service.service_layer import handlers
from reseller_service.service_layer.messagebus import MessageBus
from reseller_service.service_layer.unit_of_work import AbstractUnitOfWork


class FakeResellers(repository.ResellerRepository):
    def __init__(self) -> None:
        self.rows: dict[str, ResellerAccount] = {}

    def add(self, account: ResellerAccount) -> None:
        self.rows[account.id] = copy.deepcopy(account)

    def get(self, reseller_id: str, *, for_update: bool = False) -> ResellerAccount | None:
        found = self.rows.get(reseller_id)
        return copy.deepcopy(found) if found else None

    def get_by_email(self, email: str, *, for_update: bool = False) -> ResellerAccount | None:
        for account in self.rows.values():
            if account.email.lower() == email.lower():
                return copy.deepcopy(account)
        return None

    def list(self, status: AccountStatus | None = None) -> list[ResellerAccount]:
        return [copy.deepcopy(a) for a in self.rows.values() if status is None or a.status is status]

    def save(self, account: ResellerAccount) -> None:
        self.rows[account.id] = copy.deepcopy(account)


class FakeBillingEdits(repository.BillingEditRepository):
    def __init__(self) -> None:
        self.rows: list[BillingEdit] = []

    def add(self, edit: BillingEdit) -> None:
        self.rows.append(edit)

    def for_reseller(self, reseller_id: str) -> list[BillingEdit]:
        return [e for e in self.rows if e.reseller_id == reseller_id]


class FakePasswordResets(repository.PasswordResetRepository):
    def __init__(self) -> None:
        self.rows: dict[str, PasswordReset] = {}

    def add(self, reset: PasswordReset) -> None:
        self.rows[reset.id] = copy.deepcopy(reset)

    def get(self, reset_id: str) -> PasswordReset | None:
        return copy.deepcopy(self.rows.get(reset_id))

    def get_by_token_hash(self, token_hash: str, *, for_update: bool = False) -> PasswordReset | None:
        return next(
            (copy.deepcopy(r) for r in self.rows.values() if r.token_hash == token_hash),
            None,
        )

    def open_for_reseller(self, reseller_id: str) -> list[PasswordReset]:
        return [copy.deepcopy(r) for r in self.rows.values() if r.reseller_id == reseller_id and r.used_at is None]

    def save(self, reset: PasswordReset) -> None:
        self.rows[reset.id] = copy.deepcopy(reset)


class FakeChangeRequests(repository.ChangeRequestRepository):
    def __init__(self) -> None:
        self.rows: dict[str, ChangeRequest] = {}

    def add(self, request: ChangeRequest) -> None:
        self.rows[request.id] = copy.deepcopy(request)

    def get(self, change_request_id: str, *, for_update: bool = False) -> ChangeRequest | None:
        return copy.deepcopy(self.rows.get(change_request_id))

    def list(self, status: ChangeRequestStatus | None = None) -> list[ChangeRequest]:
        return [copy.deepcopy(r) for r in self.rows.values() if status is None or r.status is status]

    def save(self, request: ChangeRequest) -> None:
        self.rows[request.id] = copy.deepcopy(request)


class FakeUnitOfWork(AbstractUnitOfWork):
    """Writes are visible at once (like an open transaction); `committed` tells whether commit was called, and
    events published but not committed are dropped on rollback, as the outbox would."""

    def __init__(self) -> None:
        self.resellers = FakeResellers()
        self.billing_edits = FakeBillingEdits()
        self.password_resets = FakePasswordResets()
        self.change_requests = FakeChangeRequests()
        self.pending: list[tuple[str, dict[str, Any]]] = []
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.commits = 0

    def commit(self) -> None:
        self.commits += 1
        self.events.extend(self.pending)
        self.pending = []

    def rollback(self) -> None:
        self.pending = []

    def publish(self, event_type: str, data: dict[str, Any]) -> None:
        from renewals_shared.events import new_event

        new_event(event_type, data, "reseller-service")  # the contract check the real outbox does
        self.pending.append((event_type, data))


class FakeHasher:
    """Cheap and transparent: 'v<version>$<password>' so rehash-on-parameter-change can be tested."""

    def __init__(self, version: int = 1) -> None:
        self.version = version
        self.verified: list[str] = []

    def hash(self, password: str) -> str:
        return f"v{self.version}${password}"

    def verify(self, password_hash: str, password: str) -> bool:
        self.verified.append(password_hash)
        return password_hash.split("$", 1)[1] == password

    def needs_rehash(self, password_hash: str) -> bool:
        return not password_hash.startswith(f"v{self.version}$")


class MovableClock:
    def __init__(self, now: dt.datetime) -> None:
        self.current = now

    def now(self) -> dt.datetime:
        return self.current

    def today(self) -> dt.date:
        return self.current.date()


DUMMY_HASH = "v1$not-a-password-anyone-has"


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return FakeUnitOfWork()


@pytest.fixture
def hasher() -> FakeHasher:
    return FakeHasher()


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock(dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC))


@pytest.fixture
def limiter() -> MemoryAttemptLimiter:
    return MemoryAttemptLimiter(max_attempts=10)


@pytest.fixture
def tokens() -> HmacResetTokens:
    return HmacResetTokens("test-link-secret-0123456789")


@pytest.fixture
def bus(
    uow: FakeUnitOfWork,
    hasher: FakeHasher,
    clock: MovableClock,
    limiter: Any,
    tokens: Any,
) -> MessageBus:
    return MessageBus(
        lambda: uow,
        handlers.HANDLERS,
        {
            "hasher": hasher,
            "clock": clock,
            "limiter": limiter,
            "reset_limiter": MemoryAttemptLimiter(max_attempts=3),
            "tokens": tokens,
            "dummy_hash": DUMMY_HASH,
        },
    )
