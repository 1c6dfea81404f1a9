"""Celery app of the notifier: the send_email task, the pending-email sweep and the expiry scan.

`celery -A notifier.entrypoints.celery_app worker --concurrency 2` (the app is built lazily from the environment
on first access, so importing this module in tests reads nothing).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from celery import Celery, Task, signals
from celery.schedules import crontab
from celery.utils.time import get_exponential_backoff_interval
from renewals_shared.config import env_int
from renewals_shared.observability import configure_logging, get_logger, serve_metrics_from_env

from notifier.config import NotifierConfig
from notifier.service_layer.delivery import utc_now
from notifier.service_layer.ports import TransientDeliveryError

log = get_logger(__name__)

SEND_EMAIL = "notifier.send_email"
SWEEP = "notifier.sweep_pending_emails"
EXPIRY_SCAN = "notifier.expiry_scan"


def celery_config(config: NotifierConfig) -> dict[str, Any]:
    s = config.settings
    amqp = s.broker_url.startswith(("amqp", "pyamqp"))
    conf: dict[str, Any] = {
        "broker_url": s.broker_url,
        "broker_connection_retry_on_startup": True,
        "task_ignore_result": True,
        "task_serializer": "json",
        "accept_content": ["json"],
        "timezone": "UTC",
        "enable_utc": True,
        "task_default_queue": config.queue_name,
        "task_default_exchange": f"{s.bus_namespace}.notifier.tasks",
        # topic: on quorum queues countdown/ETA retries use RabbitMQ's native delayed delivery
        "task_default_exchange_type": "topic",
        "task_default_routing_key": config.queue_name,
        # Remote control and monitoring events per deployment: two deployments sharing a broker (or a vhost in
        # tests) must not share the workers' exclusive `<node>.<exchange>.pidbox` queues.
        "control_exchange": f"{s.bus_namespace}.notifier.control",
        "event_exchange": f"{s.bus_namespace}.notifier.events",
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        # A broker blip must not kill a task in the middle of an SMTP send: that is the one window where an email
        # becomes `uncertain`. The redelivered copy finds the row `sending` (busy) or `sent` and does nothing, so
        # letting the first run finish costs no duplicate; its ack on the dead channel is simply lost.
        "worker_cancel_long_running_tasks_on_connection_loss": False,
        "worker_hijack_root_logger": False,
        "beat_scheduler": "redbeat.RedBeatScheduler",
        "redbeat_redis_url": s.redis_url,
        "redbeat_key_prefix": f"{s.redis_prefix}notifier:redbeat",
        "redbeat_lock_timeout": 25,
        "beat_max_loop_interval": 5,
        "beat_schedule": {
            "expiry-scan": {
                "task": EXPIRY_SCAN,
                "schedule": crontab(hour=config.reminder_scan_at.hour, minute=config.reminder_scan_at.minute),
            },
            "pending-email-sweep": {"task": SWEEP, "schedule": float(config.pending_sweep_seconds)},
        },
    }
    if amqp:
        conf.update(
            task_default_queue_type="quorum",
            task_create_missing_queue_type="quorum",
            worker_detect_quorum_queues=True,
            broker_transport_options={"confirm_publish": True},
        )
    else:
        # Redis transport (embedded mode): an unacknowledged task comes back after the visibility timeout, so it
        # must exceed the longest retry countdown; the sweep re-enqueues a dead attempt sooner anyway.
        conf["broker_transport_options"] = {
            "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600, 60, 86400),
            "global_keyprefix": f"{s.redis_prefix}notifier:celery:",
        }
    return conf


def create_celery(config: NotifierConfig | None = None, notifier: Any = None) -> Celery:
    """A Celery app whose tasks run against `notifier` (a bootstrap.Notifier; built lazily when not given)."""
    config = config or NotifierConfig.from_env()
    app = Celery("notifier")
    app.conf.update(celery_config(config))
    state: dict[str, Any] = {"notifier": notifier}

    def current() -> Any:
        if state["notifier"] is None:
            from notifier.bootstrap import bootstrap

            state["notifier"] = bootstrap(config, enqueue=lambda ids: enqueue_on(app, ids))
        return state["notifier"]

    app.notifier = current  # type: ignore[attr-defined]
    app.conf.notifier_retry_backoff = env_int("EMAIL_RETRY_BACKOFF_SECONDS", 5, 1, 3600)
    app.conf.notifier_retry_backoff_max = env_int("EMAIL_RETRY_BACKOFF_MAX_SECONDS", 600, 1, 86400)
    common = {"bind": True, "acks_late": True, "reject_on_worker_lost": True}
    app.task(name=SEND_EMAIL, max_retries=config.max_send_retries, **common)(send_email)
    app.task(name=SWEEP, **common)(sweep_pending_emails)
    app.task(name=EXPIRY_SCAN, **common)(expiry_scan)
    return app


# Task bodies live at module level (one callable per name); each runs against its own app's notifier.
def send_email(self: Task, email_id: int) -> str:
    """Autoretry on SMTP/HTTP trouble with exponential backoff and full jitter. The countdown is computed here
    (as Celery's autoretry_for/retry_backoff/retry_jitter would) so the email row records when its next attempt
    is due; once the retries are used up the row stays pending and the sweep keeps retrying it."""
    conf = self.app.conf
    countdown = get_exponential_backoff_interval(
        conf.notifier_retry_backoff, self.request.retries, conf.notifier_retry_backoff_max, True
    )

    def retry_at(_attempts: int) -> dt.datetime:
        return utc_now() + dt.timedelta(seconds=countdown)

    try:
        return str(self.app.notifier().deliver(int(email_id), retry_at=retry_at))
    except TransientDeliveryError as exc:
        if self.request.retries >= (self.max_retries or 0):
            log.warning("email retries used up; the sweep will try again", email_id=email_id)
            return "deferred"
        raise self.retry(exc=exc, countdown=countdown) from None


def sweep_pending_emails(self: Task) -> int:
    return len(self.app.notifier().sweep())


def expiry_scan(self: Task, as_of: str | None = None) -> int:
    result = self.app.notifier().scan(dt.date.fromisoformat(as_of) if as_of else None)
    return result.reminders_queued


def enqueue_on(app: Celery, ids: list[int]) -> None:
    """Publish one send_email task per id. A failure is logged, never raised: the rows are committed as
    pending and the sweep enqueues them again within a minute or two."""
    try:
        with app.producer_or_acquire() as producer:
            for email_id in ids:
                app.send_task(SEND_EMAIL, args=[email_id], producer=producer)
    except Exception as exc:  # noqa: BLE001 - the sweep is the safety net
        log.warning("could not enqueue emails; the sweep will", count=len(ids), error=str(exc)[:300])


_app: Celery | None = None


@signals.worker_init.connect
def _serve_metrics(**_: Any) -> None:
    serve_metrics_from_env()  # METRICS_PORT: a worker container with no notifier web app beside it


def get_app() -> Celery:
    global _app
    if _app is None:
        config = NotifierConfig.from_env()
        configure_logging("notifier-celery", config.settings.log_level)
        _app = create_celery(config)
    return _app


def enqueue_emails(ids: list[int]) -> None:
    enqueue_on(get_app(), ids)


def __getattr__(name: str) -> Any:
    if name in ("app", "celery"):
        return get_app()
    raise AttributeError(name)
