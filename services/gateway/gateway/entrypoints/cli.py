"""Gateway commands: operations users for the console at /admin.

    python -m gateway.entrypoints.cli create-ops-user ops@example.com            # prompts for the password
    python -m gateway.entrypoints.cli create-ops-user ops@example.com --password '...' [--replace]
    python -m gateway.entrypoints.cli delete-ops-user ops@example.com
    python -m gateway.entrypoints.cli seed-demo      # embedded mode: ops@example.com, password kept under var/

Users live in Redis (REDIS_URL, keys under REDIS_PREFIX + `gateway:ops:`), hashed with argon2id.
"""

from __future__ import annotations

import secrets
from typing import Any

import click

from gateway.adapters.operations_store import (
    AuditLog,
    OperatorAccounts,
    OperatorExists,
    WeakPassword,
)
from renewals_shared.config import Settings, var_dir

DEMO_OPERATOR = "ops@example.com"


def _redis(settings: Settings) -> Any:
    import redis

    return redis.Redis.from_url(settings.redis_url, socket_timeout=5, socket_connect_timeout=5)


@click.group()
def cli() -> None:
    """Gateway administration."""


@cli.command("create-ops-user")
@click.argument("email")
@click.option("--password", help="The password (prompted, hidden, when left out). At least 12 characters.")
@click.option("--replace", is_flag=True, help="Set a new password for an existing operator.")
def create_ops_user(email: str, password: str | None, replace: bool) -> None:
    """Create an operations user (or with --replace, reset their password)."""
    settings = Settings.from_env("gateway")
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    redis_client = _redis(settings)
    try:
        OperatorAccounts(redis_client, settings.redis_prefix).create(email, password, replace=replace)
    except OperatorExists:
        raise click.ClickException(f"{email} exists already; use --replace to set a new password") from None
    except (WeakPassword, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    AuditLog(redis_client, settings.redis_prefix).record(
        "cli", "operator.password_reset" if replace else "operator.create", email.strip().lower()
    )
    click.echo(f"operations user {email.strip().lower()} {'updated' if replace else 'created'}")


@cli.command("delete-ops-user")
@click.argument("email")
def delete_ops_user(email: str) -> None:
    """Remove an operations user (their open console sessions end at the next idle timeout)."""
    settings = Settings.from_env("gateway")
    redis_client = _redis(settings)
    if not OperatorAccounts(redis_client, settings.redis_prefix).delete(email):
        raise click.ClickException(f"no operations user {email}")
    AuditLog(redis_client, settings.redis_prefix).record("cli", "operator.delete", email.strip().lower())
    click.echo(f"operations user {email} deleted")


@cli.command("seed-demo")
def seed_demo() -> None:
    """Embedded mode only: make sure ops@example.com exists; its password is generated once into var/."""
    settings = Settings.from_env("gateway")
    if not settings.embedded:
        raise click.ClickException("seed-demo is for embedded mode; use create-ops-user on a real deployment")
    password_file = var_dir() / "ops-password.txt"
    if password_file.exists():
        password = password_file.read_text().strip()
    else:
        password = secrets.token_urlsafe(12)
        password_file.parent.mkdir(parents=True, exist_ok=True)
        password_file.write_text(password + "\n")
        password_file.chmod(0o600)
    accounts = OperatorAccounts(_redis(settings), settings.redis_prefix)
    if not accounts.exists(DEMO_OPERATOR) or not accounts.verify(DEMO_OPERATOR, password):
        accounts.create(DEMO_OPERATOR, password, replace=True)
    click.echo(f"operations console: {settings.public_base_url}/admin  {DEMO_OPERATOR} / {password}")


if __name__ == "__main__":
    cli()
