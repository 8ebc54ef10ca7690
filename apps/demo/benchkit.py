"""What the benchmark commands share: forked child processes, the portal served in this process, senders over HTTP,
percentiles, peak memory and CPU of a phase, a round's verified counts, and clearing a benchmark's operators."""

from __future__ import annotations

import multiprocessing
import os
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from decimal import Decimal
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.core.management.base import CommandError
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
from django.db import connection, connections
from django.db.models import Model

from apps.core.conf import conf
from apps.interconnect.keys import caller_cache_clear
from apps.interconnect.models import Exchange, PeerToken, RejectedRecord, SeenEnvelope
from apps.operators.models import Operator
from apps.orders.models import ChargeDetail, ChargeOrder, OrderFinding, OrderReport
from apps.pricing.models import BusinessPolicy, PolicyPeriod
from apps.protocol import KeySet, MemoryTokenStore, PeerClient
from apps.stations.models import (
    Connector,
    ConnectorStatus,
    ConnectorStatusHistory,
    Equipment,
    PendingConnectorStatus,
    Station,
)

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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, process: subprocess.Popen, timeout: float = 60.0) -> None:
    """Until something listens on `port`; CommandError if `process` (the server) exits first or it takes too long."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise CommandError(f"gunicorn exited with code {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.2)
    raise CommandError("gunicorn did not start listening in time")


@contextmanager
def gunicorn_portal(workers: int, threads: int = 4) -> Iterator[str]:
    """The portal served by gunicorn on this database (gthread workers of `threads` threads: with 1, one request per
    process at a time, as the sync workers of deploy/systemd/hlht-web.service serve it); yields the protocol URL.

    Each worker also serves the benchmarks' no-op floor interface (apps/demo/floor.py, via gunicorn_bench.py).
    """
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url(), "DEBUG": "0", "SECRET_KEY": settings.SECRET_KEY,
           "HLHT_VAR_DIR": str(settings.VAR_DIR), "LOG_LEVEL": "WARNING",
           "HLHT_ENQUEUE": "apps.core.jobs.discard_enqueue", "ALLOWED_HOSTS": "127.0.0.1,localhost"}  # fmt: skip
    command = [str(Path(sys.executable).parent / "gunicorn"), "hlht_portal.wsgi:application", "--bind",
               f"127.0.0.1:{port}", "--workers", str(workers), "--worker-class", "gthread", "--threads", str(threads),
               "--backlog", "2048", "--log-level", "warning", "--config", "python:apps.demo.gunicorn_bench",
               "--chdir", str(settings.BASE_DIR)]  # fmt: skip
    connections.close_all()
    server = subprocess.Popen(command, env=env, cwd=settings.BASE_DIR)  # noqa: S603 - our own argv
    try:
        wait_port(port, server)
        yield f"http://127.0.0.1:{port}/{conf().protocol.prefix}"
    finally:
        server_stop(server)


def server_stop(server: subprocess.Popen) -> None:
    """SIGTERM (gunicorn finishes its requests), then SIGKILL after 30 s."""
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()


def database_url() -> str:
    """The database this process uses, as a URL for the servers it starts (the test database, under pytest)."""
    if connection.vendor != "postgresql":
        raise CommandError("serving under gunicorn needs PostgreSQL: set DATABASE_URL=postgres://…")
    db = connection.settings_dict
    auth = quote(db["USER"] or "", safe="") + (":" + quote(db["PASSWORD"], safe="") if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{quote(db['NAME'], safe='')}"


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


def sql_delete(model: type[Model], column: str, values: Sequence[Any]) -> None:
    table, column = connection.ops.quote_name(model._meta.db_table), connection.ops.quote_name(column)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE {column} IN ({', '.join(['%s'] * len(values))})", values)  # noqa: S608


# -- senders over HTTP -----------------------------------------------------------------------------------------------

Script = list[tuple[str, dict[str, Any]]]  # one sender's calls, in order: (interface, Data)
Check = Callable[[str, dict[str, Any]], "str | None"]  # an answer's problem, or None
SETUP_TIMEOUT = 120.0  # seconds for every sender to authenticate before the load starts


def _senders(
    conn: Connection,
    url: str,
    operator_id: str,
    keys: dict[str, str],
    scripts: list[Script],
    rename: str | None,
    check: Check | None,
    interval: float,
    stagger: float,
) -> None:
    """The forked child: one thread per script, all authenticated first, released together at the parent's signal."""

    def body() -> None:
        keyset = KeySet(keys["OperatorSecret"], keys["DataSecret"], keys["DataSecretIV"], keys["SigSecret"])
        latencies: dict[str, list[float]] = defaultdict(list)
        errors: list[str] = []
        setup_errors: list[str] = []
        lock = threading.Lock()
        ready = threading.Barrier(len(scripts) + 1)

        def send(script: Script, offset: float) -> None:
            try:
                client = PeerClient(url, operator_id, keyset, MemoryTokenStore(), read_timeout=120.0)
                token, expires_at = client.authenticate()
                client.token_store.set(client.token_key, token, expires_at)
            except BaseException:
                # A sender that cannot start must not leave the others waiting at the barrier for ever.
                setup_errors.append(traceback.format_exc())
                ready.abort()
                return
            ready.wait()
            if offset:  # paced senders start out of step, as real platforms and real sessions are
                time.sleep(offset)
            for name, payload in script:
                began = time.perf_counter()
                problem = None
                try:
                    answer = client.call(rename or name, payload)
                    problem = check(name, answer) if check and not rename else None
                except Exception as exc:  # a ClientError (Ret ≠ 0) or a bug: counted either way
                    problem = f"{name}: {type(exc).__name__}: {exc}"
                with lock:
                    latencies[name].append((time.perf_counter() - began) * 1000)
                    if problem:
                        errors.append(problem)
                if interval:
                    time.sleep(interval)

        # Sender i of n starts at i/n of the stagger: evenly out of phase, the same in every run.
        spread = stagger if stagger else interval
        threads = [threading.Thread(target=send, args=(s, spread * i / len(scripts))) for i, s in enumerate(scripts)]
        for thread in threads:
            thread.start()
        conn.recv()
        try:
            ready.wait(timeout=SETUP_TIMEOUT)
        except threading.BrokenBarrierError:
            reason = setup_errors[0] if setup_errors else "timed out"
            raise CommandError(f"a sender could not start:\n{reason}") from None
        began = time.perf_counter()
        for thread in threads:
            thread.join()
        conn.send(
            {
                "elapsed_s": time.perf_counter() - began,
                "latencies": dict(latencies),
                "errors": len(errors),
                "error_samples": errors[:5],
            }
        )

    guarded(conn, body)


