"""schemathesis against the running system's `/api/v1/openapi.json`: every public operation without the ops token
(GETs and the unauthenticated POSTs/DELETE), a bounded number of generated requests each, no stateful phase.
No 5xx, and every response matches the documented status codes, content types and schemas.

The requests come from 127.0.0.2 so that the per-client guards they trip (unknown links, wrong logins) do not
throttle the other end-to-end tests, which talk to the system from 127.0.0.1.
"""

from __future__ import annotations

import os

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from requests.adapters import HTTPAdapter
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
FUZZ_CLIENT = "127.0.0.2"


class SourceAddressAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        kwargs["source_address"] = (FUZZ_CLIENT, 0)
        super().init_poolmanager(*args, **kwargs)


def public_operations() -> list[tuple[str, str]]:
    """(METHOD, path) of every operation that needs no ops token, from the gateway's own document (the same one
    the running system serves, which the test loads)."""
    from gateway.entrypoints.openapi import openapi_document

    paths = openapi_document("http://gateway")["paths"]
    return [
        (method.upper(), path)
        for path, operations in paths.items()
        for method, operation in operations.items()
        if method in ("get", "post", "put", "patch", "delete") and not operation.get("security")
    ]


@pytest.fixture(scope="module")
def api_schema(system):  # noqa: ANN001, ANN201
    return schemathesis.openapi.from_url(f"{system.url()}/api/v1/openapi.json")


@pytest.fixture(scope="module")
def fuzz_session() -> requests.Session:
    session = requests.Session()
    session.mount("http://", SourceAddressAdapter())
    return session


@pytest.mark.parametrize(("method", "path"), public_operations(), ids=lambda v: v)
def test_public_api_matches_its_openapi_document(method, path, system, api_schema, fuzz_session):  # noqa: ANN001
    # schemathesis' own pytest integration (`from_fixture`) does not run on pytest 9 (it sets `node._nodeid`),
    # so each operation drives its strategy with hypothesis directly
    operation = api_schema[path][method]

    @given(case=operation.as_strategy())
    @settings(
        max_examples=30,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=os.environ.get("SCHEMA_FUZZ_RANDOM") != "1",  # fixed examples unless asked for fresh ones
        database=None,
        phases=[Phase.explicit, Phase.generate],
    )
    def run(case) -> None:  # noqa: ANN001
        fuzz_session.cookies.clear()  # a stranger each time: a session cookie would make every POST a CSRF 403
        case.call_and_validate(base_url=f"{system.url()}/api/v1", session=fuzz_session, checks=CHECKS)

    run()
