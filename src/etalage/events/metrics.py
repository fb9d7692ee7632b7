"""Prometheus metrics of the interaction stream (served at /metrics with the rest)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

EVENTS = Counter(
    "etalage_events_total", "Interaction events received, by outcome", ["outcome"]
)  # accepted | duplicate | rejected
APPEND_SECONDS = Histogram(
    "etalage_events_append_seconds",
    "Time to append one batch durably to the log",
    ["backend"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
)
CONSUMER_LAG = Gauge(
    "etalage_events_consumer_lag",
    "Events in the log not yet applied by a consumer",
    ["consumer"],
    multiprocess_mode="max",
)
