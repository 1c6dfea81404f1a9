"""Operations' command for the bus: declare the topology, and list, replay or discard dead letters.

renewals-bus declare
renewals-bus list order
renewals-bus replay order [--id EVENT_ID ...]
renewals-bus discard order --id EVENT_ID
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import click

from renewals_shared.bus import SUBSCRIPTIONS, BatchPublisher, Topology, connect, is_amqp
from renewals_shared.config import Settings
from renewals_shared.consumer import ATTEMPTS_HEADER, ERROR_HEADER, decode_envelope


def _walk(settings: Settings, decide: Callable[[dict[str, Any], dict[str, Any]], str]) -> list[dict[str, Any]]:
    """Take every message off the DLQ once; `decide` says keep, replay or discard. Kept ones are put back."""
    topology = Topology(settings.bus_namespace, is_amqp(settings.broker_url))
    publisher = BatchPublisher(settings.broker_url, topology)
    seen: list[dict[str, Any]] = []
    with connect(settings.broker_url) as connection:
        queue = topology.dead_letter_queue(settings.service)(connection.default_channel)
        queue.declare()
        held = []
        while True:
            message = queue.get(no_ack=False, accept=["json"])
            if message is None:
                break
            envelope = decode_envelope(message)  # an undecodable dead letter can be listed and discarded
            headers = message.headers or {}
            action = decide(envelope, headers)
            seen.append(
                {
                    "id": envelope.get("id"),
                    "type": envelope.get("type"),
                    "attempts": headers.get(ATTEMPTS_HEADER),
                    "error": headers.get(ERROR_HEADER),
                    "action": action,
                }
            )
            if action == "replay":
                publisher.publish(
                    [envelope], exchange=topology.retry.name, routing_key=topology.queue_name(settings.service)
                )
                message.ack()
            elif action == "discard":
                message.ack()
            else:
                held.append(message)
        for message in held:  # unacked until here so the walk never sees the same message twice
            message.reject(requeue=True)
    publisher.close()
    return seen


def list_dead_letters(settings: Settings) -> list[dict[str, Any]]:
    return _walk(settings, lambda _e, _h: "keep")


def replay_dead_letters(settings: Settings, event_ids: set[str] | None = None) -> list[dict[str, Any]]:
    return [
        row
        for row in _walk(settings, lambda e, _h: "replay" if not event_ids or e.get("id") in event_ids else "keep")
        if row["action"] == "replay"
    ]


def discard_dead_letters(settings: Settings, event_ids: set[str]) -> list[dict[str, Any]]:
    return [
        row
        for row in _walk(settings, lambda e, _h: "discard" if e.get("id") in event_ids else "keep")
        if row["action"] == "discard"
    ]


@click.group()
def cli() -> None:
    """Inspect, replay and discard a service's dead letters."""


@cli.command("declare")
def declare_command() -> None:
    """Declare exchanges, every consuming service's queue, bindings and dead-letter queue."""
    settings = Settings.from_env("gateway")
    topology = Topology(settings.bus_namespace, is_amqp(settings.broker_url))
    with connect(settings.broker_url) as connection:
        for service, event_types in SUBSCRIPTIONS.items():
            topology.declare(connection, service, event_types)
    click.echo(f"declared {', '.join(SUBSCRIPTIONS)} on {settings.bus_namespace}")


@cli.command("list")
@click.argument("service")
def list_command(service: str) -> None:
    click.echo(json.dumps(list_dead_letters(Settings.from_env(service)), indent=2))


@cli.command("replay")
@click.argument("service")
@click.option("--id", "event_ids", multiple=True, help="Replay only these event ids (default: all).")
def replay_command(service: str, event_ids: tuple[str, ...]) -> None:
    replayed = replay_dead_letters(Settings.from_env(service), set(event_ids) or None)
    click.echo(json.dumps(replayed, indent=2))


@cli.command("discard")
@click.argument("service")
@click.option("--id", "event_ids", multiple=True, required=True)
def discard_command(service: str, event_ids: tuple[str, ...]) -> None:
    click.echo(json.dumps(discard_dead_letters(Settings.from_env(service), set(event_ids)), indent=2))
