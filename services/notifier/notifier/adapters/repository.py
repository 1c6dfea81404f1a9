"""SQL behind the notifier's repository port (PostgreSQL: ON CONFLICT, FOR UPDATE, server-side cursors)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence

from renewals_shared.observability import TRACE_CONTEXT_KEY, current_correlation_id, trace_carrier
from sqlalchemy import Engine, and_, case, exists, func, literal, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from notifier.adapters.orm import email as email_table
from notifier.adapters.orm import license_projection, reminder
from notifier.domain.model import (
    ClaimDecision,
    DueReminder,
    Email,
    EmailStatus,
    EmailType,
    LicenseProjection,
    ScanWindow,
    decide_claim,
)
from notifier.service_layer.ports import Claim, NewReminder


def _traced(context: dict) -> dict:
    """The email remembers the work that caused it: its X-Correlation-ID header and the send's parent span."""
    carrier = trace_carrier()
    return {
        **context,
        "correlation_id": context.get("correlation_id") or current_correlation_id(),
        **({TRACE_CONTEXT_KEY: carrier} if carrier else {}),
    }


def _license_from_row(row: object) -> LicenseProjection:
    m = row._mapping  # type: ignore[attr-defined]
    return LicenseProjection(
        license_id=m["license_id"],
        product_sku=m["product_sku"],
        product_name=m["product_name"],
        licensee_name=m["licensee_name"],
        purchase_date=m["purchase_date"],
        maintenance_end=m["maintenance_end"],
        contact_email=m["contact_email"],
        currency=m["currency"],
        end_customer_email=m["end_customer_email"],
    )


def _email_from_row(row: object) -> Email:
    m = row._mapping  # type: ignore[attr-defined]
    return Email(
        id=m["id"],
        type=EmailType(m["type"]),
        recipient=m["recipient"],
        dedupe_key=m["dedupe_key"],
        context=dict(m["context"]),
        status=EmailStatus(m["status"]),
        attempts=m["attempts"],
        message_id=m["message_id"],
    )


class SqlRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # --- license projection -------------------------------------------------------------------------------
    def get_license(self, license_id: str) -> LicenseProjection | None:
        row = self.session.execute(
            select(license_projection).where(license_projection.c.license_id == license_id)
        ).first()
        return _license_from_row(row) if row else None

    def merge_license(self, license: LicenseProjection) -> None:
        """Atomic upsert: known facts win over missing ones, and the newest maintenance end wins (out of order)."""
        values = {
            "license_id": license.license_id,
            "product_sku": license.product_sku,
            "product_name": license.product_name,
            "licensee_name": license.licensee_name,
            "purchase_date": license.purchase_date,
            "maintenance_end": license.maintenance_end,
            "contact_email": license.contact_email,
            "currency": license.currency,
            "end_customer_email": license.end_customer_email,
        }
        stmt = insert(license_projection).values(**values)
        current = license_projection.c
        newer = stmt.excluded.maintenance_end >= current.maintenance_end
        stmt = stmt.on_conflict_do_update(
            index_elements=[current.license_id],
            set_={
                "product_sku": func.coalesce(stmt.excluded.product_sku, current.product_sku),
                "purchase_date": func.coalesce(stmt.excluded.purchase_date, current.purchase_date),
                "currency": func.coalesce(stmt.excluded.currency, current.currency),
                # names and contacts follow the newest cycle's event; an older event never overwrites them
                "product_name": case((newer, stmt.excluded.product_name), else_=current.product_name),
                "licensee_name": case((newer, stmt.excluded.licensee_name), else_=current.licensee_name),
                "contact_email": case((newer, stmt.excluded.contact_email), else_=current.contact_email),
                "end_customer_email": func.coalesce(
                    case((newer, stmt.excluded.end_customer_email), else_=None), current.end_customer_email
                ),
                "maintenance_end": func.greatest(current.maintenance_end, stmt.excluded.maintenance_end),
                "updated_at": func.now(),
            },
        )
        self.session.execute(stmt)

    # --- reminders and emails -----------------------------------------------------------------------------
    def add_reminders(self, reminders: Sequence[NewReminder]) -> set[tuple[str, dt.date, int]]:
        """Insert the batch; return the keys this transaction won (a racing scan gets an empty set)."""
        if not reminders:
            return set()
        rows = [
            {
                "license_id": r.license_id,
                "maintenance_end": r.maintenance_end,
                "stage": r.stage,
                "as_of": r.as_of,
                "link_id": r.link_id,
            }
            for r in reminders
        ]
        # executemany with RETURNING: compiled once, sent as batched multi-row INSERTs ("insertmanyvalues")
        stmt = (
            insert(reminder)
            .on_conflict_do_nothing(index_elements=["license_id", "maintenance_end", "stage"])
            .returning(reminder.c.license_id, reminder.c.maintenance_end, reminder.c.stage)
        )
        return {(row[0], row[1], row[2]) for row in self.session.execute(stmt, rows)}

    def add_email(self, email: Email) -> int | None:
        stmt = (
            insert(email_table)
            .values(
                type=str(email.type),
                recipient=email.recipient,
                dedupe_key=email.dedupe_key,
                context=_traced(email.context),
                status=str(EmailStatus.PENDING),
            )
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
            .returning(email_table.c.id)
        )
        return self.session.execute(stmt).scalar()

    def add_emails(self, emails: Sequence[Email]) -> list[int]:
        """One multi-row INSERT for a scan batch; returns the ids of the rows inserted (duplicates skipped)."""
        if not emails:
            return []
        rows = [
            {
                "type": str(e.type),
                "recipient": e.recipient,
                "dedupe_key": e.dedupe_key,
                "context": _traced(e.context),
                "status": str(EmailStatus.PENDING),
            }
            for e in emails
        ]
        stmt = insert(email_table).on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(email_table.c.id)
        return list(self.session.execute(stmt, rows).scalars())

    def get_email(self, email_id: int) -> Email | None:
        row = self.session.execute(select(email_table).where(email_table.c.id == email_id)).first()
        return _email_from_row(row) if row else None

    def get_email_by_key(self, dedupe_key: str) -> Email | None:
        row = self.session.execute(select(email_table).where(email_table.c.dedupe_key == dedupe_key)).first()
        return _email_from_row(row) if row else None

    def claim_email(self, email_id: int, now: dt.datetime, lease: dt.timedelta) -> Claim:
        row = self.session.execute(select(email_table).where(email_table.c.id == email_id).with_for_update()).first()
        if row is None:
            return Claim(ClaimDecision.MISSING)
        m = row._mapping
        decision = decide_claim(EmailStatus(m["status"]), m["lease_expires_at"], m["data_started_at"], now)
        if decision == ClaimDecision.NOW_UNCERTAIN:
            self.finish(email_id, EmailStatus.UNCERTAIN, "attempt died after SMTP DATA started; not resent")
        if decision != ClaimDecision.SEND:
            return Claim(decision, _email_from_row(row))
        self.session.execute(
            update(email_table)
            .where(email_table.c.id == email_id)
            .values(
                status=str(EmailStatus.SENDING),
                attempts=email_table.c.attempts + 1,
                lease_expires_at=now + lease,
                data_started_at=None,
                updated_at=now,
            )
        )
        claimed = _email_from_row(row)
        claimed.status = EmailStatus.SENDING
        claimed.attempts += 1
        return Claim(decision, claimed)

    def mark_data_started(self, email_id: int, now: dt.datetime) -> None:
        self.session.execute(
            update(email_table).where(email_table.c.id == email_id).values(data_started_at=now, updated_at=now)
        )

    def mark_sent(self, email_id: int, message_id: str, now: dt.datetime) -> None:
        self.session.execute(
            update(email_table)
            .where(email_table.c.id == email_id)
            .values(
                status=str(EmailStatus.SENT),
                message_id=message_id,
                sent_at=now,
                updated_at=now,
                lease_expires_at=None,
                last_error=None,
            )
        )

    def mark_attempt_failed(self, email_id: int, error: str, next_attempt_at: dt.datetime) -> None:
        self.session.execute(
            update(email_table)
            .where(email_table.c.id == email_id, email_table.c.status == str(EmailStatus.SENDING))
            .values(
                status=str(EmailStatus.PENDING),
                last_error=error[:2000],
                next_attempt_at=next_attempt_at,
                lease_expires_at=None,
                data_started_at=None,
                updated_at=func.now(),
            )
        )

    def finish(self, email_id: int, status: str, reason: str) -> None:
        self.session.execute(
            update(email_table)
            .where(email_table.c.id == email_id)
            .values(status=str(status), last_error=reason[:2000], lease_expires_at=None, updated_at=func.now())
        )

    def emails_to_sweep(self, now: dt.datetime, grace: dt.timedelta, limit: int) -> list[int]:
        """Pending rows nobody enqueued (crash between commit and enqueue, retries exhausted) and dead attempts."""
        c = email_table.c
        stmt = (
            select(c.id)
            .where(
                or_(
                    and_(c.status == str(EmailStatus.PENDING), c.next_attempt_at <= now - grace),
                    and_(c.status == str(EmailStatus.SENDING), c.lease_expires_at <= now),
                )
            )
            .order_by(c.next_attempt_at)
            .limit(limit)
        )
        return list(self.session.execute(stmt).scalars())

    def resend(self, email_id: int) -> bool:
        """Operations' decision for an uncertain or failed email: send it again (same Message-ID)."""
        result = self.session.execute(
            update(email_table)
            .where(email_table.c.id == email_id, email_table.c.status.in_(["uncertain", "failed", "cancelled"]))
            .values(status="pending", data_started_at=None, lease_expires_at=None, next_attempt_at=func.now())
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def emails_with_status(self, status: str, limit: int = 100) -> list[Email]:
        rows = self.session.execute(
            select(email_table).where(email_table.c.status == status).order_by(email_table.c.id).limit(limit)
        )
        return [_email_from_row(row) for row in rows]


def due_stage_expression(as_of: dt.date, stages: Sequence[int]):  # type: ignore[no-untyped-def]
    """SQL for `latest_due_stage`: the largest stage s with E + s days <= as_of."""
    end = license_projection.c.maintenance_end
    whens = [(end <= as_of - dt.timedelta(days=stage), literal(stage)) for stage in sorted(stages, reverse=True)]
    return case(*whens, else_=None)


class SqlDueLicenseReader:
    """Streams the licenses whose latest due stage has no reminder yet, in batches, from a server-side cursor.

    It reads on its own connection so the scan can commit each batch of reminders on another one.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def query(self, as_of: dt.date, stages: Sequence[int], window: ScanWindow):  # type: ignore[no-untyped-def]
        """Licenses in the window whose latest due stage (or a later one) has no reminder for their current E."""
        lp = license_projection.c
        stage = due_stage_expression(as_of, stages).label("stage")
        inner = (
            select(license_projection, stage)
            .where(
                lp.maintenance_end >= window.earliest_end,
                lp.maintenance_end <= window.latest_end,
                lp.product_sku.is_not(None),
                lp.currency.is_not(None),
                lp.purchase_date.is_not(None),
            )
            .subquery()
        )
        return select(inner).where(
            ~exists().where(
                reminder.c.license_id == inner.c.license_id,
                reminder.c.maintenance_end == inner.c.maintenance_end,
                reminder.c.stage >= inner.c.stage,
            )
        )

    def due(
        self, as_of: dt.date, stages: Sequence[int], window: ScanWindow, batch_size: int
    ) -> Iterator[list[DueReminder]]:
        stmt = self.query(as_of, stages, window)
        with self.engine.connect() as connection:
            result = connection.execution_options(stream_results=True, yield_per=batch_size).execute(stmt)
            for partition in result.partitions(batch_size):
                yield [DueReminder(_license_from_row(row), row._mapping["stage"]) for row in partition]
