from __future__ import annotations

from typing import Any

import pytest

from gateway.fakes import World, build_world


@pytest.fixture
def world(tmp_path: Any) -> World:
    return build_world(tmp_path)


@pytest.fixture
def make_world(tmp_path: Any) -> Any:
    """A world with other settings, e.g. `make_world(public_base_url="https://shop.example", mode="real")`."""

    def factory(**settings_changes: Any) -> World:
        return build_world(tmp_path, **settings_changes)

    return factory
