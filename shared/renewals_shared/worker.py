"""A service's background process: its outbox relay and, when it consumes events, its event consumer."""

from __future__ import annotations

import signal
import threading
from collections.abc import Mapping

from sqlalchemy import Engine

from renewals_shared.bus import BatchPublisher, Topology, is_amqp
from renewals_shared.config import Settings, env_int
from renewals_shared.consumer import EventConsumer, Handler
from renewals_shared.observability import configure_logging, get_logger, serve_metrics_from_env
from renewals_shared.outbox import OutboxRelay

log = get_logger(__name__)


def topology_for(settings: Settings) -> Topology:
    return Topology(settings.bus_namespace, is_amqp(settings.broker_url))


def build_consumer(settings: Settings, engine: Engine, handlers: Mapping[str, Handler]) -> EventConsumer:
    return EventConsumer(
        service=settings.service,
        broker_url=settings.broker_url,
        topology=topology_for(settings),
        engine=engine,
        handlers=handlers,
        max_attempts=env_int("CONSUMER_MAX_ATTEMPTS", 5, 1, 100),
        prefetch=env_int("CONSUMER_PREFETCH", 10, 1, 1000),
        visibility_timeout=env_int("BROKER_VISIBILITY_TIMEOUT", 60, 1, 86400),
    )


def build_relay(settings: Settings, engine: Engine) -> OutboxRelay:
    return OutboxRelay(
        engine,
        BatchPublisher(settings.broker_url, topology_for(settings)),
        batch_size=env_int("OUTBOX_BATCH_SIZE", 200, 1, 10000),
    )


def run_worker(
    settings: Settings,
    engine: Engine,
    handlers: Mapping[str, Handler],
    *,
    stop: threading.Event | None = None,
    relay: bool = True,
) -> None:
    """Run until SIGTERM/SIGINT (or `stop`), then finish the message in hand and exit cleanly."""
    configure_logging(f"{settings.service}-worker", settings.log_level)
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())

    threads: list[threading.Thread] = []
    if handlers:
        consumer = build_consumer(settings, engine, handlers)
        consumer.declare()  # queue and bindings exist before the first event flows
        threads.append(threading.Thread(target=consumer.run, args=(stop,), name="consumer", daemon=True))
    if relay:
        threads.append(
            threading.Thread(target=build_relay(settings, engine).run, args=(stop,), name="relay", daemon=True)
        )
    for thread in threads:
        thread.start()
    metrics_port = serve_metrics_from_env()  # METRICS_PORT: where no web app of the service can read its metrics
    log.info("worker started", parts=[t.name for t in threads], metrics_port=metrics_port)
    stop.wait()
    for thread in threads:
        thread.join(timeout=15)
    log.info("worker stopped")
