"""Extension pages per second and p95 through the gateway, beside the bare one-SELECT endpoint, same run.

The whole synchronous path runs as deployed: gateway, order-, token- and reseller-service under gunicorn (2 workers
each), each service with its own migrated scratch database, sessions in Redis. One `GET /extend/<token>` renders
the page after the gateway asked order-service for the quote, which verified the link with token-service (and,
for a logged-in reseller, whether the account is approved with reseller-service); with a reseller session the
gateway also loads the account from reseller-service first. The catalogue, the licenses, their links and the
reseller are set up through the public and admin APIs, as operations would.

Two loads, each alternating in one-second slices with the bare endpoint (baseline.measure_bare_http's server, so
both see the same background load on the shared machine): anonymous customers (one of `--links` links each
request) and an approved reseller's session (`--reseller-share` of the seconds). Targets: rate >= 20 % of the bare
endpoint's, p95 < 4x its p95. Also printed: the CPU each server used per page (psutil, gunicorn master and
workers), which says where the time goes better than the rates on a shared machine. Every server, the bare one
included, runs with the deployed settings (renewals_shared.gunicorn_conf: 2 workers of 4 threads); `--threads N`
runs the gateway and order-service (the two that wait on other services) with N threads instead, for comparison
(1: one request at a time per worker).

    python bench/gateway.py [--seconds 5] [--concurrency 8] [--links 20] [--reseller-share 0.4] [--threads N]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import random
import re
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psutil
import requests

sys.path.insert(0, str(Path(__file__).parent))
from baseline import bare_endpoint, bare_request  # noqa: E402
from common import LoadResult, free_port, gunicorn, interleaved_http_load, machine, report  # noqa: E402
from stack import SECRETS, base_env, drop_redis_keys, log_file, serve, service_database  # noqa: E402

GATEWAY_APP = "gateway.entrypoints.flask_app:create_app()"
LINK = re.compile(r"/extend/([A-Za-z0-9_\-]+)")
PASSWORD = "Sturdy-Bench-Pass-42"
BARE_CPU = "bare endpoint"
OPS = {"Authorization": f"Bearer {SECRETS['OPS_TOKEN']}"}


def add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # Feb 29 -> Feb 28
        return day.replace(year=day.year + years, day=28)


def stack_cpu_seconds(urls: dict[str, str]) -> dict[str, float]:
    """CPU seconds used so far by each service's gunicorn processes (master and workers), by its bind address."""
    used = dict.fromkeys(urls, 0.0)
    for process in psutil.process_iter(["cmdline"]):
        command = " ".join(process.info["cmdline"] or [])
        for name, url in urls.items():
            if f"--bind {url.removeprefix('http://')}" in command:
                with contextlib.suppress(psutil.Error):
                    times = process.cpu_times()
                    used[name] += times.user + times.system
    return used


def page_ok(response: requests.Response) -> bool:
    return response.status_code == 200 and b'id="buy-now"' in response.content


@contextlib.contextmanager
def running_stack(threads: int | None = None) -> Iterator[tuple[dict[str, str], dict[str, str]]]:
    """token-, reseller-, order-service and the gateway on scratch databases; yields (their base URLs, the env)."""
    env = base_env()
    with (
        service_database("token") as token_db,
        service_database("reseller") as reseller_db,
        service_database("order") as order_db,
    ):
        env.update(TOKEN_DATABASE_URL=token_db, RESELLER_DATABASE_URL=reseller_db, ORDER_DATABASE_URL=order_db)
        try:
            with serve("token", env) as token, serve("reseller", env) as reseller:
                env.update(TOKEN_SERVICE_URL=token, RESELLER_SERVICE_URL=reseller)
                threaded = {"GUNICORN_CMD_ARGS": f"--threads {threads}"} if threads else {}  # the two that wait
                with serve("order", {**env, **threaded}) as order:
                    port = free_port()
                    env.update(ORDER_SERVICE_URL=order, PUBLIC_BASE_URL=f"http://127.0.0.1:{port}")
                    with gunicorn(GATEWAY_APP, port, {**env, **threaded}, log=log_file("gateway")) as gateway:
                        yield {"gateway": gateway, "order": order, "token": token, "reseller": reseller}, env
        finally:
            drop_redis_keys()


