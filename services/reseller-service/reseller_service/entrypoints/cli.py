"""Operations from a shell: `python -m reseller_service.entrypoints.cli seed-demo|list-pending|approve|reject`.

Each command goes through the same handlers as the HTTP API, so events are published through the outbox.
"""

from __future__ import annotations

import sys
from typing import Any

import click
from renewals_shared.config import Settings

from reseller_service.bootstrap import ResellerService, bootstrap
from reseller_service.domain import commands
from reseller_service.domain.model import AccountStatus
from reseller_service.service_layer import errors, views

DEMO_PASSWORD = "Demo-Reseller-2026!"
DEMO_APPROVED = {
    "company": "Muster Software Handel GmbH",
    "contact_name": "Erika Mustermann",
    "email": "reseller@example.com",
    "password": DEMO_PASSWORD,
    "billing_address": {
        "line1": "Friedrichstraße 123",
        "line2": "3. OG",
        "postal_code": "10117",
        "city": "Berlin",
        "region": "Berlin",
        "country": "DE",
    },
    "vat_id": "DE123456789",
    "phone": "+49 30 12345678",
}
DEMO_PENDING = {
    "company": "Pending Reseller Ltd",
    "contact_name": "Max Pending",
    "email": "pending@example.com",
    "password": DEMO_PASSWORD,
    "billing_address": {
        "line1": "Marienplatz 1",
        "line2": "",
        "postal_code": "80331",
        "city": "München",
        "region": "Bayern",
        "country": "DE",
    },
    "vat_id": None,
    "phone": "+49 89 1234567",
}


def _service() -> ResellerService:
    # The CLI never authenticates, so the limiters are never touched: no Redis needed.
    from reseller_service.adapters.attempt_limiter import MemoryAttemptLimiter

    return bootstrap(
        Settings.from_env("reseller"),
        limiter=MemoryAttemptLimiter(),
        reset_limiter=MemoryAttemptLimiter(),
    )


def _ensure(service: ResellerService, data: dict[str, Any]) -> tuple[str, bool]:
    with service.uow_factory() as uow:
        existing = uow.resellers.get_by_email(data["email"])
    if existing is not None:
        return existing.id, False
    return service.bus.handle(commands.RegisterReseller(**data)), True


@click.group()
def cli() -> None:
    """Reseller accounts: demo data and approvals."""


@cli.command("seed-demo")
def seed_demo() -> None:
    """One approved reseller (10 % discount, invoice allowed, German billing) and one pending. Idempotent."""
    service = _service()
    approved_id, created = _ensure(service, DEMO_APPROVED)
    with service.uow_factory() as uow:
        account = uow.resellers.get(approved_id)
    if account is not None and account.status is AccountStatus.PENDING:
        service.bus.handle(commands.ApproveReseller(approved_id, discount_bp=1000, invoice_allowed=True))
    pending_id, _ = _ensure(service, DEMO_PENDING)
    click.echo(f"approved reseller: {DEMO_APPROVED['email']} / {DEMO_PASSWORD} (id {approved_id})")
    click.echo(f"pending reseller:  {DEMO_PENDING['email']} / {DEMO_PASSWORD} (id {pending_id})")
    if not created:
        click.echo("(demo resellers already existed; passwords unchanged)")


@cli.command("list-pending")
def list_pending() -> None:
    """Accounts waiting for approval."""
    for account in views.resellers(AccountStatus.PENDING, _service().uow_factory()):
        click.echo(f"{account['id']}  {account['email']}  {account['company']}  ({account['created_at']})")


@cli.command("approve")
@click.argument("reseller_id")
@click.option(
    "--discount-bp",
    type=click.IntRange(0, 10000),
    default=None,
    help="default 1000 (10 %)",
)
@click.option(
    "--invoice/--no-invoice",
    "invoice_allowed",
    default=None,
    help="allow payment by invoice",
)
def approve(reseller_id: str, discount_bp: int | None, invoice_allowed: bool | None) -> None:
    """Approve a pending reseller."""
    _decide(commands.ApproveReseller(reseller_id, discount_bp, invoice_allowed))


@cli.command("reject")
@click.argument("reseller_id")
@click.option("--reason", required=True)
def reject(reseller_id: str, reason: str) -> None:
    """Reject a pending reseller."""
    _decide(commands.RejectReseller(reseller_id, reason))


@cli.command("suspend")
@click.argument("reseller_id")
@click.option("--reason", default="")
def suspend(reseller_id: str, reason: str) -> None:
    """Suspend an approved reseller."""
    _decide(commands.SuspendReseller(reseller_id, reason))


def _decide(command: commands.Command) -> None:
    try:
        account = _service().bus.handle(command)
    except (errors.NotFound, errors.Conflict) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    click.echo(f"{account.id}  {account.email}  {account.status.value}  discount {account.discount_bp} bp")


if __name__ == "__main__":
    cli()
