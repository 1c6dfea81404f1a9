"""Extension-link resolves per second through the token-service HTTP API, beside the bare one-SELECT endpoint.

The token-service runs as deployed (gunicorn, 2 workers, its Flask app and migrations, PostgreSQL, the Redis
brute-force guard) on a scratch database holding 100,000 links. Each request is `GET /links/resolve` with the
service credential and a random stored token in `X-Extension-Token`: lookup by sha256, HMAC re-derivation and
constant-time comparison, status on today's date, JSON. The baseline (baseline.measure_bare_http) is measured in
the same run: both servers are up and the two loads alternate in one-second slices, so both see the same
background load on the shared machine. Target: >= 60 % of the bare endpoint.

The links are stored the fast way: tokens derived with the token-service's own domain code
(`ExtensionLink.issue` with the run's LINK_SECRET) and the rows bulk-copied into its table (no outbox rows).
Only failed resolves count towards the rate limit (RESOLVE_FAILURE_LIMIT is raised anyway, and the run checks
that no failure was counted).

    python bench/links.py [--links 100000] [--seconds 5] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
from pathlib import Path
from typing import Any

import psycopg
import redis
import requests

sys.path.insert(0, str(Path(__file__).parent))
from baseline import bare_endpoint, bare_request  # noqa: E402
from common import LoadResult, interleaved_http_load, machine, report  # noqa: E402
from stack import REDIS_PREFIX, REDIS_URL, SECRETS, base_env, drop_redis_keys, serve, service_database  # noqa: E402
from token_service.domain.model import ExtensionLink  # noqa: E402
from token_service.domain.tokens import LinkSecrets  # noqa: E402

OK = lambda response: response.status_code == 200  # noqa: E731
COLUMNS = (
    "id",
    "license_id",
    "product_sku",
    "cycle_end",
    "licensee_name",
    "currency",
    "customer_discount_bp",
    "expires_on",
    "nonce",
    "secret_id",
    "token_hash",
    "state",
)


def store_links(database_url: str, specs: list[dict[str, Any]], max_lapse_days: int = 365) -> list[str]:
    """Issue one link per spec (license_id, product_sku, cycle_end, licensee_name, currency, customer_discount_bp)
    with the token-service's domain code and COPY the rows into its migrated database. Returns the raw tokens."""
    link_secrets = LinkSecrets(SECRETS["LINK_SECRET"])
    tokens: list[str] = []
    with psycopg.connect(database_url) as connection, connection.cursor() as cursor:
        with cursor.copy(f"COPY extension_links ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for spec in specs:
                link, token = ExtensionLink.issue(**spec, max_lapse_days=max_lapse_days, link_secrets=link_secrets)
                copy.write_row([getattr(link, column) for column in COLUMNS])
                tokens.append(token)
        cursor.execute("ANALYZE extension_links")
    return tokens


def random_specs(count: int) -> list[dict[str, Any]]:
    today = dt.date.today()
    return [
        {
            "license_id": f"lic-{n:08d}",
            "product_sku": f"SKU-{n % 50}",
            "cycle_end": today + dt.timedelta(days=random.randint(-30, 90)),
            "licensee_name": f"Licensee {n} GmbH",
            "currency": "EUR",
            "customer_discount_bp": 5000,
        }
        for n in range(count)
    ]


def measure_resolves(links: int, seconds: float, concurrency: int) -> tuple[LoadResult, LoadResult]:
    """(bare endpoint, resolves): both servers up, measured in alternating one-second slices."""
    with service_database("token") as url, bare_endpoint() as bare:
        started = time.perf_counter()
        tokens = store_links(url, random_specs(links))
        print(f"(stored {len(tokens)} links in {time.perf_counter() - started:.1f} s)")
        env = {**base_env(), "TOKEN_DATABASE_URL": url, "RESOLVE_FAILURE_LIMIT": "100000"}
        try:
            with serve("token", env) as base:
                auth = {"Authorization": f"Bearer {SECRETS['SERVICE_TOKEN']}"}
                first = requests.get(
                    f"{base}/links/resolve", headers={**auth, "X-Extension-Token": tokens[0]}, timeout=30
                )
                assert first.status_code == 200 and first.json()["license_id"] == "lic-00000000", first.text

                def resolve(session: requests.Session, _: int) -> requests.Response:
                    token = tokens[random.randrange(len(tokens))]
                    return session.get(f"{base}/links/resolve", headers={**auth, "X-Extension-Token": token})

                loads = {"bare": (bare_request(bare), OK), "resolve": (resolve, OK)}
                interleaved_http_load(loads, seconds=1, concurrency=concurrency)  # warm-up: pools, caches
                results = interleaved_http_load(loads, seconds=seconds, concurrency=concurrency)
            counted = list(redis.Redis.from_url(REDIS_URL).scan_iter(match=f"{REDIS_PREFIX}token:resolve-failures:*"))
            print(f"(rate limiter: {len(counted)} client(s) with counted failures; successful resolves do not count)")
        finally:
            drop_redis_keys()
    return results["bare"], results["resolve"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--links", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    bare, service = measure_resolves(args.links, args.seconds, args.concurrency)
    print(bare.line("bare Flask + psycopg, one indexed SELECT"))
    print(service.line(f"token-service GET /links/resolve ({args.links:,} links)"))
    report("link resolves", service.rate, "req/s", "bare endpoint", bare.rate, 0.60)


if __name__ == "__main__":
    main()