def seed(urls: dict[str, str], links: int) -> tuple[list[str], requests.Session]:
    """A product with its price list, `links` licenses ending in 30 days with their links, and an approved
    reseller's logged-in session. Returns (tokens, reseller session)."""
    gateway = urls["gateway"]
    sku = f"BENCH-{uuid.uuid4().hex[:6].upper()}"
    product = requests.post(
        f"{gateway}/api/v1/admin/products",
        json={"sku": sku, "name": "Bench Suite", "edition": "Pro"},
        headers=OPS,
        timeout=20,
    )
    assert product.status_code in (200, 201), product.text
    price_list = {"product_sku": sku, "currency": "EUR", "price_per_seat_year": 12_345, "valid_from": "2000-01-01"}
    prices = requests.post(f"{gateway}/api/v1/admin/price-lists", json=price_list, headers=OPS, timeout=20)
    assert prices.status_code in (200, 201), prices.text
    purchase = add_years(dt.date.today() + dt.timedelta(days=30), -3)
    tokens = []
    for n in range(links):
        key = f"BENCH-{uuid.uuid4().hex[:10].upper()}"
        party = {
            "name": "Erika Mustermann",
            "company": f"Licensee {n} AG",
            "email": f"end-{n}@customer.example",
            "address": {
                "line1": "Hauptstrasse 1",
                "line2": "",
                "postal_code": "10115",
                "city": "Berlin",
                "region": "",
                "country": "DE",
            },
            "vat_id": None,
        }
        license_body = {
            "license_key": key,
            "product_sku": sku,
            "seats": 1 + n % 5,
            "licensee_name": f"Licensee {n} AG",
            "purchase_date": purchase.isoformat(),
            "maintenance_end": add_years(purchase, 3).isoformat(),
            "contact_email": f"contact-{n}@customer.example",
            "currency": "EUR",
            "end_customer": party,
            "previous_order_number": f"PREV-{key}",
        }
        imported = requests.post(f"{gateway}/api/v1/admin/licenses", json=license_body, headers=OPS, timeout=20)
        assert imported.status_code in (200, 201), imported.text
        found = requests.get(f"{gateway}/api/v1/admin/licenses", params={"key": key}, headers=OPS, timeout=20).json()
        license_id = found["licenses"][0]["id"]
        link = requests.post(
            f"{gateway}/api/v1/admin/licenses/{license_id}/extension-link", json={}, headers=OPS, timeout=20
        )
        assert link.status_code in (200, 201), link.text
        tokens.append(LINK.search(link.json()["url"]).group(1))

    email = f"bench-{uuid.uuid4().hex[:8]}@reseller.example"
    registration = {
        "company": "Bench Reselling GmbH",
        "contact_name": "Rita Reseller",
        "email": email,
        "password": PASSWORD,
        "billing_address": {"line1": "Resellerweg 5", "postal_code": "80331", "city": "Munich", "country": "DE"},
        "phone": "+49 89 123456",
    }
    registered = requests.post(f"{gateway}/api/v1/resellers", json=registration, timeout=20)
    assert registered.status_code == 201, registered.text
    approved = requests.post(
        f"{gateway}/api/v1/admin/resellers/{registered.json()['id']}/approve",
        json={"discount_bp": 1000},
        headers=OPS,
        timeout=20,
    )
    assert approved.status_code == 200, approved.text
    reseller = requests.Session()
    login = reseller.post(f"{gateway}/api/v1/session", json={"email": email, "password": PASSWORD}, timeout=20)
    assert login.status_code == 200, login.text
    return tokens, reseller


def merged(*results: LoadResult) -> LoadResult:
    return LoadResult(
        sum(r.requests for r in results),
        sum(r.errors for r in results),
        sum(r.seconds for r in results),
        [latency for r in results for latency in r.latencies],
    )


