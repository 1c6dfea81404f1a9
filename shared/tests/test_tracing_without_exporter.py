"""With no exporter configured, spans record nothing but still carry ids that continue the incoming trace."""

from __future__ import annotations

from opentelemetry import propagate, trace
from renewals_shared.observability import IdOnlyTracer, trace_carrier

INCOMING = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def test_a_span_continues_the_incoming_trace_with_a_new_span_id() -> None:
    parent = propagate.extract({"traceparent": INCOMING})
    span = IdOnlyTracer().start_span("GET /quote", context=parent, kind=trace.SpanKind.SERVER)
    context = span.get_span_context()
    assert not span.is_recording()
    assert format(context.trace_id, "032x") == "0af7651916cd43dd8448eb211c80319c"
    assert format(context.span_id, "016x") != "b7ad6b7169203331"
    assert context.trace_flags.sampled


def test_without_a_parent_a_new_sampled_trace_starts_and_travels_downstream() -> None:
    tracer = IdOnlyTracer()
    with tracer.start_as_current_span("relay") as span:
        context = span.get_span_context()
        assert context.is_valid and context.trace_flags.sampled
        with tracer.start_as_current_span("POST token-service") as child:
            assert child.get_span_context().trace_id == context.trace_id
            carrier = trace_carrier()
    assert carrier["traceparent"].split("-")[1] == format(context.trace_id, "032x")
    assert carrier["traceparent"].split("-")[2] == format(child.get_span_context().span_id, "016x")
