from __future__ import annotations

import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

sys.path.insert(0, str(Path(__file__).parent))

from bus_harness import platform_metadata  # noqa: E402
from renewals_shared.db import make_engine  # noqa: E402
from renewals_shared.testing import RUN_ID, Databases  # noqa: E402


@pytest.fixture
def platform_db(databases: Databases) -> Iterator[Callable[[], tuple[str, Engine]]]:
    """Fresh databases holding the platform tables plus the harness's `effects` table."""
    engines: list[Engine] = []

    def make() -> tuple[str, Engine]:
        url = databases.create(f"rt_{RUN_ID}_platform_{uuid.uuid4().hex[:8]}")
        engine = make_engine(url)
        platform_metadata.create_all(engine)
        engines.append(engine)
        return url, engine

    yield make
    for engine in engines:
        engine.dispose()
