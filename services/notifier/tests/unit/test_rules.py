"""Reminder stages, the scan window, the claim policy, dates and Message-IDs: the notifier's rules as tables."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st
from notifier.domain.dates import add_years, next_maintenance_end
from notifier.domain.model import (
    ClaimDecision,
    EmailStatus,
    ScanWindow,
    decide_claim,
    latest_due_stage,
    message_id_for,
    parse_stages,
)

STAGES = (-60, -30, -7, 0, 14, 30)
E = dt.date(2026, 7, 1)


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        (E - dt.timedelta(days=61), None),
        (E - dt.timedelta(days=60), -60),
        (E - dt.timedelta(days=31), -60),
        (E - dt.timedelta(days=30), -30),
        (E - dt.timedelta(days=8), -30),
        (E - dt.timedelta(days=7), -7),
        (E, 0),
        (E + dt.timedelta(days=13), 0),
        (E + dt.timedelta(days=14), 14),
        (E + dt.timedelta(days=30), 30),
        (E + dt.timedelta(days=300), 30),
    ],
)
def test_latest_due_stage(as_of: dt.date, expected: int | None) -> None:
    assert latest_due_stage(E, as_of, STAGES) == expected


@given(st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2090, 1, 1)), st.integers(-400, 400))
def test_latest_due_stage_is_due_and_no_later_stage_is(end: dt.date, offset: int) -> None:
    as_of = end + dt.timedelta(days=offset)
    stage = latest_due_stage(end, as_of, STAGES)
    if stage is None:
        assert all(end + dt.timedelta(days=s) > as_of for s in STAGES)
    else:
        assert end + dt.timedelta(days=stage) <= as_of
        assert all(end + dt.timedelta(days=s) > as_of for s in STAGES if s > stage)


def test_scan_window_spans_earliest_stage_to_max_lapse() -> None:
    window = ScanWindow.for_scan(dt.date(2026, 5, 2), STAGES, 365)
    assert window.latest_end == dt.date(2026, 7, 1)  # -60 days stage
    assert window.earliest_end == dt.date(2025, 5, 2)


def test_parse_stages_sorts_and_rejects_garbage() -> None:
    assert parse_stages("30, -60,0,-7,14,-30") == STAGES
    with pytest.raises(ValueError):
        parse_stages("a,b")
    with pytest.raises(ValueError):
        parse_stages("")


NOW = dt.datetime(2026, 7, 1, 12, tzinfo=dt.UTC)
LATER = NOW + dt.timedelta(minutes=5)
EARLIER = NOW - dt.timedelta(minutes=5)


@pytest.mark.parametrize(
    ("status", "lease", "data_started", "expected"),
    [
        (None, None, None, ClaimDecision.MISSING),
        (EmailStatus.PENDING, None, None, ClaimDecision.SEND),
        (EmailStatus.SENDING, LATER, None, ClaimDecision.BUSY),
        (EmailStatus.SENDING, LATER, EARLIER, ClaimDecision.BUSY),
        (EmailStatus.SENDING, EARLIER, None, ClaimDecision.SEND),  # died before DATA: safe to retry
        (EmailStatus.SENDING, EARLIER, EARLIER, ClaimDecision.NOW_UNCERTAIN),  # may have been accepted
        (EmailStatus.SENT, None, None, ClaimDecision.ALREADY_DONE),
        (EmailStatus.CANCELLED, None, None, ClaimDecision.ALREADY_DONE),
        (EmailStatus.UNCERTAIN, None, None, ClaimDecision.ALREADY_DONE),
        (EmailStatus.FAILED, None, None, ClaimDecision.ALREADY_DONE),
    ],
)
def test_claim_policy(status, lease, data_started, expected) -> None:  # type: ignore[no-untyped-def]
    assert decide_claim(status, lease, data_started, NOW) == expected


@pytest.mark.parametrize(
    ("purchase", "end", "today", "expected"),
    [
        (dt.date(2020, 3, 15), dt.date(2026, 3, 15), dt.date(2026, 2, 1), dt.date(2027, 3, 15)),
        (dt.date(2020, 2, 29), dt.date(2026, 2, 28), dt.date(2026, 1, 1), dt.date(2027, 2, 28)),
        (dt.date(2020, 2, 29), dt.date(2027, 2, 28), dt.date(2027, 1, 1), dt.date(2028, 2, 29)),
        # lapsed: the smallest P + m years after today, m >= n + 1
        (dt.date(2020, 3, 15), dt.date(2026, 3, 15), dt.date(2027, 4, 1), dt.date(2028, 3, 15)),
    ],
)
def test_next_maintenance_end_is_anchored_on_purchase(purchase, end, today, expected) -> None:  # type: ignore[no-untyped-def]
    assert next_maintenance_end(purchase, end, today) == expected


def test_add_years_maps_feb_29() -> None:
    assert add_years(dt.date(2024, 2, 29), 1) == dt.date(2025, 2, 28)
    assert add_years(dt.date(2024, 2, 29), 4) == dt.date(2028, 2, 29)


def test_message_id_is_deterministic_per_dedupe_key() -> None:
    a = message_id_for("order_confirmation:R-1", "renewals.example")
    assert a == message_id_for("order_confirmation:R-1", "renewals.example")
    assert a != message_id_for("order_confirmation:R-2", "renewals.example")
    assert a.startswith("<") and a.endswith("@renewals.example>")
