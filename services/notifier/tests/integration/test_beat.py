"""Two beats started: one holds the celery-redbeat lock and schedules; the other waits on standby."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from kombu import Connection
from notifier.config import NotifierConfig
from notifier.entrypoints.celery_app import create_celery


@pytest.mark.slow
def test_two_beats_do_not_double_the_schedule(service_env, require_rabbitmq) -> None:  # type: ignore[no-untyped-def]
    settings = service_env("notifier", EMAIL_SWEEP_SECONDS="1")
    config = NotifierConfig.from_env(settings)
    # the queue must exist before beat publishes to it: declare it as a worker would (quorum, topic exchange)
    app = create_celery(config)
    with app.connection_for_write() as connection:
        app.amqp.queues[config.queue_name].bind(connection).declare()
    beats = [
        subprocess.Popen(
            [sys.executable, "-m", "notifier.entrypoints.beat"],
            env=os.environ.copy(),
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(2)
    ]
    try:
        time.sleep(12)
        with Connection(settings.broker_url) as connection:
            _, published, _ = connection.channel().queue_declare(config.queue_name, passive=True)
    finally:
        for beat in beats:
            os.killpg(beat.pid, signal.SIGTERM)
        for beat in beats:
            beat.wait(15)
    # one beat ticking every second for ~10 s after start-up publishes about 10 sweeps; two would publish ~20
    assert 3 <= published <= 13, published
