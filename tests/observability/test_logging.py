"""Every log line is one JSON object with the service, the correlation id and, inside a span, the trace id."""

from __future__ import annotations

import json
import logging
import uuid

from renewals_shared.observability import configure_logging, correlation_id_var, get_logger, span_from, trace_carrier


def test_structlog_and_stdlib_lines_carry_the_correlation_and_trace_ids(capsys):
    configure_logging("probe")
    correlation_id = str(uuid.uuid4())
    token = correlation_id_var.set(correlation_id)
    try:
        with span_from(None, "probe work"):
            traceparent = trace_carrier()["traceparent"]
            get_logger("probe").info("structlog line", detail=1)
            logging.getLogger("kombu.probe").warning("stdlib line")
    finally:
        correlation_id_var.reset(token)
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    probe = [line for line in lines if line["event"] in ("structlog line", "stdlib line")]
    assert len(probe) == 2
    for line in probe:
        assert line["service"] == "probe"
        assert line["correlation_id"] == correlation_id
        assert line["trace_id"] == traceparent.split("-")[1]
