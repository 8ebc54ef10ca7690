"""What the benchmark commands share: forked child processes, the portal served in this process, percentiles,
peak memory and CPU of a phase, and a round's verified counts."""

from __future__ import annotations

import multiprocessing
import resource
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
from django.db import connection, connections
from django.db.models import Model

CHILD_TIMEOUT = 3600.0


def proc_status(pid: int | str = "self") -> dict[str, int]:
    """VmRSS / VmHWM (peak RSS) of a process in KiB, from /proc (Linux); empty elsewhere."""
    values: dict[str, int] = {}
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return values
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0])
    return values


def reset_peak() -> bool:
    """Reset this process's VmHWM so the next reading is the peak of one phase, not of the whole run (Linux ≥ 4.0)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def portal_peak_mib(reset: bool) -> float:
    """Peak RSS of this (the portal's) process since the last reset; ru_maxrss (peak since start) without /proc."""
    hwm = proc_status().get("VmHWM")
    if reset and hwm is not None:
        return hwm / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def percentile(samples: Sequence[float], fraction: float) -> float:
    if not samples:
        return 0.0
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def fork(target: Callable[..., None], *args: Any) -> tuple[BaseProcess, Connection]:
    """Start `target(conn, *args)` in a forked child (it inherits the imported modules, so it starts at once).

    The database connections are closed first: the child never uses them and must not share their sockets.
    """
    connections.close_all()
    context = multiprocessing.get_context("fork")
    parent_end, child_end = context.Pipe()
    child = context.Process(target=target, args=(child_end, *args), daemon=True)
    child.start()
    child_end.close()
    return child, parent_end


def receive(conn: Connection, child: BaseProcess, timeout: float = CHILD_TIMEOUT) -> Any:
    """The child's next message; CommandError if it died, failed or went silent."""
    deadline = time.monotonic() + timeout
    while not conn.poll(0.5):
        if not child.is_alive():
            raise CommandError(f"benchmark child process exited with code {child.exitcode}")
        if time.monotonic() > deadline:
            raise CommandError("benchmark child process did not answer in time")
    message = conn.recv()
    if isinstance(message, dict) and "error" in message:
        raise CommandError(f"benchmark child process failed:\n{message['error']}")
    return message


def guarded(conn: Connection, body: Callable[[], None]) -> None:
    try:
        body()
    except BaseException:
        conn.send({"error": traceback.format_exc()})


class PortalServer(ThreadedWSGIServer):
    # Django's development server listens with a backlog of 10: 50 senders connecting at once would lose SYNs and
    # wait out TCP's 1 s / 3 s retransmits (or hit the connect timeout). Production servers use 2048 (gunicorn).
    request_queue_size = 2048


class QuietHandler(WSGIRequestHandler):
    # Keep-alive answers go out as headers then body; with Nagle on, each waits ~40 ms for the client's delayed ACK,
    # which would measure the loopback's TCP settings rather than the portal (production servers set TCP_NODELAY).
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass  # one access-log line per message would be measured too


@dataclass
class Round:
    """One round's figures per phase (numbers, plus a `verified` block of checks) and its raw latency samples."""

    operator_id: str
    figures: dict[str, dict[str, Any]] = field(default_factory=dict)
    samples: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def check(self, what: str, actual: Any, expected: Any) -> dict[str, Any]:
        if actual != expected:
            self.failures.append(f"{what}: {actual!r}, expected {expected!r}")
        return {"actual": actual, "expected": expected, "ok": actual == expected}


def percentiles(samples: Sequence[float], prefix: str = "") -> dict[str, float]:
    return {f"{prefix}p50_ms": percentile(samples, 0.5), f"{prefix}p99_ms": percentile(samples, 0.99)}


def sql_delete(model: type[Model], column: str, values: list[str]) -> None:
    table, column = connection.ops.quote_name(model._meta.db_table), connection.ops.quote_name(column)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE {column} IN ({', '.join(['%s'] * len(values))})", values)  # noqa: S608
