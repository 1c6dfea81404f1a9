"""Fixtures for the deployment contract tests; the helpers live in deploy_contract.py beside this file."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # --import-mode=importlib: make deploy_contract importable

from deploy_contract import Process, SettingsCode, discover_settings_code, read_procfile  # noqa: E402


@pytest.fixture(scope="session")
def settings_code(tmp_path_factory: pytest.TempPathFactory) -> SettingsCode:
    return discover_settings_code(tmp_path_factory.mktemp("var"))


@pytest.fixture(scope="session")
def procfile() -> dict[str, Process]:
    return read_procfile()
