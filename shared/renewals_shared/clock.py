"""One injectable clock (DESIGN.md section 10): every rule takes `today` from here, tests never sleep."""

from __future__ import annotations

import datetime as dt
import os
from typing import Protocol


class Clock(Protocol):
    def now(self) -> dt.datetime: ...

    def today(self) -> dt.date: ...


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    def today(self) -> dt.date:
        return self.now().date()


class FixedClock:
    def __init__(self, today: dt.date) -> None:
        self._today = today

    def now(self) -> dt.datetime:
        return dt.datetime.combine(self._today, dt.time(12, 0), tzinfo=dt.UTC)

    def today(self) -> dt.date:
        return self._today


def clock_from_env() -> Clock:
    """`RENEWALS_FIXED_TODAY=YYYY-MM-DD` pins the date of a whole system for demos and end-to-end tests."""
    fixed = os.environ.get("RENEWALS_FIXED_TODAY")
    return FixedClock(dt.date.fromisoformat(fixed)) if fixed else SystemClock()
