"""The gauges computed at scrape time from the checks (apps/ops/health.py): queue lengths, the outbox, beat's age
and each check's up/down. Computed by whichever process answers the scrape, so they are never summed across
gunicorn's workers the way the counters of apps/core/metrics.py are."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client.core import GaugeMetricFamily

from .health import CHECKS, run_checks


class OpsCollector:
    """A prometheus-client custom collector: one run of the checks per scrape (bounded by their timeouts)."""

    def collect(self) -> Iterator[Any]:
        results = run_checks()
        up = GaugeMetricFamily(
            "hlht_check_up", "1 when the health check passes (as /healthz answers it)", labels=["check"]
        )
        for name in CHECKS:
            up.add_metric([name], 1.0 if results[name].ok else 0.0)
        yield up
        figures = {name: result.figures for name, result in results.items()}
        if "queues" in figures["broker"]:
            queues = GaugeMetricFamily(
                "hlht_celery_queue_length", "Messages waiting in a Celery queue (passive declare)", labels=["queue"]
            )
            for queue, depth in figures["broker"]["queues"].items():
                queues.add_metric([queue], float(depth))
            yield queues
        if "depth" in figures["outbox"]:
            yield GaugeMetricFamily(
                "hlht_outbox_depth", "Outbox commands still pending", value=float(figures["outbox"]["depth"])
            )
            yield GaugeMetricFamily(
                "hlht_outbox_oldest_overdue_seconds",
                "Seconds the longest-overdue pending command has waited since it was due (0: none overdue)",
                value=float(figures["outbox"]["oldest_overdue_seconds"]),
            )
        if figures["beat"].get("age_seconds") is not None:
            yield GaugeMetricFamily(
                "hlht_beat_last_tick_age_seconds",
                "Seconds since beat's heartbeat task last ran",
                value=float(figures["beat"]["age_seconds"]),
            )
        if "latency_ms" in figures["database"]:
            yield GaugeMetricFamily(
                "hlht_database_latency_seconds",
                "Round trip of the health check's SELECT 1",
                value=float(figures["database"]["latency_ms"]) / 1000,
            )
