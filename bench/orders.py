"""Quotes per second and order+payment pairs per second through the order-service HTTP API, beside the bare
one-SELECT endpoint measured in the same run.

Everything runs as deployed, each under gunicorn with 2 workers on its own migrated scratch database: the
order-service, the token-service it asks to resolve every link, and the reseller-service it asks for the
reseller's account. Set-up goes through the order-service admin API (product, price list, license import); one
link per license is stored in the token-service's database with its own domain code (see links.py), so every
order uses a fresh, active link. One approved reseller account is registered through the reseller-service API.

Measured (closed loop, `--concurrency` clients, `--seconds` each, the four loads alternating in one-second
slices so that all see the same background load on the shared machine):
- the bare endpoint (baseline.py), served beside the services;
- `GET /quote` with a link (direct customer): token-service resolve + pricing;
- `GET /quote?reseller_id=` for the approved reseller: + the reseller-service account look-up, which quotes
  remember for RESELLER_QUOTE_CACHE_SECONDS (5 s) per process, so in a steady load nearly every quote skips it
  (with RESELLER_QUOTE_CACHE_SECONDS=0 every quote makes the call: 40.8 % of bare, 2026-12-05);
- `POST /orders` then `POST /orders/{n}/payments` (sandbox card) on a fresh link: one pair counts once.
Targets: quote >= 50 % of the bare endpoint, order+payment >= 15 %.

    python bench/orders.py [--seconds 5] [--concurrency 8] [--orders 3000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import uuid
from pathlib import Path
from typing import Any

import psycopg
import requests

sys.path.insert(0, str(Path(__file__).parent))
from baseline import bare_endpoint, bare_request  # noqa: E402
from common import LoadResult, interleaved_http_load, machine, report  # noqa: E402
from links import store_links  # noqa: E402
from stack import SECRETS, base_env, drop_redis_keys, serve, service_database  # noqa: E402

SKU = "BENCH-PRO"
QUOTE_LICENSES = 1000
IMPORT_BATCH = 500
CARD = {
    "number": "4242424242424242",
    "exp_month": 12,
    "exp_year": dt.date.today().year + 3,
    "cvc": "123",
    "holder": "Bench Buyer",
}
PARTY = {
    "name": "Erika Mustermann",
    "company": "Bench Customer AG",
    "email": "erika@example.com",
    "vat_id": None,
    "address": {
        "line1": "Hauptstr. 1",
        "line2": "",
        "postal_code": "10115",
        "city": "Berlin",
        "region": "",
        "country": "DE",
    },
}
OPS = {"Authorization": f"Bearer {SECRETS['OPS_TOKEN']}"}
SERVICE = {"Authorization": f"Bearer {SECRETS['SERVICE_TOKEN']}"}


def _check(response: requests.Response, *statuses: int) -> dict[str, Any]:
    if response.status_code not in statuses:
        raise RuntimeError(f"{response.request.method} {response.url}: {response.status_code} {response.text[:500]}")
    return response.json() if response.content else {}


def _dates() -> tuple[dt.date, dt.date]:
    """A license bought two years ago whose maintenance ends in 60 days (not lapsed)."""
    end = dt.date.today() + dt.timedelta(days=60)
    if (end.month, end.day) == (2, 29):
        end += dt.timedelta(days=1)
    return end.replace(year=end.year - 2), end


def seed_catalogue(order: str, licenses: int) -> None:
    purchase, end = _dates()
    _check(
        requests.post(
            f"{order}/admin/products", json={"sku": SKU, "name": "Bench Pro", "edition": "Pro"}, headers=OPS, timeout=30
        ),
        201,
    )
    _check(
        requests.post(
            f"{order}/admin/price-lists",
            headers=OPS,
            timeout=30,
            json={
                "product_sku": SKU,
                "currency": "EUR",
                "price_per_seat_year": 4900,
                "valid_from": (purchase - dt.timedelta(days=365)).isoformat(),
            },
        ),
        201,
    )
    rows = [
        {
            "license_key": f"BENCH-{n:06d}-{uuid.uuid4().hex[:8].upper()}",
            "product_sku": SKU,
            "seats": 1 + n % 25,
            "licensee_name": f"Licensee {n} GmbH",
            "purchase_date": purchase.isoformat(),
            "maintenance_end": end.isoformat(),
            "contact_email": f"admin{n}@example.com",
            "currency": "EUR",
            "end_customer": PARTY,
            "previous_order_number": None,
        }
        for n in range(licenses)
    ]
    for offset in range(0, len(rows), IMPORT_BATCH):
        report_ = _check(
            requests.post(
                f"{order}/admin/licenses/import", json=rows[offset : offset + IMPORT_BATCH], headers=OPS, timeout=60
            ),
            200,
        )
        assert not report_["errors"], report_["errors"][:3]


def issue_links(order_db: str, token_db: str) -> list[str]:
    """One active link per license, for the license's current cycle; tokens in license-key order."""
    with psycopg.connect(order_db) as connection:
        licenses = connection.execute(
            "SELECT id, product_sku, maintenance_end, licensee_name, currency FROM licenses ORDER BY license_key"
        ).fetchall()
    specs = [
        {
            "license_id": id_,
            "product_sku": sku,
            "cycle_end": end,
            "licensee_name": name,
            "currency": currency,
            "customer_discount_bp": 5000,
        }
        for id_, sku, end, name, currency in licenses
    ]
    return store_links(token_db, specs)


