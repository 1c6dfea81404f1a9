"""Read one sample from a service's /metrics, and the spans every process of the system wrote to TRACE_FILE."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import requests
from prometheus_client.parser import text_string_to_metric_families


def sample(system: Any, service: str, name: str, **labels: str) -> float:
    """The sum of the samples called `name` whose labels include `labels` (0 when there is none yet)."""
    text = requests.get(f"{system.url(service)}/metrics", timeout=10).text
    total = 0.0
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                total += s.value
    return total


def spans(system: Any) -> list[dict[str, Any]]:
    path = Path(system.env["TRACE_FILE"])
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
