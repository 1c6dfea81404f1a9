"""The notifier's web app (health, readiness, the ops-only on-demand scan) and its CLI, on real backends."""

from __future__ import annotations

import datetime as dt
import json

from notifier.domain.model import LicenseProjection
from notifier.entrypoints import cli
from notifier.entrypoints.flask_app import create_app
from renewals_shared.clock import FixedClock
from renewals_shared.testing import TEST_SECRETS

OPS = {"Authorization": f"Bearer {TEST_SECRETS['OPS_TOKEN']}"}


def seed(notifier, end: dt.date) -> None:  # type: ignore[no-untyped-def]
    with notifier.uow_factory() as uow:
        uow.repo.merge_license(
            LicenseProjection("lic-1", "PRO", "Widget Pro", "Acme", dt.date(2020, 1, 10), end, "it@acme.example", "EUR")
        )
        uow.commit()


def test_admin_reminder_scan(notifier_settings, token_service) -> None:  # type: ignore[no-untyped-def]
    enqueued: list[int] = []
    app = create_app(notifier_settings, enqueue=enqueued.extend, clock=FixedClock(dt.date(2026, 1, 3)))
    notifier = app.extensions["notifier"]
    seed(notifier, dt.date(2026, 2, 2))
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").json["checks"]["database"] == "ok"
    assert client.post("/admin/reminder-scans", json={}).status_code == 401
    assert client.post("/admin/reminder-scans", json={"as_of": "2026-13-01"}, headers=OPS).status_code == 422
    assert client.post("/admin/reminder-scans", json={"bogus": 1}, headers=OPS).status_code == 422
    response = client.post("/admin/reminder-scans", json={}, headers=OPS)  # as_of defaults to the clock's today
    assert response.status_code == 200
    assert response.json == {"as_of": "2026-01-03", "reminders_queued": 1}  # stage -30 is due
    response = client.post("/admin/reminder-scans", json={"as_of": "2026-01-27"}, headers=OPS)
    assert response.json == {"as_of": "2026-01-27", "reminders_queued": 1}  # stage -7
    response = client.post("/admin/reminder-scans", json={"as_of": "2026-01-27"}, headers=OPS)
    assert response.json["reminders_queued"] == 0
    assert len(enqueued) == 2
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'renewals_notifier_emails{status="pending"} 2.0' in metrics


def test_cli_scan_with_as_of(notifier_settings, token_service, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from notifier import bootstrap as bootstrap_module

    enqueued: list[int] = []
    original = bootstrap_module.bootstrap
    monkeypatch.setattr(cli, "bootstrap", lambda: original(enqueue=enqueued.extend))
    seed(original(enqueue=lambda ids: None), dt.date(2026, 2, 2))
    assert cli.main(["scan", "--as-of", "2026-02-16"]) == 0
    assert json.loads(capsys.readouterr().out) == {"as_of": "2026-02-16", "reminders_queued": 1, "skipped": 0}
    assert len(enqueued) == 1
    assert cli.main(["emails", "--status", "pending"]) == 0
    assert '"reminder:lic-1:2026-02-02:14"' in capsys.readouterr().out
