"""The SQL adapter on real PostgreSQL: out-of-order projection, the streaming due query, unique keys, sweep."""

from __future__ import annotations

import datetime as dt

from notifier.adapters.repository import SqlDueLicenseReader
from notifier.bootstrap import bootstrap
from notifier.config import NotifierConfig
from notifier.domain.model import Email, EmailStatus, EmailType, LicenseProjection, ScanWindow
from notifier.service_layer.ports import NewReminder
from sqlalchemy import text

STAGES = (-60, -30, -7, 0, 14, 30)
AS_OF = dt.date(2026, 6, 1)


def lic(license_id: str, end: dt.date, **kw) -> LicenseProjection:  # type: ignore[no-untyped-def]
    values = {
        "license_id": license_id,
        "product_sku": "PRO",
        "product_name": "Widget Pro",
        "licensee_name": "Acme",
        "purchase_date": dt.date(2020, end.month, min(end.day, 28)),
        "maintenance_end": end,
        "contact_email": "it@acme.example",
        "currency": "EUR",
    }
    values.update(kw)
    return LicenseProjection(**values)


def test_projection_merge_is_out_of_order_safe(service_env) -> None:  # type: ignore[no-untyped-def]
    notifier = bootstrap(NotifierConfig.from_env(service_env("notifier")), enqueue=lambda ids: None)
    with notifier.uow_factory() as uow:
        uow.repo.merge_license(
            lic(
                "L1",
                dt.date(2027, 7, 1),
                product_sku=None,
                currency=None,
                purchase_date=None,
                end_customer_email="eve@acme.example",
                licensee_name="Acme New",
            )
        )
        uow.repo.merge_license(lic("L1", dt.date(2026, 7, 1), licensee_name="Acme Old"))
        uow.commit()
    with notifier.uow_factory() as uow:
        got = uow.repo.get_license("L1")
    assert got is not None
    assert got.maintenance_end == dt.date(2027, 7, 1)
    assert (got.product_sku, got.currency, got.licensee_name) == ("PRO", "EUR", "Acme New")
    assert got.end_customer_email == "eve@acme.example"


def test_due_query_streams_latest_stage_without_sent_ones(service_env) -> None:  # type: ignore[no-untyped-def]
    notifier = bootstrap(NotifierConfig.from_env(service_env("notifier")), enqueue=lambda ids: None)
    ends = {
        "in30": AS_OF + dt.timedelta(days=30),
        "in61": AS_OF + dt.timedelta(days=61),
        "lapsed20": AS_OF - dt.timedelta(days=20),
        "lapsed400": AS_OF - dt.timedelta(days=400),
        "sent": AS_OF + dt.timedelta(days=7),
    }
    with notifier.uow_factory() as uow:
        for license_id, end in ends.items():
            uow.repo.merge_license(lic(license_id, end))
        for n in range(25):
            uow.repo.merge_license(lic(f"bulk{n:02}", AS_OF))
        uow.repo.add_reminders([NewReminder("sent", ends["sent"], -7, AS_OF, "l")])
        uow.commit()
    reader = SqlDueLicenseReader(notifier.engine)
    batches = list(reader.due(AS_OF, STAGES, ScanWindow.for_scan(AS_OF, STAGES, 365), 10))
    assert [len(b) for b in batches] == [10, 10, 7]
    due = {d.license.license_id: d.stage for batch in batches for d in batch}
    assert due["in30"] == -30 and due["lapsed20"] == 14 and due["bulk00"] == 0
    assert "in61" not in due and "lapsed400" not in due and "sent" not in due


def test_unique_keys_and_sweep(service_env) -> None:  # type: ignore[no-untyped-def]
    notifier = bootstrap(NotifierConfig.from_env(service_env("notifier")), enqueue=lambda ids: None)
    with notifier.uow_factory() as uow:
        r = NewReminder("L1", AS_OF, 0, AS_OF, "l")
        assert uow.repo.add_reminders([r]) == {("L1", AS_OF, 0)}
        assert uow.repo.add_reminders([r]) == set()
        first = uow.repo.add_email(Email(EmailType.ORDER_CONFIRMATION, "a@b.example", "order_confirmation:R-1", {}))
        assert first is not None
        assert (
            uow.repo.add_email(Email(EmailType.ORDER_CONFIRMATION, "a@b.example", "order_confirmation:R-1", {})) is None
        )
        uow.session.execute(text("UPDATE email SET next_attempt_at = now() - interval '5 minutes'"))
        uow.commit()
    now = dt.datetime.now(dt.UTC)
    with notifier.uow_factory() as uow:
        assert uow.repo.emails_to_sweep(now, dt.timedelta(seconds=60), 10) == [first]
        claim = uow.repo.claim_email(first, now, dt.timedelta(seconds=30))
        uow.commit()
    assert claim.email is not None and claim.email.status == EmailStatus.SENDING and claim.email.attempts == 1
    with notifier.uow_factory() as uow:
        assert uow.repo.emails_to_sweep(now, dt.timedelta(seconds=60), 10) == []  # lease running
        assert uow.repo.emails_to_sweep(now + dt.timedelta(seconds=31), dt.timedelta(seconds=60), 10) == [first]
