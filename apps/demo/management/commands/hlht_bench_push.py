"""Status-push benchmark: the portal under gunicorn against a framework-free floor doing the same work, same load.

Each target (the portal, then the floor of apps/demo/pushload.py) is served by gunicorn with the same workers on
the same PostgreSQL database; a separate load process sends the same kind of pre-signed status pushes
(`notification_stationStatus`, one connector each, every one a new status) over loopback for `--duration` seconds.
Afterwards the database is asked what it holds: every push answered Ret 0 must be there once, as a history row and a
journal row. Printed: pushes/s, p50/p95/p99, answers by Ret, rows stored, CPU of the server and of the load, and the
portal/floor ratio.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from datetime import timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.utils import timezone

from apps.core.conf import conf
from apps.demo.benchkit import (
    bulk_directory,
    database_url,
    fork,
    free_port,
    guarded,
    operators_delete,
    percentile,
    receive,
    server_stop,
    sql_delete,
    wait_port,
)
from apps.demo.pushload import WRK_SCRIPT, asyncio_load, http_request
from apps.interconnect.choices import Direction
from apps.interconnect.models import AccessToken, Exchange, SeenEnvelope
from apps.interconnect.services import operator_provision
from apps.interconnect.tokens import token_issue
from apps.operators.choices import CONNECTED_STATUSES
from apps.operators.models import Operator
from apps.protocol import KeySet, build_request, format_timestamp
from apps.protocol.names import Interface
from apps.protocol.timestamps import MAX_PER_SECOND  # Seq is 4 digits: at most 9999 envelopes a second
from apps.stations.choices import StatusSource
from apps.stations.models import Connector, ConnectorStatus, ConnectorStatusHistory

OPERATOR_ID = "BENCHPUSH"
MEDIANS = (
    "per_s",
    "p50_ms",
    "p95_ms",
    "p99_ms",
    "server_cpu_s_per_push",
    "database_cpu_s_per_push",
    "load_cpu_s_per_push",
)
# (Status, ParkStatus, LockStatus): 6 × 3 × 3 distinct combinations, so no connector is sent the same status twice
# for one TimeStamp and every push is new to the portal (its answer Status 0, a history row each).
COMBOS = [(s, p, lk) for lk in (0, 10, 50) for p in (50, 10, 0) for s in (2, 3, 1, 4, 255, 0)]
BIN = Path(sys.executable).parent


def _requests(keys: KeySet, token: str, port: int, count: int, connectors: int, rate: int) -> list[bytes]:
    """`count` pushes, pre-signed: push k is about connector k % connectors, with TimeStamp k // rate seconds from
    now, so a connector's statuses are `connectors / rate` seconds apart, as a real connector's are (one change a
    second at most); the status cycles through COMBOS, so each one is new to the portal."""
    base = timezone.now()
    path = f"/{conf().protocol.prefix}{Interface.NOTIFICATION_STATION_STATUS}"
    out = []
    for k in range(count):
        second, seq = divmod(k, rate)
        status, park, lock = COMBOS[(k // connectors) % len(COMBOS)]
        payload = {
            "ConnectorStatusInfo": {
                "ConnectorID": f"PC{k % connectors:06d}",
                "Status": status,
                "ParkStatus": park,
                "LockStatus": lock,
            }
        }
        timestamp = format_timestamp(base + timedelta(seconds=second))
        envelope = build_request(OPERATOR_ID, payload, keys, timestamp=timestamp, seq=f"{seq + 1:04d}")
        out.append(http_request("127.0.0.1", port, path, envelope.to_json(), token))
    return out


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _cpu_s(pids: list[int]) -> float:
    """CPU seconds (user + system) the processes used so far, from /proc (Linux)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / ticks


def _machine_cpu_s() -> float:
    """CPU seconds the whole machine spent busy so far (/proc/stat: user, nice, system, irq, softirq, steal)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _py_spy(options: dict[str, Any], target: str, workers: list[int]) -> subprocess.Popen | None:
    """py-spy sampling the first worker for the measured load's duration (its own CPU is one more load on the
    machine: the figures of a profiled round are not the benchmark's)."""
    if not options["py_spy"] or not workers:
        return None
    spy = shutil.which("py-spy", path=str(BIN)) or shutil.which("py-spy")
    if spy is None:
        raise CommandError("--py-spy needs py-spy (pip install py-spy)")
    folder = Path(options["py_spy"])
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / f"{target}-{len(list(folder.glob(f'{target}-*'))) + 1}.txt"
    command = [spy, "record", "--format", "raw", "--rate", "200", "--nonblocking", "--gil", "--duration",
               str(int(options["duration"])), "--pid", str(workers[0]), "--output", str(out)]  # fmt: skip
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603 - our argv


