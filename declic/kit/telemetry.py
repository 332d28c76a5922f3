"""OpenTelemetry traces that follow one event across every service.

gRPC calls are traced by the OpenTelemetry interceptors (server and client),
which carry the W3C trace context in metadata. Where an event crosses the
Redis stream or waits in a table (a firing), the context travels with it as a
small map (`traceparent`), and the consumer continues the same trace.

Spans carry method names, status codes and record ids — never request
fields, so no personal data reaches the tracing backend.

DECLIC_TRACES_EXPORTER: `none` (default: no-op, near-zero cost), `console`,
`otlp` (standard OTEL_EXPORTER_OTLP_* variables), or `jsonl:<path>` (one JSON
span per line; `{service}` in the path is replaced by the service name).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import grpc
from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor

tracer = trace.get_tracer("declic")


def configure_tracing(service: str, exporter: str) -> TracerProvider | None:
    """Install the process's tracer provider; None (tracing off) for `none`."""
    if exporter == "none":
        return None
    provider = TracerProvider(resource=Resource.create({"service.name": f"declic-{service}",
                                                        "service.namespace": "declic"}))
    if exporter == "console":
        provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
    elif exporter == "otlp":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    elif exporter.startswith("jsonl:"):
        path = exporter.removeprefix("jsonl:").replace("{service}", service)
        output = open(path, "a", encoding="utf-8")  # noqa: SIM115 - open for the process's life

        def one_line(span: ReadableSpan) -> str:
            return json.dumps(json.loads(span.to_json())) + "\n"

        provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter(out=output, formatter=one_line)))
    else:
        raise ValueError(f"unknown traces exporter {exporter!r}")
    trace.set_tracer_provider(provider)
    return provider


def tracing_enabled() -> bool:
    return isinstance(trace.get_tracer_provider(), TracerProvider)


def server_interceptors() -> list[grpc.ServerInterceptor]:
    """The OpenTelemetry server interceptor, when tracing is on."""
    if not tracing_enabled():
        return []
    from opentelemetry.instrumentation.grpc import server_interceptor

    return [server_interceptor()]


def traced(channel: grpc.Channel) -> grpc.Channel:
    """`channel` propagating the current trace to the callee, when tracing is on."""
    if not tracing_enabled():
        return channel
    from opentelemetry.instrumentation.grpc import client_interceptor
    from opentelemetry.instrumentation.grpc.grpcext import intercept_channel

    return intercept_channel(channel, client_interceptor())


def current_context() -> dict[str, str]:
    """The current trace context as a small map (empty, at no cost, when tracing is off)."""
    carrier: dict[str, str] = {}
    if not tracing_enabled():
        return carrier
    propagate.inject(carrier)
    return carrier


@contextmanager
def continued_span(name: str, carrier: Mapping[str, str], **attributes: str) -> Iterator[None]:
    """A span continuing the trace described by `carrier` (a new trace when it is empty)."""
    context = propagate.extract(dict(carrier))
    with tracer.start_as_current_span(name, context=context, kind=trace.SpanKind.CONSUMER,
                                      attributes=attributes):
        yield