def approved_reseller(reseller: str) -> str:
    body = {
        "company": "Bench Reseller GmbH",
        "contact_name": "Rita Reseller",
        "email": "rita@bench-reseller.example",
        "password": "Bench-Reseller-Passphrase-2026",
        "phone": "+49 30 123456",
        "billing_address": {"line1": "Resellerweg 2", "postal_code": "20095", "city": "Hamburg", "country": "DE"},
    }
    reseller_id = _check(requests.post(f"{reseller}/resellers", json=body, headers=SERVICE, timeout=30), 201)["id"]
    _check(requests.post(f"{reseller}/admin/resellers/{reseller_id}/approve", json={}, headers=OPS, timeout=30), 200)
    return reseller_id


def measure(
    bare: str,
    order: str,
    quote_tokens: list[str],
    order_tokens: list[str],
    reseller_id: str,
    seconds: float,
    concurrency: int,
) -> dict[str, LoadResult]:
    def quote(session: requests.Session, _: int, params: dict[str, str] | None = None) -> requests.Response:
        token = quote_tokens[random.randrange(len(quote_tokens))]
        return session.get(f"{order}/quote", params=params, headers={**SERVICE, "X-Extension-Token": token})

    def reseller_quote(session: requests.Session, n: int) -> requests.Response:
        return quote(session, n, {"reseller_id": reseller_id})

    fresh = iter(order_tokens)

    def order_and_pay(session: requests.Session, _: int) -> requests.Response:
        token = next(fresh)  # StopIteration would end the run early: --orders must cover it
        headers = {**SERVICE, "X-Extension-Token": token}
        placed = session.post(
            f"{order}/orders", json={"term_years": 1}, headers={**headers, "Idempotency-Key": str(uuid.uuid4())}
        )
        if placed.status_code != 201:
            return placed
        number = placed.json()["order_number"]
        return session.post(
            f"{order}/orders/{number}/payments",
            json={"method": "card", "card": CARD},
            headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
        )

    first = quote(requests.Session(), 0, {"reseller_id": reseller_id})
    offer = _check(first, 200)["offer"]
    assert offer["reseller_discount_bp"] > 0 and offer["can_extend"], offer
    ok = lambda r: r.status_code == 200  # noqa: E731
    loads = {
        "bare": (bare_request(bare), ok),
        "quote": (quote, ok),
        "reseller quote": (reseller_quote, ok),
        "order+payment": (order_and_pay, lambda r: r.status_code == 200 and r.json().get("status") == "paid"),
    }
    interleaved_http_load(loads, seconds=1, concurrency=concurrency)  # warm-up: pools in all services
    return interleaved_http_load(loads, seconds=seconds, concurrency=concurrency)


def measure_order_service(seconds: float, concurrency: int, orders: int) -> dict[str, LoadResult]:
    env = {**base_env(), "RESOLVE_FAILURE_LIMIT": "100000", "RESELLER_AUTH_MAX_FAILURES": "10000"}
    with (
        service_database("order") as order_db,
        service_database("token") as token_db,
        service_database("reseller") as reseller_db,
        bare_endpoint() as bare,
    ):
        env.update(ORDER_DATABASE_URL=order_db, TOKEN_DATABASE_URL=token_db, RESELLER_DATABASE_URL=reseller_db)
        try:
            with serve("token", env) as token, serve("reseller", env) as reseller:
                env.update(TOKEN_SERVICE_URL=token, RESELLER_SERVICE_URL=reseller)
                with serve("order", env) as order:
                    seed_catalogue(order, QUOTE_LICENSES + orders)
                    tokens = issue_links(order_db, token_db)
                    print(f"({len(tokens)} licenses imported, one link each)")
                    reseller_id = approved_reseller(reseller)
                    results = measure(
                        bare, order, tokens[:QUOTE_LICENSES], tokens[QUOTE_LICENSES:], reseller_id, seconds, concurrency
                    )
            with psycopg.connect(order_db) as connection:
                paid = connection.execute("SELECT count(*) FROM orders WHERE status = 'paid'").fetchone()[0]
            print(f"(orders paid in the order-service database: {paid})")
        finally:
            drop_redis_keys()
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--orders", type=int, default=3000, help="fresh links for the order+payment run")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    results = measure_order_service(args.seconds, args.concurrency, args.orders)
    bare, direct, as_reseller, paid = (results[k] for k in ("bare", "quote", "reseller quote", "order+payment"))
    print(bare.line("bare Flask + psycopg, one indexed SELECT"))
    print(direct.line("order-service GET /quote (direct)"))
    print(as_reseller.line("order-service GET /quote (approved reseller)"))
    print(paid.line("order-service POST /orders + /payments (pairs/s)"))
    report("quotes (direct)", direct.rate, "req/s", "bare endpoint", bare.rate, 0.50)
    report("quotes (approved reseller)", as_reseller.rate, "req/s", "bare endpoint", bare.rate, 0.50)
    report("order+payment pairs", paid.rate, "pairs/s", "bare endpoint", bare.rate, 0.15)


if __name__ == "__main__":
    main()