def _load_child(conn: Connection, port: int, requests: list[bytes], connections: int, duration: float) -> None:
    guarded(conn, lambda: conn.send(asyncio_load("127.0.0.1", port, requests, connections, duration)))


def _summarised(result: dict[str, Any]) -> dict[str, Any]:
    latencies = result["latencies"]
    return {
        "ok": result["rets"].get(0, 0),
        "answered": len(latencies),
        "elapsed_s": result["elapsed_s"],
        "p50_ms": percentile(latencies, 0.50),
        "p95_ms": percentile(latencies, 0.95),
        "p99_ms": percentile(latencies, 0.99),
        "cpu_s": result["cpu_s"],
        "rets": {str(k): v for k, v in sorted(result["rets"].items())},
    }


def _wrk(port: int, requests: list[bytes], token: str, options: dict[str, Any]) -> dict[str, Any]:
    """The same pre-signed pushes sent by wrk (C, one thread per core it is given), its CPU read from wait4()."""
    threads = min(options["connections"], options["wrk_threads"])
    with tempfile.TemporaryDirectory() as folder:
        bodies, script = Path(folder) / "bodies", Path(folder) / "push.lua"
        bodies.write_bytes(b"\n".join(r.partition(b"\r\n\r\n")[2] for r in requests) + b"\n")
        script.write_text(WRK_SCRIPT)
        env = {
            **os.environ,
            "HLHT_WRK_BODIES": str(bodies),
            "HLHT_WRK_THREADS": str(threads),
            "HLHT_WRK_TOKEN": token,
            "HLHT_WRK_PATH": f"/{conf().protocol.prefix}{Interface.NOTIFICATION_STATION_STATUS}",
        }
        command = ["wrk", "-t", str(threads), "-c", str(options["connections"]), "-d", f"{options['duration']:g}s",
                   "-s", str(script), f"http://127.0.0.1:{port}"]  # fmt: skip
        process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)  # noqa: S603 - our own argv
        output = process.stdout.read() if process.stdout else ""
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
    line = next((x for x in output.splitlines() if x.startswith("HLHT ")), None)
    if process.returncode or line is None:
        raise CommandError(f"wrk failed ({process.returncode}):\n{output}")
    f = json.loads(line[5:])
    return {
        "ok": f["ok"],
        "answered": f["ok"] + f["other"],
        "elapsed_s": f["duration_us"] / 1e6,
        "p50_ms": f["p50_us"] / 1000,
        "p95_ms": f["p95_us"] / 1000,
        "p99_ms": f["p99_us"] / 1000,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "rets": {"0": f["ok"], "other": f["other"], "socket errors": f["errors"]},
    }


