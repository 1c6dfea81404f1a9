"""Reseller service against real PostgreSQL, Redis and the broker (renewals_shared.testing's `service_env`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask.testing import FlaskClient
from renewals_shared.config import Settings
from renewals_shared.db import make_engine
from renewals_shared.testing import TEST_SECRETS
from sqlalchemy import Engine

from reseller_service.entrypoints.flask_app import create_app

SERVICE = {"Authorization": f"Bearer {TEST_SECRETS['SERVICE_TOKEN']}"}
OPS = {"Authorization": f"Bearer {TEST_SECRETS['OPS_TOKEN']}"}
PASSWORD = "Tr0ub4dor-and-3-horses"


def registration(email: str = "erika@muster.example", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "company": "Muster GmbH",
        "contact_name": "Erika Muster",
        "email": email,
        "password": PASSWORD,
        "billing_address": {
            "line1": "Hauptstr. 1",
            "line2": "",
            "postal_code": "10115",
            "city": "Berlin",
            "region": "",
            "country": "DE",
        },
        "vat_id": "DE123456789",
        "phone": "+49 30 1234567",
    }
    body.update(overrides)
    return body


class MovableClock:
    def __init__(self) -> None:
        self.current = dt.datetime.now(dt.UTC)

    def now(self) -> dt.datetime:
        return self.current

    def today(self) -> dt.date:
        return self.current.date()

    def advance(self, **delta: float) -> None:
        self.current += dt.timedelta(**delta)


@dataclass
class Reseller:
    settings: Settings
    engine: Engine
    client: FlaskClient
    clock: MovableClock

    def register(self, email: str = "erika@muster.example", **overrides: Any) -> str:
        response = self.client.post("/resellers", json=registration(email, **overrides), headers=SERVICE)
        assert response.status_code == 201, response.get_json()
        return str(response.get_json()["id"])

    def approve(self, reseller_id: str, **body: Any) -> dict[str, Any]:
        response = self.client.post(f"/admin/resellers/{reseller_id}/approve", json=body, headers=OPS)
        assert response.status_code == 200, response.get_json()
        return dict(response.get_json())

    def authenticate(self, email: str, password: str, client: str = "203.0.113.7") -> Any:
        return self.client.post(
            "/authenticate",
            json={"email": email, "password": password},
            headers={**SERVICE, "X-Client-Address": client},
        )


@pytest.fixture
def make_reseller(
    service_env: Callable[..., Settings],
) -> Iterator[Callable[..., Reseller]]:
    engines: list[Engine] = []

    def make(**env: str) -> Reseller:
        settings = service_env("reseller", **env)
        assert settings.database_url is not None
        engine = make_engine(settings.database_url)
        engines.append(engine)
        clock = MovableClock()
        app = create_app(settings, engine=engine, clock=clock)
        return Reseller(settings, engine, app.test_client(), clock)

    yield make
    for engine in engines:
        engine.dispose()


@pytest.fixture
def reseller(make_reseller: Callable[..., Reseller]) -> Reseller:
    return make_reseller()


@pytest.fixture
def registration_body() -> Callable[..., dict[str, Any]]:
    return registration
