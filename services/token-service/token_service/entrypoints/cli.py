"""Operations commands: ``python -m token_service.entrypoints.cli revoke <link_id> --reason "..."``."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict

import click

from token_service.bootstrap import bootstrap
from token_service.config import TokenConfig
from token_service.domain.model import LinkStateError
from token_service.service_layer import commands, handlers


@click.group()
def cli() -> None:
    """Token-service operations."""


def _print(view: handlers.LinkView) -> None:
    click.echo(json.dumps(asdict(view), default=str, indent=2))


@cli.command()
@click.argument("link_id")
@click.option("--reason", default="operations", show_default=True, help="Recorded on the link and in the event.")
def revoke(link_id: str, reason: str) -> None:
    """Revoke one extension link (publishes extension_link.revoked through the outbox)."""
    bus = bootstrap(TokenConfig.from_env())
    try:
        view = bus.handle(commands.RevokeLink(link_id, reason))
    except handlers.LinkNotFound:
        click.echo(f"no extension link {link_id}", err=True)
        sys.exit(1)
    except LinkStateError as exc:
        click.echo(f"cannot revoke: {exc}", err=True)
        sys.exit(2)
    _print(view)


@cli.command()
@click.argument("link_id")
def show(link_id: str) -> None:
    """Show one extension link (never its token)."""
    bus = bootstrap(TokenConfig.from_env())
    try:
        _print(handlers.get_link(link_id, bus.uow_factory(), bus.today()))
    except handlers.LinkNotFound:
        click.echo(f"no extension link {link_id}", err=True)
        sys.exit(1)


@cli.command("seed-demo")
def seed_demo() -> None:
    """No demo data of its own: links are issued on demand (the notifier or operations ask for them)."""
    click.echo("token-service: nothing to seed")


if __name__ == "__main__":
    cli()