def measure(
    seconds: float, concurrency: int, links: int, reseller_share: float, threads: int | None = None
) -> tuple[dict[str, LoadResult], dict[str, dict[str, float]]]:
    """({bare, customer, reseller, all}, {customer|reseller: {service: CPU ms per page, BARE_CPU: per request}})."""
    with running_stack(threads) as (urls, _), bare_endpoint() as bare:
        gateway = urls["gateway"]
        tokens, reseller = seed(urls, links)
        customer_page = requests.get(f"{gateway}/extend/{tokens[0]}", timeout=10)
        assert page_ok(customer_page) and b"reseller-discount" not in customer_page.content, customer_page.status_code
        reseller_page = reseller.get(f"{gateway}/extend/{tokens[0]}", timeout=10)
        assert page_ok(reseller_page) and b"55 %" in reseller_page.content, reseller_page.status_code
        session_cookie = reseller.cookies.get_dict()

        def customer(session: requests.Session, _: int) -> requests.Response:
            return session.get(f"{gateway}/extend/{random.choice(tokens)}")

        def as_reseller(session: requests.Session, _: int) -> requests.Response:
            return session.get(f"{gateway}/extend/{random.choice(tokens)}", cookies=session_cookie)

        bare_load = (bare_request(bare), lambda r: r.status_code == 200)
        interleaved_http_load({"bare": bare_load, "page": (customer, page_ok)}, seconds=1, concurrency=concurrency)
        results: dict[str, LoadResult] = {}
        bare_parts: list[LoadResult] = []
        cpu: dict[str, dict[str, float]] = {}
        customer_seconds = max(1.0, round(seconds * (1 - reseller_share)))
        for label, load, part_seconds in (
            ("customer", customer, customer_seconds),
            ("reseller", as_reseller, max(1.0, seconds - customer_seconds)),
        ):
            servers = {**urls, "bare": bare}
            before = stack_cpu_seconds(servers)  # each server's own CPU: the pages' alone, the bare endpoint's alone
            run = interleaved_http_load(
                {"bare": bare_load, "page": (load, page_ok)}, seconds=part_seconds, concurrency=concurrency
            )
            after = stack_cpu_seconds(servers)
            results[label] = run["page"]
            bare_parts.append(run["bare"])
            cpu[label] = {name: (after[name] - before[name]) * 1000 / max(1, run["page"].requests) for name in urls}
            cpu[label][BARE_CPU] = (after["bare"] - before["bare"]) * 1000 / max(1, run["bare"].requests)
    results["bare"] = merged(*bare_parts)
    results["all"] = merged(results["customer"], results["reseller"])
    return results, cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--links", type=int, default=20)
    parser.add_argument(
        "--reseller-share", type=float, default=0.4, help="share of the seconds with a reseller session"
    )
    parser.add_argument("--threads", type=int, help="gunicorn --threads for the gateway and order-service")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    results, cpu = measure(args.seconds, args.concurrency, args.links, args.reseller_share, args.threads)
    bare, pages = results["bare"], results["all"]
    print(bare.line("bare Flask + psycopg, one indexed SELECT"))
    print(results["customer"].line("GET /extend/<token>, customer"))
    print(results["reseller"].line("GET /extend/<token>, reseller session"))
    print(pages.line("GET /extend/<token>, all"))
    for label, split in cpu.items():
        bare_ms = split.pop(BARE_CPU)
        parts = ", ".join(f"{name} {ms:.1f}" for name, ms in split.items())
        print(f"(server CPU ms per {label} page: {parts}, total {sum(split.values()):.1f}; bare {bare_ms:.1f})")
    p95_ratio = pages.p95 / bare.p95
    verdict = "OK" if p95_ratio < 4 else "ABOVE TARGET"
    print(f"{'p95 through the gateway / bare p95':<44} {p95_ratio:6.2f} x   (target < 4 x)   {verdict}")
    report("extension page through the gateway", pages.rate, "req/s", "bare endpoint", bare.rate, 0.20)
    report(
        "extension page 1/p95 through the gateway",
        1 / pages.p95,
        "1/s",
        "bare endpoint 1/p95",
        1 / bare.p95,
        0.25,
        note="1/p95: a ratio >= 25 % is a p95 under 4x the bare endpoint's",
    )


if __name__ == "__main__":
    main()