def send_phase(
    operator_id: str,
    keys: dict[str, str],
    scripts: list[Script],
    *,
    rename: str | None = None,
    check: Check | None = None,
    interval: float = 0.0,
    stagger: float = 0.0,
    workers: int = 0,
    threads: int = 4,
) -> dict[str, Any]:
    """Serve the portal in this process and run `scripts` from a forked child over real HTTP, one sender per script.

    `rename` sends every call to that interface instead (the floor: the same Data to a no-op); `check` turns an
    answer into an error; `interval` paces each sender (0: the next call as soon as the answer comes); `stagger`
    spreads the senders' starts evenly over that many seconds (default: one interval); `workers` > 0 serves the
    portal under gunicorn with that many worker processes of `threads` threads each instead of in this process
    (PostgreSQL). Returns the rate,
    p50/p99 overall and per interface, and the errors.
    """
    server = None
    with gunicorn_portal(workers, threads) if workers else nullcontext() as served:
        if served is None:
            server = PortalServer(("127.0.0.1", 0), QuietHandler)
            server.set_app(WSGIHandler())
            served = f"http://127.0.0.1:{server.server_address[1]}/{conf().protocol.prefix}"
            threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
        child, conn = fork(_senders, served, operator_id, keys, scripts, rename, check, interval, stagger)
        try:
            conn.send("go")
            result = receive(conn, child)
        finally:
            if server is not None:
                server.shutdown()
                server.server_close()
            child.join(timeout=30)
            conn.close()
    # The next phase's child is forked from this process, whose (TimeStamp, Seq) generator the senders never
    # advanced: started within the same second it would reissue their query_token envelopes, which the portal rightly
    # refuses as replays. Start it on a fresh second instead.
    time.sleep(1.0 - time.time() % 1.0)
    every = [x for values in result["latencies"].values() for x in values]
    per = {
        name: {"n": len(v), "p50_ms": percentile(v, 0.5), "p99_ms": percentile(v, 0.99)}
        for name, v in sorted(result["latencies"].items())
    }
    return {
        "messages": len(every),
        "per_s": len(every) / result["elapsed_s"],
        "p50_ms": percentile(every, 0.5),
        "p99_ms": percentile(every, 0.99),
        "interfaces": per,
        "errors": result["errors"],
        "error_samples": result["error_samples"],
    }


