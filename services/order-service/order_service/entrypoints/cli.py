"""Operations commands: `seed-demo` (idempotent demo catalogue and licenses) and `import-licenses FILE`."""

from __future__ import annotations

import csv
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import click
from marshmallow import ValidationError

from order_service.bootstrap import bootstrap
from order_service.domain import commands
from order_service.domain.dates import add_years
from order_service.entrypoints import schemas
from order_service.service_layer.messagebus import MessageBus
from renewals_shared.clock import Clock, clock_from_env
from renewals_shared.config import Settings
from renewals_shared.db import make_engine

DEMO_PRODUCTS = [
    ("NOTEPAD-PRO", "Notepad Studio", "Professional", {"EUR": 4900, "USD": 5500}),
    ("NOTEPAD-STD", "Notepad Studio", "Standard", {"EUR": 1999, "USD": 2199}),
    ("DIFFMERGE-ENT", "DiffMerge Server", "Enterprise", {"EUR": 12345, "USD": 13999}),
]
DEMO_PRICES_FROM = dt.date(2015, 1, 1)


def _bus() -> MessageBus:
    settings = Settings.from_env("order")
    assert settings.database_url is not None
    return bootstrap(settings, engine=make_engine(settings.database_url, pool_size=1, max_overflow=0))


def _party(
    name: str, company: str, email: str, line1: str, postal: str, city: str, country: str, vat_id: str | None = None
) -> dict[str, Any]:
    return {
        "name": name,
        "company": company,
        "email": email,
        "vat_id": vat_id,
        "address": {"line1": line1, "line2": "", "postal_code": postal, "city": city, "region": "", "country": country},
    }


def _cycle(end: dt.date, years: int) -> tuple[dt.date, dt.date]:
    """(P, E) with E = P + years, E as close to `end` as the calendar allows (never chained)."""
    purchase = add_years(end, -years)
    return purchase, add_years(purchase, years)


def demo_licenses(today: dt.date) -> list[dict[str, Any]]:
    expiring_p, expiring_e = _cycle(today + dt.timedelta(days=30), 3)
    lapsed_p, lapsed_e = _cycle(today - dt.timedelta(days=20), 2)
    long_p, long_e = _cycle(today - dt.timedelta(days=730), 1)
    week_p, week_e = _cycle(today + dt.timedelta(days=7), 1)
    leap_p = dt.date(2020, 2, 29)
    n = 1
    while add_years(leap_p, n) < today + dt.timedelta(days=10):
        n += 1
    leap_e = add_years(leap_p, n)
    acme = _party(
        "Alice Example",
        "Example GmbH",
        "customer@example.com",
        "Musterstrasse 1",
        "10115",
        "Berlin",
        "DE",
        "DE123456789",
    )
    globex = _party(
        "Bob Builder", "Globex Corp", "customer2@example.com", "1 Main Street", "94105", "San Francisco", "US"
    )
    initech = _party(
        "Claire Dupont",
        "Initech SARL",
        "customer3@example.com",
        "12 rue de la Paix",
        "75002",
        "Paris",
        "FR",
        "FR12345678901",
    )
    leapco = _party("Dan Leap", "Leap Day Ltd", "customer4@example.com", "29 Leap Lane", "SW1A 1AA", "London", "GB")
    vandelay = _party(
        "Eve Vandelay", "Vandelay Industries", "customer5@example.com", "5 Harbour Road", "2000", "Sydney", "AU"
    )
    return [
        {
            "license_key": "DEMO-NPRO-0001-A7K2",
            "product_sku": "NOTEPAD-PRO",
            "seats": 10,
            "licensee_name": "Example GmbH",
            "purchase_date": expiring_p,
            "maintenance_end": expiring_e,
            "contact_email": "customer@example.com",
            "currency": "EUR",
            "end_customer": acme,
            "previous_order_number": "R-DEMO-000001",
            "reseller_id": None,
        },
        {
            "license_key": "DEMO-NSTD-0002-B8L3",
            "product_sku": "NOTEPAD-STD",
            "seats": 3,
            "licensee_name": "Globex Corp",
            "purchase_date": lapsed_p,
            "maintenance_end": lapsed_e,
            "contact_email": "customer2@example.com",
            "currency": "USD",
            "end_customer": globex,
            "previous_order_number": "R-DEMO-000002",
            "reseller_id": None,
        },
        {
            "license_key": "DEMO-DIFF-0003-C9M4",
            "product_sku": "DIFFMERGE-ENT",
            "seats": 1,
            "licensee_name": "Initech SARL",
            "purchase_date": long_p,
            "maintenance_end": long_e,
            "contact_email": "customer3@example.com",
            "currency": "EUR",
            "end_customer": initech,
            "previous_order_number": "R-DEMO-000003",
            "reseller_id": None,
        },
        {
            "license_key": "DEMO-NPRO-0004-D2N5",
            "product_sku": "NOTEPAD-PRO",
            "seats": 5,
            "licensee_name": "Leap Day Ltd",
            "purchase_date": leap_p,
            "maintenance_end": leap_e,
            "contact_email": "customer4@example.com",
            "currency": "EUR",
            "end_customer": leapco,
            "previous_order_number": "R-DEMO-000004",
            "reseller_id": None,
        },
        {
            "license_key": "DEMO-NSTD-0005-E3P6",
            "product_sku": "NOTEPAD-STD",
            "seats": 25,
            "licensee_name": "Vandelay Industries",
            "purchase_date": week_p,
            "maintenance_end": week_e,
            "contact_email": "customer5@example.com",
            "currency": "USD",
            "end_customer": vandelay,
            "previous_order_number": "R-DEMO-000005",
            "reseller_id": None,
        },
    ]


