"""The expiry scan against fakes: one reminder per (license, E, stage), latest due stage only, stops when E changes."""

from __future__ import annotations

import datetime as dt

import pytest
from notifier.domain.model import EmailType
from notifier.service_layer.ports import TransientDeliveryError
from notifier.service_layer.scan import run_expiry_scan

STAGES = (-60, -30, -7, 0, 14, 30)
TODAY = dt.date(2026, 6, 1)


def scan(fakes, as_of: dt.date = TODAY, batch_size: int = 2):  # type: ignore[no-untyped-def]
    enqueued: list[int] = []
    result = run_expiry_scan(
        as_of,
        reader=fakes.reader,
        uow_factory=lambda: fakes.uow,
        links=fakes.links,
        stages=STAGES,
        max_lapse_days=365,
        batch_size=batch_size,
        on_committed=enqueued.extend,
    )
    return result, enqueued


def test_license_due_in_30_days_gets_one_30_day_reminder(fakes, license_factory) -> None:  # type: ignore[no-untyped-def]
    fakes.repo.merge_license(license_factory(end=TODAY + dt.timedelta(days=30)))
    result, enqueued = scan(fakes)
    assert result.reminders_queued == 1
    (email,) = fakes.repo.emails.values()
    assert email.type == EmailType.EXPIRY_REMINDER
    assert email.dedupe_key == "reminder:lic-1:2026-07-01:-30"
    assert email.recipient == "it@acme.example"
    assert email.context["customer_discount_bp"] == 5000
    assert email.context["new_maintenance_end"] == "2027-07-01"
    assert "link_url" not in email.context and "tok-" not in str(email.context)  # no raw token stored
    assert enqueued == [email.id]
    # the next day's scan sends nothing more for the same stage
    result, enqueued = scan(fakes, TODAY + dt.timedelta(days=1))
    assert result.reminders_queued == 0 and enqueued == []


def test_missed_days_catch_up_with_the_latest_stage_only(fakes, license_factory) -> None:  # type: ignore[no-untyped-def]
    fakes.repo.merge_license(license_factory(end=TODAY - dt.timedelta(days=20)))  # 0 and 14 are both past
    result, _ = scan(fakes)
    assert result.reminders_queued == 1
    assert [k[2] for k in fakes.repo.reminders] == [14]


def test_earlier_stage_never_follows_a_later_one(fakes, license_factory) -> None:  # type: ignore[no-untyped-def]
    fakes.repo.merge_license(license_factory(end=TODAY + dt.timedelta(days=7)))
    scan(fakes)  # -7
    result, _ = scan(fakes, TODAY - dt.timedelta(days=30))  # an on-demand scan with an older as_of: -30 is "due"
    assert result.reminders_queued == 0


def test_reminders_stop_once_the_end_date_changes(fakes, license_factory) -> None:  # type: ignore[no-untyped-def]
    fakes.repo.merge_license(license_factory(end=TODAY + dt.timedelta(days=30)))
    scan(fakes)
    fakes.repo.merge_license(license_factory(end=dt.date(2027, 7, 1)))  # extended by a year
    for day in range(60):
        result, _ = scan(fakes, TODAY + dt.timedelta(days=day))
        assert result.reminders_queued == 0
    assert len(fakes.repo.emails) == 1


def test_same_link_for_every_stage_of_a_cycle(fakes, license_factory) -> None:  # type: ignore[no-untyped-def]
    fakes.repo.merge_license(license_factory(end=TODAY + dt.timedelta(days=60)))
    for day in (0, 30, 53, 60):
        scan(fakes, TODAY + dt.timedelta(days=day))
    assert sorted(k[2] for k in fakes.repo.reminders) == [-60, -30, -7, 0]
    assert {r.link_id for r in fakes.repo.reminders.values()} == {"link-lic-1-2026-07-31"}


def test_licenses_lapsed_too_long_or_not_yet_due_are_not_scanned(fakes, license_factory) -> None:  # type: ignore[no-untyped-def]
    fakes.repo.merge_license(license_factory("old", end=TODAY - dt.timedelta(days=366)))
    fakes.repo.merge_license(license_factory("far", end=TODAY + dt.timedelta(days=61)))
    result, _ = scan(fakes)
    assert result.reminders_queued == 0
    assert fakes.links.calls == []


def test_a_rejected_link_skips_that_license_only(fakes, license_factory) -> None:  # type: ignore[no-untyped-def]
    for n in range(5):
        fakes.repo.merge_license(license_factory(f"lic-{n}", end=TODAY))
    fakes.links.rejected.add("lic-2")
    result, enqueued = scan(fakes)
    assert result.reminders_queued == 4 and result.skipped == 1 and len(enqueued) == 4


def test_token_service_down_aborts_without_recording_a_reminder(fakes, license_factory) -> None:  # type: ignore[no-untyped-def]
    fakes.repo.merge_license(license_factory(end=TODAY))
    fakes.links.down = True
    with pytest.raises(TransientDeliveryError):
        scan(fakes)
    assert fakes.repo.reminders == {} and fakes.repo.emails == {}
    fakes.links.down = False
    result, _ = scan(fakes)
    assert result.reminders_queued == 1