class Command(BaseCommand):
    help = "Benchmark status pushes: the portal under gunicorn against a framework-free floor (PostgreSQL)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes per target")
        parser.add_argument("--worker-class", default="sync", choices=["sync", "gthread"])
        parser.add_argument("--connections", type=int, default=16, help="concurrent connections of the load")
        parser.add_argument("--duration", type=float, default=60.0, help="seconds of load per target")
        parser.add_argument("--connectors", type=int, default=5000)
        parser.add_argument("--max-rate", type=int, default=1500, help="pushes/s the pre-signed envelopes allow for")
        parser.add_argument("--targets", default="portal,floor", help="comma-separated: portal, floor")
        parser.add_argument("--rounds", type=int, default=3, help="rounds; each runs every target once, alternating")
        parser.add_argument("--generator", default="asyncio", choices=["asyncio", "wrk"])
        parser.add_argument("--wrk-threads", type=int, default=1, help="wrk threads (each one is a busy core)")
        parser.add_argument("--json", action="store_true", help="print the figures as JSON as well")
        parser.add_argument(
            "--py-spy",
            metavar="DIR",
            help="record one worker of each target with py-spy during the measured load (collapsed stacks in DIR)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        dsn = database_url()
        self.connections = options["connections"]
        targets = [t.strip() for t in options["targets"].split(",") if t.strip()]
        if not 1 <= options["max_rate"] <= MAX_PER_SECOND or options["connectors"] < options["max_rate"]:
            raise CommandError(
                f"--max-rate takes 1…{MAX_PER_SECOND} and no more than --connectors (a connector "
                "changes at most once a second)"
            )
        if not set(targets) <= {"portal", "floor"}:
            raise CommandError("--targets takes portal and/or floor")
        if options["generator"] == "wrk" and not shutil.which("wrk"):
            raise CommandError("--generator wrk needs wrk on PATH (Debian: apt install wrk)")
        operators_delete([OPERATOR_ID])
        keys = operator_provision(operator_id=OPERATOR_ID, name="推送基准测试运营商")["inbound"]
        operator = Operator.objects.get(pk=OPERATOR_ID)
        bulk_directory(operator, options["connectors"], prefix="P")
        token, _ = token_issue(operator=operator)
        keyset = KeySet(keys["OperatorSecret"], keys["DataSecret"], keys["DataSecretIV"], keys["SigSecret"])
        self.stdout.write(
            f"directory: {options['connectors']} connectors; {options['workers']} gunicorn {options['worker_class']} "
            f"workers per target; load: {options['generator']}, {options['connections']} connections for "
            f"{options['duration']:g} s; {options['rounds']} round(s), targets alternating; {os.cpu_count()} CPUs"
        )
        rounds: dict[str, list[dict[str, Any]]] = {target: [] for target in targets}
        try:
            for number in range(1, options["rounds"] + 1):
                for target in targets:
                    rounds[target].append(self._round(target, dsn, keys, keyset, token, options))
                    self._print(f"{target} #{number}", rounds[target][-1])
        finally:
            operators_delete([OPERATOR_ID])
        figures: dict[str, Any] = {"rounds": rounds}
        for target, runs in rounds.items():
            medians = {name: statistics.median(run[name] for run in runs) for name in MEDIANS}
            totals = {name: sum(run[name] for run in runs) for name in ("lost", "duplicates", "journal_missing")}
            figures[target] = summary = medians | totals
            cpu = {name: summary[f"{name}_cpu_s_per_push"] * 1000 for name in ("server", "database", "load")}
            self.stdout.write(
                f"{target:>6} (median of {len(runs)}): {summary['per_s']:.1f} pushes/s, p50 {summary['p50_ms']:.1f} "
                f"ms, p95 {summary['p95_ms']:.1f} ms, p99 {summary['p99_ms']:.1f} ms; lost {summary['lost']}, "
                f"duplicated {summary['duplicates']}; CPU per push: server {cpu['server']:.2f} ms, "
                f"database and the rest {cpu['database']:.2f} ms, load {cpu['load']:.2f} ms"
            )
        if "portal" in figures and "floor" in figures and figures["floor"]["per_s"]:
            ratio = figures["portal"]["per_s"] / figures["floor"]["per_s"]
            figures["ratio"] = {"portal_over_floor": ratio}
            self.stdout.write(f"portal / floor: {ratio:.2f} (target ≥ 0.80)")
        if options["json"]:
            self.stdout.write(json.dumps(figures, default=str))  # one line, the last

    def _clear(self) -> None:
        connectors = list(Connector.objects.filter(operator_id=OPERATOR_ID).values_list("pk", flat=True))
        for model in (ConnectorStatusHistory, ConnectorStatus):
            sql_delete(model, "connector_id", connectors)
        sql_delete(SeenEnvelope, "operator_id", [OPERATOR_ID])
        sql_delete(Exchange, "operator_id", [OPERATOR_ID])

    def _server(self, target: str, dsn: str, keys: dict[str, str], port: int, options: dict) -> subprocess.Popen:
        env = {
            **os.environ,
            "DATABASE_URL": dsn,
            "DEBUG": "0",
            "SECRET_KEY": settings.SECRET_KEY,
            "HLHT_VAR_DIR": str(settings.VAR_DIR),
            "LOG_LEVEL": "WARNING",
        }
        if target == "portal":
            app = "hlht_portal.wsgi:application"
        else:
            app = "apps.demo.pushload:floor_app"
            tables = {
                "token": AccessToken,
                "operator": Operator,
                "seen": SeenEnvelope,
                "connector": Connector,
                "history": ConnectorStatusHistory,
                "current": ConnectorStatus,
                "journal": Exchange,
            }
            env["HLHT_FLOOR_DSN"] = dsn
            env["HLHT_FLOOR_CONFIG"] = json.dumps(
                {
                    "operator_id": OPERATOR_ID,
                    "keys": keys,
                    "window": conf().protocol.clock_skew_seconds,
                    "connected": list(CONNECTED_STATUSES),
                    "source": StatusSource.PUSH,
                    "direction": Direction.IN,
                    "interface": str(Interface.NOTIFICATION_STATION_STATUS),
                    "tables": {name: connection.ops.quote_name(model._meta.db_table) for name, model in tables.items()},
                }
            )
        command = [str(BIN / "gunicorn"), app, "--bind", f"127.0.0.1:{port}", "--workers", str(options["workers"]),
                   "--worker-class", options["worker_class"], "--backlog", "2048", "--log-level", "warning",
                   "--chdir", str(settings.BASE_DIR)]  # fmt: skip
        return subprocess.Popen(command, env=env, cwd=settings.BASE_DIR)  # noqa: S603 - our own argv

    def _round(
        self, target: str, dsn: str, keys: dict[str, str], keyset: KeySet, token: str, options: dict
    ) -> dict[str, Any]:
        self._clear()
        port = free_port()
        count = int(options["duration"] * options["max_rate"])
        warm = options["connections"] * 20
        requests = _requests(keyset, token, port, warm + count, options["connectors"], options["max_rate"])
        connection.close()
        server = self._server(target, dsn, keys, port, options)
        try:
            wait_port(port, server)
            # Warm-up: every worker imports lazily and opens its database connection on its first requests.
            child, conn = fork(_load_child, port, requests[:warm], options["connections"], 60.0)
            warmed = receive(conn, child)
            child.join()
            workers = _children(server.pid)
            cpu_before, machine_before = _cpu_s([server.pid, *workers]), _machine_cpu_s()
            spy = _py_spy(options, target, workers)
            if options["generator"] == "wrk":
                result = _wrk(port, requests[warm:], token, options)
            else:
                child, conn = fork(_load_child, port, requests[warm:], options["connections"], options["duration"])
                result = _summarised(receive(conn, child))
                child.join()
            server_cpu, machine_cpu = _cpu_s([server.pid, *workers]) - cpu_before, _machine_cpu_s() - machine_before
            # The rest of the machine's CPU is PostgreSQL's (its backends come and go with connections, so they are
            # not summed one by one), the kernel's networking and whatever else ran: an upper bound for the database.
            db_cpu = max(0.0, machine_cpu - server_cpu - result["cpu_s"])
            if spy is not None:
                spy.wait(timeout=60)
        finally:
            server_stop(server)
        ok = warmed["rets"].get(0, 0) + result["ok"]
        history = ConnectorStatusHistory.objects.filter(connector__operator_id=OPERATOR_ID)
        stored = history.count()
        distinct = history.values("connector_id", "status_time", "status", "park_status", "lock_status").distinct()
        journal = Exchange.objects.filter(operator_id=OPERATOR_ID, ret=0).count()
        seen = SeenEnvelope.objects.filter(operator_id=OPERATOR_ID).count()
        answered, elapsed = result["answered"], result["elapsed_s"]
        return {
            "sent": answered,
            "per_s": result["ok"] / elapsed if elapsed else 0.0,
            "elapsed_s": elapsed,
            "p50_ms": result["p50_ms"],
            "p95_ms": result["p95_ms"],
            "p99_ms": result["p99_ms"],
            "rets": result["rets"],
            "ret0_answers": ok,
            "history_rows": stored,
            "journal_rows": journal,
            "seen_rows": seen,
            # Every push answered Ret 0 is stored (lost 0), and once (duplicates 0). More rows than counted answers
            # are answers still on the wire when the load stopped (wrk stops on the clock): at most one per
            # connection, the portal stored them and the load did not read them.
            "lost": max(0, ok - stored),
            "duplicates": stored - distinct.count(),
            "in_flight": max(0, stored - ok),
            "journal_missing": max(0, ok - journal),
            "server_cpu_s_per_push": server_cpu / answered if answered else 0.0,
            "database_cpu_s_per_push": db_cpu / answered if answered else 0.0,
            "load_cpu_s_per_push": result["cpu_s"] / answered if answered else 0.0,
            "exhausted": answered >= count,
        }

    def _print(self, target: str, f: dict[str, Any]) -> None:
        good = f["lost"] == f["duplicates"] == f["journal_missing"] == 0 and f["in_flight"] <= self.connections
        verdict = "all stored once" if good else "MISMATCH"
        self.stdout.write(
            f"{target:>9}: {f['per_s']:7.1f} pushes/s over {f['elapsed_s']:.1f} s; p50 {f['p50_ms']:.1f} ms, "
            f"p95 {f['p95_ms']:.1f} ms, p99 {f['p99_ms']:.1f} ms; answers by Ret {f['rets']}\n"
            f"        Ret 0 answers {f['ret0_answers']} (warm-up included), history rows {f['history_rows']}, "
            f"journal rows {f['journal_rows']}, replay marks {f['seen_rows']}, unread answers {f['in_flight']}: "
            f"{verdict}; "
            f"CPU per push: server {f['server_cpu_s_per_push'] * 1000:.2f} ms, "
            f"database and the rest {f['database_cpu_s_per_push'] * 1000:.2f} ms, "
            f"load {f['load_cpu_s_per_push'] * 1000:.2f} ms"
            + ("; the pre-signed envelopes ran out: raise --max-rate" if f["exhausted"] else "")
        )
