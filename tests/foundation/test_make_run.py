"""`make run`'s promise: every process of the Procfile comes up ready on the embedded backends, and Ctrl-C
stops everything, the private PostgreSQL and Redis included."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from renewals_shared import embedded
from renewals_shared.config import EMBEDDED_PG_PORT, EMBEDDED_REDIS_PORT, SERVICE_PORTS

ROOT = Path(__file__).resolve().parents[2]
PORTS = [*SERVICE_PORTS.values(), EMBEDDED_PG_PORT, EMBEDDED_REDIS_PORT, 8025]
pytestmark = pytest.mark.slow


def test_make_run_brings_every_service_to_ready_and_ctrl_c_stops_everything(tmp_path: Path) -> None:
    busy = [port for port in PORTS if embedded.port_open(port)]
    if busy:
        pytest.skip(f"ports {busy} are taken (a `make run` is up?); this test needs them free")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.endswith("_DATABASE_URL") and key not in ("BROKER_URL", "REDIS_URL", "BUS_NAMESPACE")
    }
    env.update(RENEWALS_VAR_DIR=str(tmp_path / "var"), MAILBOX_DIR=str(tmp_path / "var" / "mailbox"))
    log = (tmp_path / "run.log").open("w+")
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "tools" / "devstack.py")],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 180
        while "Renewals is running" not in (tmp_path / "run.log").read_text():
            assert process.poll() is None, (tmp_path / "run.log").read_text()[-3000:]
            assert time.monotonic() < deadline, (tmp_path / "run.log").read_text()[-3000:]
            time.sleep(0.5)
        output = (tmp_path / "run.log").read_text()
        assert "NOT READY" not in output, output[-3000:]
        for name, port in SERVICE_PORTS.items():
            response = requests.get(f"http://127.0.0.1:{port}/readyz", timeout=5)
            assert response.status_code == 200, (name, response.text)
        assert requests.get("http://127.0.0.1:8000/", timeout=5).status_code == 200
        assert "ops token:" in output and "reseller@example.com" in output
        assert "http://127.0.0.1:8000/extend/" in output, "the banner lists demo extension links"
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            raise
    assert process.returncode == 0, (tmp_path / "run.log").read_text()[-3000:]
    time.sleep(1)
    assert [port for port in PORTS if embedded.port_open(port)] == []
