"""Reseller logins per second through the reseller-service API beside raw argon2id verification, same run.

Adopted from services/reseller-service/bench/auth.py. The hash dominates a login by design, so the question is
how much the service adds on top of it: at most 25 % (logins/s >= 80 % of raw verifications/s).

- raw: `argon2.PasswordHasher(...).verify(stored_hash, password)` in this process, one at a time, with the
  service's own parameters (RESELLER_ARGON2_*, default m=19 MiB t=2 p=1) and the very hash the service stored.
- API over HTTP: `POST /authenticate` with the service credential, one client at a time, against the
  reseller-service under gunicorn (2 workers) on a migrated scratch database and Redis (attempt limiter), sent
  the way the gateway sends it: through `renewals_shared.http.ServiceClient`.
- API in-process: the same Flask app through its test client (schema, handler, repository, limiter, argon2id,
  no HTTP server), the figure the service's own benchmark printed.
One call at a time so the comparison is per login, not a contest for the cores; the three run in alternating
half-second slices so that all see the same background load (the machine is shared).

    python bench/auth.py [--seconds 5]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import argon2
import psycopg
import requests

sys.path.insert(0, str(Path(__file__).parent))
from common import machine, report  # noqa: E402
from stack import SECRETS, base_env, drop_redis_keys, serve, service_database  # noqa: E402

PASSWORD = "Bench-Reseller-Passphrase-2026"
EMAIL = "bench@example.com"
SERVICE = {"Authorization": f"Bearer {SECRETS['SERVICE_TOKEN']}"}


def interleaved(operations: dict[str, Callable[[], object]], seconds: float, slice_: float = 0.5) -> dict[str, float]:
    """Operations per second of each, one at a time, about `seconds` each, in alternating slices of `slice_`
    seconds so that all of them see the same background load on a shared machine. One warm-up call each."""
    for operation in operations.values():
        operation()
    counts = dict.fromkeys(operations, 0)
    spent = dict.fromkeys(operations, 0.0)
    for _ in range(max(1, round(seconds / slice_))):
        for name, operation in operations.items():
            started = time.perf_counter()
            while (elapsed := time.perf_counter() - started) < slice_:
                operation()
                counts[name] += 1
            spent[name] += elapsed
    return {name: counts[name] / spent[name] for name in operations}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    env = {**base_env(), "RESELLER_AUTH_MAX_FAILURES": "10000"}
    with service_database("reseller") as url:
        env["RESELLER_DATABASE_URL"] = url
        os.environ.update(env)  # the in-process app and ResellerConfig read the same settings
        from renewals_shared.db import make_engine
        from renewals_shared.http import ServiceClient
        from reseller_service.config import ResellerConfig
        from reseller_service.entrypoints.flask_app import create_app

        config = ResellerConfig.from_env()
        login = {"email": EMAIL, "password": PASSWORD}
        try:
            with serve("reseller", env) as base:
                body = {
                    "company": "Bench GmbH",
                    "contact_name": "Bench",
                    "email": EMAIL,
                    "password": PASSWORD,
                    "billing_address": {"line1": "Weg 1", "postal_code": "10115", "city": "Berlin", "country": "DE"},
                    "phone": "+49 30 1",
                }
                created = requests.post(f"{base}/resellers", json=body, headers=SERVICE, timeout=30)
                assert created.status_code == 201, created.text
                reseller_id = created.json()["id"]
                approved = requests.post(
                    f"{base}/admin/resellers/{reseller_id}/approve", json={}, headers=SERVICE, timeout=30
                )
                assert approved.status_code == 200, approved.text
                with psycopg.connect(url) as connection:
                    stored_hash = connection.execute(
                        "SELECT password_hash FROM resellers WHERE id = %s", (reseller_id,)
                    ).fetchone()[0]

                raw_hasher = argon2.PasswordHasher(
                    time_cost=config.argon2_time_cost,
                    memory_cost=config.argon2_memory_kib,
                    parallelism=config.argon2_parallelism,
                    type=argon2.Type.ID,
                )
                assert not raw_hasher.check_needs_rehash(stored_hash)  # same parameters as the service's hash

                def raw() -> None:
                    assert raw_hasher.verify(stored_hash, PASSWORD)

                gateway_client = ServiceClient(base, SECRETS["SERVICE_TOKEN"])

                def login_http() -> None:
                    assert gateway_client.post("/authenticate", json=login).status_code == 200

                engine = make_engine(url)
                client = create_app(engine=engine).test_client()

                def login_in_process() -> None:
                    assert client.post("/authenticate", json=login, headers=SERVICE).status_code == 200

                rates = interleaved({"raw": raw, "http": login_http, "in-process": login_in_process}, args.seconds)
                engine.dispose()
        finally:
            drop_redis_keys()
    raw_rate = rates["raw"]
    print(f"argon2id m={config.argon2_memory_kib} KiB t={config.argon2_time_cost} p={config.argon2_parallelism}")
    print(f"{'raw PasswordHasher.verify':<44} {raw_rate:9.1f} /s")
    print(f"{'reseller-service POST /authenticate (HTTP)':<44} {rates['http']:9.1f} /s")
    print(f"{'reseller-service /authenticate (in-process)':<44} {rates['in-process']:9.1f} /s")
    for label, value in (("logins via HTTP", rates["http"]), ("logins in-process", rates["in-process"])):
        print(f"{label + ' overhead on the hash':<44} {(raw_rate / value - 1) * 100:6.1f} %   (target <= 25 %)")
        report(label, value, "logins/s", "raw argon2id verify", raw_rate, 0.80, "overhead <= 25 % of the hash time")


if __name__ == "__main__":
    main()
