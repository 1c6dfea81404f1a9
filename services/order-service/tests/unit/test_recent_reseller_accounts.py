"""Quotes read reseller accounts through a short-lived per-process memory; orders never do."""

from __future__ import annotations

from types import SimpleNamespace

from order_service.adapters.reseller_client import RecentResellerAccounts
from order_service.domain.model import ResellerAccount


class CountingAccounts:
    def __init__(self, fakes: SimpleNamespace) -> None:
        self.fakes = fakes
        self.reads: list[str] = []

    def get_account(self, reseller_id: str) -> ResellerAccount | None:
        self.reads.append(reseller_id)
        return self.fakes.resellers.get_account(reseller_id)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_an_account_is_read_again_only_once_its_seconds_are_over(fakes: SimpleNamespace) -> None:
    fakes.resellers.add("r-1", discount_bp=1000)
    accounts, clock = CountingAccounts(fakes), Clock()
    recent = RecentResellerAccounts(accounts, 5, now=clock)

    first = recent.get_account("r-1")
    fakes.resellers.add("r-1", discount_bp=2000)  # changed at reseller-service
    clock.now += 4.9
    within = recent.get_account("r-1")
    clock.now += 0.2
    after = recent.get_account("r-1")

    assert (first.discount_bp, within.discount_bp, after.discount_bp) == (1000, 1000, 2000)  # type: ignore[union-attr]
    assert accounts.reads == ["r-1", "r-1"]


def test_an_unknown_account_is_remembered_as_unknown(fakes: SimpleNamespace) -> None:
    accounts = CountingAccounts(fakes)
    recent = RecentResellerAccounts(accounts, 5, now=Clock())

    assert recent.get_account("nobody") is None and recent.get_account("nobody") is None
    assert accounts.reads == ["nobody"]


def test_the_least_recently_read_account_goes_first_when_full(fakes: SimpleNamespace) -> None:
    for name in ("a", "b", "c"):
        fakes.resellers.add(name)
    accounts = CountingAccounts(fakes)
    recent = RecentResellerAccounts(accounts, 60, max_accounts=2, now=Clock())

    for name in ("a", "b", "a", "c", "a", "b"):  # c pushes out b (a was read after b), then b pushes out c
        recent.get_account(name)

    assert accounts.reads == ["a", "b", "c", "b"]
