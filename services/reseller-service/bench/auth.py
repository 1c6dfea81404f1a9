"""Logins per second through the reseller API beside raw argon2id verification, same process, same parameters.

    .venv/bin/python services/reseller-service/bench/auth.py [--logins 40]

Uses a scratch database on PostgreSQL (BENCH_POSTGRES_URL, default postgresql://postgres@127.0.0.1:5432/postgres,
dropped afterwards) and Redis (REDIS_URL, default redis://127.0.0.1:6379/0). The API path is the Flask app
in-process (schema, handler, repository, Redis limiter, argon2id); the target is at most 25 % on top of the hash.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid

import psycopg
from renewals_shared.config import Settings
from renewals_shared.db import make_engine
from renewals_shared.migrations import upgrade

from reseller_service.config import ResellerConfig
from reseller_service.entrypoints.flask_app import create_app

PASSWORD = "Bench-Reseller-Passphrase-2026"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--logins", type=int, default=40)
    args = parser.parse_args()

    admin_url = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    name = f"bench_reseller_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    base = admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    os.environ.update(
        {
            "RESELLER_DATABASE_URL": f"{base}/{name}",
            "RENEWALS_VAR_DIR": tempfile.mkdtemp(prefix="bench-reseller-"),
            "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
            "REDIS_PREFIX": f"bench:{name}:",
            "BUS_NAMESPACE": name,
        }
    )
    engine = None
    try:
        upgrade("reseller", os.environ["RESELLER_DATABASE_URL"])
        settings = Settings.from_env("reseller")
        engine = make_engine(os.environ["RESELLER_DATABASE_URL"])
        app = create_app(settings, engine=engine)
        client = app.test_client()
        service = app.extensions["reseller_service"]
        auth = {"Authorization": f"Bearer {settings.service_token}"}
        body = {
            "company": "Bench GmbH",
            "contact_name": "Bench",
            "email": "bench@example.com",
            "password": PASSWORD,
            "billing_address": {"line1": "Weg 1", "postal_code": "10115", "city": "Berlin", "country": "DE"},
            "phone": "+49 30 1",
        }
        reseller_id = client.post("/resellers", json=body, headers=auth).get_json()["id"]
        client.post(f"/admin/resellers/{reseller_id}/approve", json={}, headers=auth)
        stored_hash = service.hasher.hash(PASSWORD)

        login = {"email": "bench@example.com", "password": PASSWORD}
        assert client.post("/authenticate", json=login, headers=auth).status_code == 200  # warm up
        started = time.perf_counter()
        for _ in range(args.logins):
            assert client.post("/authenticate", json=login, headers=auth).status_code == 200
        api_seconds = time.perf_counter() - started

        started = time.perf_counter()
        for _ in range(args.logins):
            assert service.hasher.verify(stored_hash, PASSWORD)
        raw_seconds = time.perf_counter() - started

        config = ResellerConfig.from_env()
        ratio = api_seconds / raw_seconds
        print(f"argon2id m={config.argon2_memory_kib} KiB t={config.argon2_time_cost} p={config.argon2_parallelism}")
        print(f"raw verify : {args.logins / raw_seconds:8.1f} /s")
        print(f"API login  : {args.logins / api_seconds:8.1f} /s")
        print(f"ratio API/raw time: {ratio:.3f} (overhead {100 * (ratio - 1):.1f} %, target <= 25 %)")
    finally:
        if engine is not None:
            engine.dispose()
        with psycopg.connect(admin_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