def seed_demo(bus: MessageBus, clock: Clock) -> dict[str, Any]:
    for sku, name, edition, prices in DEMO_PRODUCTS:
        bus.handle(commands.SaveProduct(sku=sku, name=name, edition=edition))
        for currency, price in prices.items():
            bus.handle(
                commands.AddPriceList(
                    product_sku=sku, currency=currency, price_per_seat_year=price, valid_from=DEMO_PRICES_FROM
                )
            )
    rows = []
    for line, lic in enumerate(demo_licenses(clock.today()), start=1):
        # keep licenses that exist (a second run, possibly another day, changes nothing)
        if not bus.handle(commands.FindLicenses(key=lic["license_key"]))["licenses"]:
            rows.append((line, lic))
    report: dict[str, Any] = bus.handle(commands.ImportLicenses(rows=rows, source="seed-demo"))
    return report


def read_license_file(path: Path) -> tuple[list[tuple[int, dict[str, Any]]], list[dict[str, Any]]]:
    rows: list[tuple[int, dict[str, Any]]] = []
    errors: list[dict[str, Any]] = []
    schema = schemas.LicenseSchema()
    items: list[tuple[int, Any, bool]]
    if path.suffix.lower() == ".json":
        payload = json.loads(path.read_text())
        payload = [payload] if isinstance(payload, dict) else payload
        items = [(i, item, False) for i, item in enumerate(payload, start=1)]
    else:
        with path.open(newline="") as handle:
            reader = csv.DictReader(handle)
            items = [(reader.line_num, record, True) for record in reader]
    for line, item, from_csv in items:
        try:
            data = schemas.csv_row_to_license(item) if from_csv else item
            rows.append((line, schema.load(data)))
        except ValidationError as exc:
            errors.append({"line": line, "reason": schemas.flatten_errors(exc.messages)})
    return rows, errors


@click.group()
def cli() -> None:
    """order-service operations."""


@cli.command("seed-demo")
def seed_demo_command() -> None:
    """Load demo products, EUR/USD price lists and licenses at different points of their cycle (idempotent)."""
    report = seed_demo(_bus(), clock_from_env())
    click.echo(json.dumps({"seeded": report}, default=str))


@cli.command("import-licenses")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_licenses_command(file: Path) -> None:
    """Import licenses from a CSV (header row) or JSON file; idempotent on license_key; bad rows are reported."""
    rows, errors = read_license_file(file)
    report = _bus().handle(commands.ImportLicenses(rows=rows, errors=errors, source="cli-import"))
    click.echo(json.dumps(report, indent=2))
    sys.exit(1 if report["errors"] else 0)


if __name__ == "__main__":
    cli()
