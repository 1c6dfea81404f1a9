"""The expiry scan: one reminder per (license, cycle E, stage), only the latest due stage, never a burst."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from renewals_shared.observability import get_logger

from notifier.domain.dates import next_maintenance_end
from notifier.domain.model import DueReminder, Email, EmailType, ScanWindow, stage_name
from notifier.service_layer.ports import DueLicenseReader, IssuedLink, LinkIssuer, LinkRejected, NewReminder, UnitOfWork

log = get_logger(__name__)


@dataclass
class ScanResult:
    as_of: dt.date
    reminders_queued: int = 0
    skipped: int = 0


def reminder_email(due: DueReminder, link: IssuedLink, as_of: dt.date) -> Email:
    lic = due.license
    assert lic.purchase_date is not None
    # the new end a one-year extension bought on the reminder's day would give (lapsed: counted past today)
    new_end = next_maintenance_end(lic.purchase_date, lic.maintenance_end, max(as_of, lic.maintenance_end))
    context = {
        "license_id": lic.license_id,
        "product_sku": lic.product_sku,
        "product_name": lic.product_name,
        "licensee_name": lic.licensee_name,
        "currency": lic.currency,
        "purchase_date": lic.purchase_date.isoformat(),
        "maintenance_end": lic.maintenance_end.isoformat(),
        "stage": due.stage,
        "stage_name": stage_name(due.stage),
        "new_maintenance_end": new_end.isoformat(),
        "link_id": link.link_id,  # never the URL: it carries the raw token; it is re-issued at send time
        "customer_discount_bp": link.customer_discount_bp,
        "expires_on": link.expires_on.isoformat(),
        "as_of": as_of.isoformat(),
    }
    return Email(EmailType.EXPIRY_REMINDER, lic.contact_email, due.dedupe_key, context)


def run_expiry_scan(
    as_of: dt.date,
    *,
    reader: DueLicenseReader,
    uow_factory: Callable[[], UnitOfWork],
    links: LinkIssuer,
    stages: Sequence[int],
    max_lapse_days: int,
    batch_size: int = 1000,
    on_committed: Callable[[list[int]], None] = lambda ids: None,
) -> ScanResult:
    """Stream due licenses in batches; per batch: issue links (idempotent, outside any transaction), then in one
    transaction insert the reminders (ON CONFLICT DO NOTHING: a racing scan wins nothing) and an email for each
    reminder this scan won. `on_committed` gets each batch's email ids after its commit (to enqueue them)."""
    result = ScanResult(as_of=as_of)
    window = ScanWindow.for_scan(as_of, stages, max_lapse_days)
    for batch in reader.due(as_of, stages, window, batch_size):
        issued: list[tuple[DueReminder, IssuedLink]] = []
        for due in batch:
            try:
                issued.append((due, links.issue(due.license)))
            except LinkRejected as exc:
                result.skipped += 1
                log.warning("no link for license; reminder skipped", license_id=due.license.license_id, error=str(exc))
        with uow_factory() as uow:
            won = uow.repo.add_reminders(
                [
                    NewReminder(due.license.license_id, due.license.maintenance_end, due.stage, as_of, link.link_id)
                    for due, link in issued
                ]
            )
            batch_ids = uow.repo.add_emails(
                [
                    reminder_email(due, link, as_of)
                    for due, link in issued
                    if (due.license.license_id, due.license.maintenance_end, due.stage) in won
                ]
            )
            uow.commit()
        result.reminders_queued += len(batch_ids)
        if batch_ids:
            on_committed(batch_ids)
    log.info(
        "expiry scan finished",
        as_of=as_of.isoformat(),
        reminders_queued=result.reminders_queued,
        skipped=result.skipped,
    )
    return result