CONNECTORS_PER_STATION = 10


def bulk_directory(operator: Operator, connectors: int, *, prefix: str) -> None:
    """`connectors` connectors, ten to a station, IDs `{prefix}C000000`…, written in bulk (no signals, no history)."""
    stations = [
        Station(
            operator=operator,
            station_id=f"{prefix}S{n:05d}",
            equipment_owner_id=operator.pk,
            station_name="基准测试站",
            area_code="110105",
            address="北京市朝阳区",
            service_tel="400",
            station_type=1,
            station_status=50,
            station_lng=Decimal("116.48"),
            station_lat=Decimal("39.92"),
            construction=255,
        )
        for n in range(-(-connectors // CONNECTORS_PER_STATION))
    ]
    Station.objects.bulk_create(stations, batch_size=1000)
    equipment = [
        Equipment(
            operator=operator, station=s, equipment_id=f"{prefix}E{n:05d}", equipment_type=1, power=Decimal("60.0")
        )
        for n, s in enumerate(stations)
    ]
    Equipment.objects.bulk_create(equipment, batch_size=1000)
    Connector.objects.bulk_create(
        [
            Connector(
                operator=operator,
                station=stations[n // CONNECTORS_PER_STATION],
                equipment=equipment[n // CONNECTORS_PER_STATION],
                connector_id=f"{prefix}C{n:06d}",
                connector_type=4,
                voltage_upper_limits=750,
                voltage_lower_limits=200,
                current=250,
                power=Decimal("60.0"),
                national_standard=2,
            )
            for n in range(connectors)
        ],
        batch_size=2000,
    )


def operators_delete(ids: list[str]) -> None:
    """Everything a benchmark's operators left (their orders, policies, journal, directory), then the operators."""
    if not ids:
        return
    OrderFinding.objects.filter(order__operator_id__in=ids).delete()
    OrderReport.objects.filter(order__operator_id__in=ids).delete()
    ChargeDetail.objects.filter(order__operator_id__in=ids).delete()
    sql_delete(ChargeOrder, "operator_id", ids)
    PolicyPeriod.objects.filter(policy__operator_id__in=ids).delete()
    BusinessPolicy.objects.filter(operator_id__in=ids).delete()
    for model in (RejectedRecord, SeenEnvelope):
        model.objects.filter(operator_id__in=ids).delete()
    sql_delete(Exchange, "operator_id", ids)
    for operator_id in ids:
        PeerToken.objects.filter(key__startswith=f"{operator_id}:").delete()
    connectors = list(Connector.objects.filter(operator_id__in=ids).values_list("pk", flat=True))
    for status_model in (ConnectorStatusHistory, ConnectorStatus):
        sql_delete(status_model, "connector_id", connectors) if connectors else None
    PendingConnectorStatus.objects.filter(operator_id__in=ids).delete()
    for level in (Connector, Equipment, Station):
        sql_delete(level, "operator_id", ids)
    Operator.objects.filter(operator_id__in=ids).delete()
    caller_cache_clear()
