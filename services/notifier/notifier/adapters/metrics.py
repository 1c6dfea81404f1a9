"""Prometheus view of the email log, read from the database at scrape time (workers run in other processes)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from renewals_shared.observability import register_collector
from sqlalchemy import Engine, func, select

from notifier.adapters.orm import email, license_projection
from notifier.domain.model import EmailStatus


class EmailLogCollector(Collector):
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[GaugeMetricFamily]:
        by_status = GaugeMetricFamily(
            "renewals_notifier_emails", "Emails in the email log by status", labels=["status"]
        )
        oldest = GaugeMetricFamily("renewals_notifier_oldest_unsent_age_seconds", "Age of the oldest pending email")
        licenses = GaugeMetricFamily("renewals_notifier_licenses", "Licenses in the notifier's projection")
        try:
            with self.engine.connect() as connection:
                counts: dict[str, int] = dict(
                    connection.execute(select(email.c.status, func.count()).group_by(email.c.status)).all()
                )
                age = connection.execute(
                    select(func.extract("epoch", func.now() - func.min(email.c.created_at))).where(
                        email.c.status.in_(["pending", "sending"])
                    )
                ).scalar()
                total = connection.execute(select(func.count()).select_from(license_projection)).scalar()
        except Exception:  # noqa: BLE001 - a scrape never fails because the database is down; readiness says so
            return
        for status in EmailStatus:
            by_status.add_metric([str(status)], counts.get(str(status), 0))
        oldest.add_metric([], float(age or 0))
        licenses.add_metric([], total or 0)
        yield by_status
        yield oldest
        yield licenses


_registered: EmailLogCollector | None = None


def register_email_metrics(engine: Engine) -> None:
    """Once per process (the app factory may run more than once, e.g. in tests): the newest engine wins."""
    global _registered
    if _registered is None:
        _registered = EmailLogCollector(engine)
        register_collector(_registered)  # exposed in prometheus_client multiprocess mode too
    else:
        _registered.engine = engine
