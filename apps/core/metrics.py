"""The portal's Prometheus counters, in one place: the lower apps count where things happen, apps/ops serves them.

Counting sits on the protocol's hot path, so a labelled child is looked up once per label set and kept (the
`labels()` call takes a lock and builds a key each time). Under gunicorn and Celery's prefork pool each process
counts for itself: with PROMETHEUS_MULTIPROC_DIR set (before the process starts) prometheus-client writes every
value to a file there and /metrics adds them up (README, Operations).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from prometheus_client import Counter, Histogram

# Seconds. The protocol answers in milliseconds; the fuzz's bound is 1 s; beyond 5 s a peer has likely given up.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

PROTOCOL_REQUESTS = Counter(
    "hlht_protocol_requests",
    "Messages the protocol server answered, by interface and Ret (an unknown interface is counted as 'unknown')",
    ["interface", "ret"],
)
PROTOCOL_LATENCY = Histogram(
    "hlht_protocol_latency_seconds",
    "Time from reading a message to its answer, by interface and Ret",
    ["interface", "ret"],
    buckets=LATENCY_BUCKETS,
)
PUSHES_STORED = Counter(
    "hlht_pushes_stored",
    "Pushes (notification_*) accepted with Ret 0, each stored in its own transaction, by interface and operator",
    ["interface", "operator"],
)
PULL_RUNS = Counter(
    "hlht_pull_runs",
    "Pull runs finished, by operator, interface and outcome (succeeded or failed)",
    ["operator", "interface", "outcome"],
)

logger = logging.getLogger(__name__)
_children: dict[tuple[Any, ...], Any] = {}
_F = TypeVar("_F", bound=Callable[..., None])


def _never_raises(count: _F) -> _F:
    """Counting never costs the work counted: a failure (a PROMETHEUS_MULTIPROC_DIR that is gone, a full disk) is
    logged, and the answer or the pull run goes on."""

    @wraps(count)
    def guarded(*args: Any, **kwargs: Any) -> None:
        try:
            count(*args, **kwargs)
        except Exception:
            logger.exception("metrics: %s failed", count.__name__)

    return guarded  # type: ignore[return-value]


def _child(metric: Any, *labels: str) -> Any:
    key = (id(metric), *labels)
    child = _children.get(key)
    if child is None:
        child = _children[key] = metric.labels(*labels)
    return child


@_never_raises
def exchange_observe(interface: str, ret: int | None, seconds: float, *, push_of: str | None = None) -> None:
    """One answered message: its interface (a name the server serves, or 'unknown': a peer chooses the path and
    must not choose the number of series), its Ret and its latency; `push_of` names the operator whose push was
    stored."""
    code = "none" if ret is None else str(ret)
    _child(PROTOCOL_REQUESTS, interface, code).inc()
    _child(PROTOCOL_LATENCY, interface, code).observe(seconds)
    if push_of is not None:
        _child(PUSHES_STORED, interface, push_of).inc()


@_never_raises
def pull_finished(operator: str, interface: str, *, failed: bool) -> None:
    """One pull run ended (in the worker that ran it)."""
    _child(PULL_RUNS, operator, interface, "failed" if failed else "succeeded").inc()


def forget() -> None:
    """Drop the kept children (tests clear the metrics' values with `metric.clear()` first)."""
    _children.clear()
