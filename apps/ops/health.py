"""The health checks behind /healthz and /metrics' gauges: the database, the broker and its queues, beat's last
tick and the outbox. Each is cheap (one indexed query or one broker round trip) and bounded: the database's three
run on a connection of their own with a statement timeout, the broker's with socket timeouts, both in threads that
the caller waits for at most HLHT_OPS_CHECK_TIMEOUT (a check still running then has failed: 超时).

Our own ~120 lines rather than django-health-check: its broker check sends a task and waits for a result backend
the portal does not run, it has no queue depths or per-check timeouts, and its plugin registry and HTML views would
still need this module's network restriction and JSON answer around them.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import connection
from django.utils import timezone

from apps.charging.selectors import outbox_backlog
from apps.core.conf import conf

from .models import Heartbeat
from .services import BEAT

CHECKS = ("database", "broker", "beat", "outbox")


@dataclass(slots=True)
class Result:
    """One check's verdict, its figures (latency, queue depths, ages) and why it failed."""

    ok: bool = False
    figures: dict[str, Any] = field(default_factory=dict)
    error: str = ""

    def as_json(self) -> dict[str, Any]:
        return {"ok": self.ok, **self.figures, **({"error": self.error} if self.error else {})}


def queue_names() -> tuple[str, ...]:
    """The queues the portal's workers consume: Celery's default (the dispatcher, housekeeping) and the pulls'."""
    return (current_app.conf.task_default_queue, conf().client.pull_queue)


def _database(results: dict[str, Result], timeout: float) -> None:
    """database, beat and outbox, in order, on this thread's own connection (closed at the end)."""
    if connection.vendor == "postgresql":
        # This thread's own wrapper gets its own settings: a host that swallows packets fails the connect in
        # `timeout` (libpq counts whole seconds, at least 2) instead of the kernel's minutes.
        options = {**connection.settings_dict.get("OPTIONS", {}), "connect_timeout": max(2, math.ceil(timeout))}
        connection.settings_dict = {**connection.settings_dict, "OPTIONS": options}
    started = time.perf_counter()
    try:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SET statement_timeout = %s", [int(timeout * 1000)])
            cursor.execute("SELECT 1")
            cursor.fetchone()
        results["database"] = Result(True, {"latency_ms": round((time.perf_counter() - started) * 1000, 1)})
        now = timezone.now()
        tick = Heartbeat.objects.filter(pk=BEAT).values_list("at", flat=True).first()
        if tick is None:
            results["beat"] = Result(False, {"last_tick": None}, "beat has never ticked")
        else:
            age = (now - tick).total_seconds()
            fresh = age <= conf().ops.beat_stale.total_seconds()
            results["beat"] = Result(
                fresh,
                {"last_tick": tick.isoformat(), "age_seconds": round(age, 1)},
                "" if fresh else f"last tick {age:.0f} s ago",
            )
        backlog = outbox_backlog(now)
        late = backlog.oldest_seconds > conf().ops.outbox_stale.total_seconds()
        results["outbox"] = Result(
            not late,
            {"depth": backlog.depth, "oldest_overdue_seconds": round(backlog.oldest_seconds, 1)},
            f"a due command has waited {backlog.oldest_seconds:.0f} s" if late else "",
        )
    except Exception as exc:
        for name in ("database", "beat", "outbox"):
            results.setdefault(name, Result(False, {}, f"{type(exc).__name__}: {exc}"[:300]))
    finally:
        connection.close()


def _broker(results: dict[str, Result], timeout: float) -> None:
    """Connect, then a passive declare of each queue: its message count is the queue's depth. A queue the broker
    does not know is empty (Redis keeps no empty list; a queue no worker declared yet on AMQP)."""
    started = time.perf_counter()
    # The URL as settings read it (a test points it elsewhere); the rest as the Celery app is configured.
    options = {"socket_timeout": timeout, "socket_connect_timeout": timeout}
    try:
        with current_app.connection_for_read(
            settings.CELERY_BROKER_URL, connect_timeout=timeout, transport_options=options
        ) as broker:
            broker.ensure_connection(max_retries=0)
            depths: dict[str, int] = {}
            for queue in queue_names():
                channel: Any = broker.channel()  # a refused passive declare closes its channel on AMQP
                try:
                    depths[queue] = channel.queue_declare(queue=queue, passive=True).message_count
                except broker.channel_errors:
                    depths[queue] = 0
                finally:
                    channel.close()
        latency = round((time.perf_counter() - started) * 1000, 1)
        results["broker"] = Result(True, {"latency_ms": latency, "queues": depths})
    except Exception as exc:
        results["broker"] = Result(False, {}, f"{type(exc).__name__}: {exc}"[:300])


def run_checks(timeout: float | None = None) -> dict[str, Result]:
    """Every check, the database's and the broker's side by side; the whole takes at most about `timeout`."""
    timeout = conf().ops.check_timeout_seconds if timeout is None else timeout
    results: dict[str, Result] = {}
    runners: list[Callable[[dict[str, Result], float], None]] = [_database, _broker]
    threads = [threading.Thread(target=run, args=(results, timeout), daemon=True) for run in runners]
    deadline = time.monotonic() + timeout + 0.25  # the checks' own timeouts first; this is the backstop
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    verdicts = dict(results)  # a late thread may still write into `results`: what is answered is fixed here
    for name in CHECKS:
        verdicts.setdefault(name, Result(False, {}, f"timed out after {timeout:g} s"))
    return {name: verdicts[name] for name in CHECKS}
