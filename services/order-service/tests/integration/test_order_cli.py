"""seed-demo and import-licenses against a real database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from sqlalchemy import func, select

from order_service.adapters import orm
from order_service.entrypoints.cli import cli
from renewals_shared.db import make_engine


def test_seed_demo_is_idempotent(service_env: Any, monkeypatch: Any) -> None:
    settings = service_env("order", RENEWALS_FIXED_TODAY="2026-03-01")
    runner = CliRunner()
    first = runner.invoke(cli, ["seed-demo"])
    assert first.exit_code == 0, first.output
    assert json.loads(first.output)["seeded"]["imported"] == 5
    second = runner.invoke(cli, ["seed-demo"])
    assert second.exit_code == 0 and json.loads(second.output)["seeded"]["imported"] == 0
    engine = make_engine(settings.database_url)
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(orm.licenses)).scalar() == 5
        assert c.execute(select(func.count()).select_from(orm.products)).scalar() == 3
        assert c.execute(select(func.count()).select_from(orm.price_lists)).scalar() == 6
        ends = dict(c.execute(select(orm.licenses.c.license_key, orm.licenses.c.maintenance_end)).all())
        leap = c.execute(
            select(orm.licenses.c.purchase_date).where(orm.licenses.c.license_key == "DEMO-NPRO-0004-D2N5")
        ).scalar()
    engine.dispose()
    assert ends["DEMO-NPRO-0001-A7K2"].isoformat() == "2026-03-31"  # expiring in 30 days
    assert ends["DEMO-NSTD-0002-B8L3"].isoformat() == "2026-02-09"  # lapsed 20 days
    assert leap.isoformat() == "2020-02-29"


def test_import_licenses_file(service_env: Any, tmp_path: Path) -> None:
    service_env("order", RENEWALS_FIXED_TODAY="2026-03-01")
    runner = CliRunner()
    assert runner.invoke(cli, ["seed-demo"]).exit_code == 0
    party = {
        "name": "N",
        "company": "C",
        "email": "n@example.com",
        "address": {"line1": "L", "postal_code": "1", "city": "X", "country": "DE"},
    }
    rows = [
        {
            "license_key": "FILE-0001-XXXX",
            "product_sku": "NOTEPAD-PRO",
            "seats": 1,
            "licensee_name": "C",
            "purchase_date": "2023-05-05",
            "maintenance_end": "2026-05-05",
            "contact_email": "n@example.com",
            "currency": "EUR",
            "end_customer": party,
        },
        {
            "license_key": "FILE-0002-XXXX",
            "product_sku": "NOTEPAD-PRO",
            "seats": 0,
            "licensee_name": "C",
            "purchase_date": "2023-05-05",
            "maintenance_end": "2026-05-05",
            "contact_email": "n@example.com",
            "currency": "EUR",
            "end_customer": party,
        },
    ]
    path = tmp_path / "licenses.json"
    path.write_text(json.dumps(rows))
    result = runner.invoke(cli, ["import-licenses", str(path)])
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["imported"] == 1 and [e["line"] for e in report["errors"]] == [2]
