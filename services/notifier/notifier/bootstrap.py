"""Wires the notifier: real adapters by default, fakes where a test passes them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from renewals_shared.clock import Clock, clock_from_env
from renewals_shared.db import make_engine
from renewals_shared.events import Event
from renewals_shared.observability import TRACE_CONTEXT_KEY, correlation_id_var, span_from
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from notifier.adapters.repository import SqlDueLicenseReader, SqlRepository
from notifier.adapters.reseller_client import ResellerServiceResets
from notifier.adapters.smtp import SmtpMailer
from notifier.adapters.templates import JinjaRenderer
from notifier.adapters.token_client import TokenServiceLinks
from notifier.config import NotifierConfig
from notifier.service_layer import delivery, scan
from notifier.service_layer.handlers import EVENT_HANDLERS, EventHandler
from notifier.service_layer.ports import DueLicenseReader, LinkIssuer, Mailer, Renderer, ResetUrls, UnitOfWork
from notifier.service_layer.unit_of_work import SqlAlchemyUnitOfWork

Enqueue = Callable[[list[int]], None]
PENDING_IDS = "notifier_email_ids"


@dataclass
class Notifier:
    config: NotifierConfig
    engine: Engine
    uow_factory: Callable[[], UnitOfWork]
    reader: DueLicenseReader
    links: LinkIssuer
    resets: ResetUrls
    renderer: Renderer
    mailer: Mailer
    clock: Clock
    enqueue: Enqueue

    @property
    def mail_settings(self) -> delivery.MailSettings:
        return delivery.MailSettings(
            mail_from=self.config.mail_from,
            support_email=self.config.support_email,
            public_base_url=self.config.settings.public_base_url,
            message_id_domain=self.config.message_id_domain,
            sending_lease=dt.timedelta(seconds=self.config.sending_lease_seconds),
        )

    def scan(self, as_of: dt.date | None = None) -> scan.ScanResult:
        return scan.run_expiry_scan(
            as_of or self.clock.today(),
            reader=self.reader,
            uow_factory=self.uow_factory,
            links=self.links,
            stages=self.config.reminder_stages,
            max_lapse_days=self.config.settings.max_lapse_days,
            batch_size=self.config.scan_batch_size,
            on_committed=self.enqueue,
        )

    def deliver(self, email_id: int, retry_at: Callable[[int], dt.datetime] | None = None) -> delivery.Outcome:
        """In the trace and under the correlation id of the work that recorded the email (kept in its context)."""
        with self.uow_factory() as uow:
            recorded = uow.repo.get_email(email_id)
        context = recorded.context if recorded is not None else {}
        token = correlation_id_var.set(context.get("correlation_id"))
        try:
            with span_from(context.get(TRACE_CONTEXT_KEY), f"send email {recorded.type if recorded else ''}".strip()):
                return delivery.deliver_email(
                    email_id,
                    uow_factory=self.uow_factory,
                    renderer=self.renderer,
                    mailer=self.mailer,
                    links=self.links,
                    resets=self.resets,
                    settings=self.mail_settings,
                    retry_at=retry_at,
                )
        finally:
            correlation_id_var.reset(token)

    def sweep(self, limit: int = 500) -> list[int]:
        """Re-enqueue emails nobody is working on (the safety net behind enqueue-after-commit)."""
        with self.uow_factory() as uow:
            ids = uow.repo.emails_to_sweep(
                delivery.utc_now(), dt.timedelta(seconds=self.config.pending_grace_seconds), limit
            )
        if ids:
            self.enqueue(ids)
        return ids

    def event_handlers(self) -> dict[str, Callable[[Event, Session], None]]:
        """Handlers for renewals_shared.worker.run_worker: each runs in the consumer's transaction; the emails
        it records are enqueued right after that transaction commits (and dropped if it rolls back)."""
        return {event_type: self._bind(handler) for event_type, handler in EVENT_HANDLERS.items()}

    def _bind(self, handler: EventHandler) -> Callable[[Event, Session], None]:
        def handle(evt: Event, session: Session) -> None:
            ids = handler(evt, SqlRepository(session), self.config.support_email)
            if ids:
                self._enqueue_after_commit(session, ids)

        handle.__name__ = handler.__name__
        return handle

    def _enqueue_after_commit(self, session: Session, ids: list[int]) -> None:
        pending: list[int] | None = session.info.get(PENDING_IDS)
        if pending is None:
            pending = session.info[PENDING_IDS] = []

            def after_commit(committed: Session) -> None:
                ready = committed.info.pop(PENDING_IDS, [])
                if ready:
                    self.enqueue(ready)

            def after_rollback(rolled_back: Session) -> None:
                rolled_back.info.pop(PENDING_IDS, None)

            event.listen(session, "after_commit", after_commit, once=True)
            event.listen(session, "after_soft_rollback", after_rollback, once=True)
        pending.extend(ids)


def celery_enqueue(ids: list[int]) -> None:
    from notifier.entrypoints.celery_app import enqueue_emails

    enqueue_emails(ids)


def bootstrap(
    config: NotifierConfig | None = None,
    *,
    engine: Engine | None = None,
    links: LinkIssuer | None = None,
    resets: ResetUrls | None = None,
    mailer: Mailer | None = None,
    renderer: Renderer | None = None,
    clock: Clock | None = None,
    enqueue: Enqueue | None = None,
    **_: Any,
) -> Notifier:
    config = config or NotifierConfig.from_env()
    settings = config.settings
    assert settings.database_url is not None
    engine = engine or make_engine(settings.database_url)
    return Notifier(
        config=config,
        engine=engine,
        uow_factory=lambda: SqlAlchemyUnitOfWork(engine),
        reader=SqlDueLicenseReader(engine),
        links=links or TokenServiceLinks(settings.token_service_url, settings.service_token),
        resets=resets or ResellerServiceResets(settings.reseller_service_url, settings.service_token),
        renderer=renderer or JinjaRenderer(),
        mailer=mailer or SmtpMailer(settings.smtp_url, timeout=config.smtp_timeout_seconds),
        clock=clock or clock_from_env(),
        enqueue=enqueue or celery_enqueue,
    )
