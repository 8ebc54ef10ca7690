"""Part 2 exchange benchmark: full and incremental crawls of a simulator, concurrent status pushes over HTTP."""

from __future__ import annotations

import json
import math
import random
import statistics
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.test import override_settings

from apps.core.conf import conf
from apps.demo.benchkit import (
    PortalServer,
    QuietHandler,
    Round,
    cpu_seconds,
    fork,
    guarded,
    percentiles,
    portal_peak_mib,
    proc_status,
    receive,
    reset_peak,
    sql_delete,
)
from apps.interconnect.choices import Direction, RunStatus
from apps.interconnect.keys import caller_cache_clear
from apps.interconnect.models import Exchange, PeerToken, RejectedRecord, SeenEnvelope, SyncRun
from apps.interconnect.services import operator_provision
from apps.operators.models import Operator
from apps.protocol import KeySet, MemoryTokenStore, PeerClient
from apps.protocol.names import Interface
from apps.simulator.clock import SimClock
from apps.simulator.config import SimulatorConfig, load_keys
from apps.simulator.simulator import Simulator
from apps.stations.models import (
    Connector,
    ConnectorStats,
    ConnectorStatus,
    ConnectorStatusHistory,
    DirectoryChange,
    Equipment,
    EquipmentStats,
    PendingConnectorStatus,
    Station,
    StationStats,
)
from apps.stations.pulls import PAGE_SIZE, station_stats_pull, stations_info_pull

# The benchmark's operator namespace. Every round provisions BENCHEX01 afresh and deletes it at the end: a first crawl
# is only a first crawl into an empty directory, and one round's watermark (LastQueryTime) and tokens must not leak
# into the next. The same ID every round gives the same simulated directory (it is seeded by seed and OperatorID).
BENCH_PREFIX = "BENCHEX"
BENCH_OPERATOR_ID = f"{BENCH_PREFIX}01"
# (Status, ParkStatus, LockStatus): 6 × 3 × 3 distinct combinations. A connector never gets the same combination twice
# in one round, so two messages for it in the same second (same status time) never look like a repeat to the portal.
COMBOS = [(s, p, lk) for lk in (0, 10, 50) for p in (50, 10, 0) for s in (2, 3, 1, 4, 255, 0)]
VISITS = 4  # statuses per connector in a round: the first creates its current row, the rest update it
CHURN_KINDS = ("rename", "add_connector", "derate")


# ----------------------------------------------------------------------------------------------------------------------
# Small helpers: memory, percentiles, talking to the child processes.
# ----------------------------------------------------------------------------------------------------------------------


# ----------------------------------------------------------------------------------------------------------------------
# Child 1: the operator platform (a simulator), as its own process so that it does not share the portal's GIL.
# ----------------------------------------------------------------------------------------------------------------------


def _simulator_child(conn: Connection, operator_id: str, keys: dict[str, Any], stations: int, seed: int) -> None:
    def body() -> None:
        started = time.perf_counter()
        _, inbound, outbound = load_keys(keys)
        config = SimulatorConfig(
            operator_id=operator_id,
            inbound=inbound,
            outbound=outbound,
            stations=stations,
            seed=seed,
            push=False,
            walkin_rate=0.0,
            incident_rate=0.0,
            churn_per_day=0.0,
        )
        # A frozen simulated clock and no ticking: the directory changes only when the benchmark says so.
        sim = Simulator(config, clock=SimClock(speed=0)).start()
        directory = sim.directory
        conn.send(
            {
                "port": sim.port,
                "build_s": time.perf_counter() - started,
                "stations": len(directory.stations),
                "connectors": len(directory.connectors),
            }
        )
        while True:
            command, arg = conn.recv()
            if command != "churn":
                break
            conn.send(_churn(sim, **arg))
        sim.stop()
        conn.send({"stopped": True})

    guarded(conn, body)


def _churn(sim: Simulator, fraction: float, seed: int) -> dict[str, Any]:
    """Change `fraction` of the live stations, one change each: renames, added AC piles and derated connectors."""
    directory = sim.directory
    rng = random.Random(seed)  # noqa: S311 - picks stations to change, nothing secret
    live = [st for st in directory.stations if not st.removed]
    chosen = rng.sample(live, max(1, round(len(live) * fraction)))
    moment = int(time.time())  # the operator's clock follows the wall clock, as the portal's watermark assumes
    kinds = dict.fromkeys(CHURN_KINDS, 0)
    with sim.lock:
        for index, station in enumerate(chosen):
            kind = CHURN_KINDS[index % len(CHURN_KINDS)]
            if kind == "add_connector" and directory.add_connector(station, moment) is None:
                kind = "rename"  # the station already has the maximum of 20 connectors
            if kind == "derate":
                connector = rng.choice(list(station.connectors))
                directory.derate_connector(connector, connector.power * 0.8, moment)
            elif kind == "rename":
                directory.rename_station(station, moment)
            kinds[kind] += 1
    return {"changed": len(chosen), "kinds": kinds, "connectors": len(directory.connectors)}


# ----------------------------------------------------------------------------------------------------------------------
# Child 2: the operator platform's push senders, S threads in one process sharing its (TimeStamp, Seq) generator.
# ----------------------------------------------------------------------------------------------------------------------


def _sender_child(
    conn: Connection, url: str, operator_id: str, keys: dict[str, str], plan: list[list[tuple[str, int]]]
) -> None:
    def body() -> None:
        keyset = KeySet(keys["OperatorSecret"], keys["DataSecret"], keys["DataSecretIV"], keys["SigSecret"])
        latencies: list[list[float]] = [[] for _ in plan]
        errors: list[str] = []
        ignored = [0] * len(plan)
        finished = [0.0] * len(plan)
        ready = threading.Barrier(len(plan) + 1)

        def send(index: int) -> None:
            # The codec's PeerClient with no seq_generator uses the process-wide one: one operator platform issues
            # one (TimeStamp, Seq) sequence across all its senders, so no two messages collide in the replay check.
            client = PeerClient(url, operator_id, keyset, MemoryTokenStore(), read_timeout=120.0)
            try:
                token, expires_at = client.authenticate()  # each sender its own token, fetched before the clock runs
                client.token_store.set(client.token_key, token, expires_at)
            except Exception as exc:  # counted, not fatal: call() fetches a token itself if this one failed
                errors.append(f"{Interface.QUERY_TOKEN}: {type(exc).__name__}: {exc}")
            ready.wait()
            own = latencies[index]
            for connector_id, combo in plan[index]:
                status, park, lock = COMBOS[combo]
                info = {"ConnectorID": connector_id, "Status": status, "ParkStatus": park, "LockStatus": lock}
                began = time.perf_counter()
                try:
                    data = client.call(Interface.NOTIFICATION_STATION_STATUS, {"ConnectorStatusInfo": info})
                except Exception as exc:  # a ClientError (Ret ≠ 0, HTTP, timeout) or a bug: an error either way
                    errors.append(f"{type(exc).__name__}: {exc}")
                else:
                    ignored[index] += data.get("Status") != 0
                own.append((time.perf_counter() - began) * 1000)
            finished[index] = time.perf_counter()
            client.close()

        threads = [threading.Thread(target=send, args=(i,), daemon=True) for i in range(len(plan))]
        conn.recv()  # the portal is serving
        for thread in threads:
            thread.start()
        ready.wait()
        began, cpu_before = time.perf_counter(), cpu_seconds()
        for thread in threads:
            thread.join()
        conn.send(
            {
                "elapsed_s": max(finished) - began,
                "latencies": [ms for own in latencies for ms in own],
                "errors": len(errors),
                "error_samples": errors[:5],
                "ignored": sum(ignored),
                "peak_mib": proc_status().get("VmHWM", 0) / 1024,
                "cpu_s": cpu_seconds() - cpu_before,
            }
        )

    guarded(conn, body)


# ----------------------------------------------------------------------------------------------------------------------
# One round: provision, crawl, churn, crawl again, push; figures and verified counts.
# ----------------------------------------------------------------------------------------------------------------------


def _crawl(operator: Operator, *, full: bool) -> tuple[SyncRun, dict[str, Any], dict[str, list[float]]]:
    """One stations_info_pull: the run, its figures (time, pages, peak RSS, latencies) and the latency samples.

    fetch = one page's HTTP exchange as the client journalled it (Exchange.latency_ms). page = from the start of one
    page's fetch to the start of the next one's (to the run's end for the last page): fetch, validate, diff, write and
    journal, i.e. what a page costs the crawl end to end. Both come from the journal, so pulls.py needs no hooks.
    """
    reset = reset_peak()
    began = time.perf_counter()
    run = stations_info_pull(operator=operator, full=full)
    elapsed = time.perf_counter() - began
    peak = portal_peak_mib(reset)
    rows = list(
        Exchange.objects.filter(
            operator=operator,
            direction=Direction.OUT,
            interface=Interface.QUERY_STATIONS_INFO,
            created__gte=run.started,
        )
        .order_by("created", "id")
        .values_list("created", "latency_ms")
    )
    fetch = [latency for _, latency in rows]
    starts = [created.timestamp() * 1000 - latency for created, latency in rows]
    ends = [*starts[1:], run.finished.timestamp() * 1000] if run.finished else starts[1:]
    page = [end - start for start, end in zip(starts, ends, strict=False)]
    figures = {"time_s": elapsed, "pages": run.pages, **percentiles(page, "page_"), **percentiles(fetch, "fetch_")}
    return run, figures | {"portal_peak_rss_mib": peak}, {"page": page, "fetch": fetch}


def _delete_stats(operator_ids: list[str]) -> None:
    """The benchmark operators' statistics, in plain SQL (children first), so that each measurement stores afresh."""
    marks = ", ".join(["%s"] * len(operator_ids))
    stations = f"SELECT id FROM {Station._meta.db_table} WHERE operator_id IN ({marks})"  # noqa: S608
    stats = f"SELECT id FROM {StationStats._meta.db_table} WHERE station_id IN ({stations})"  # noqa: S608
    breakdown = f"SELECT id FROM {EquipmentStats._meta.db_table} WHERE station_stats_id IN ({stats})"  # noqa: S608
    with connection.cursor() as cursor:
        for table, column, rows in (
            (ConnectorStats, "equipment_stats_id", breakdown),
            (EquipmentStats, "station_stats_id", stats),
            (StationStats, "station_id", stations),
        ):
            cursor.execute(f"DELETE FROM {table._meta.db_table} WHERE {column} IN ({rows})", operator_ids)  # noqa: S608


def _stats(operator: Operator, width: int, stations: int, round_: Round) -> dict[str, Any]:
    """The daily statistics pull of every station, first one call at a time (the floor: the simplest way), then
    `width` at a time as the operator's pull_concurrency says; both store into an empty statistics table."""
    figures: dict[str, Any] = {}
    for label, concurrency in (("floor", 1), ("portal", width)):
        _delete_stats([operator.pk])
        operator.pull_concurrency = concurrency
        operator.save(update_fields=["pull_concurrency"])
        began = time.perf_counter()
        run = station_stats_pull(operator=operator)
        elapsed = time.perf_counter() - began
        figures[label] = {"time_s": elapsed, "stations_per_s": run.pages / elapsed, "concurrency": concurrency}
        figures[label]["verified"] = {
            "status": round_.check(f"stats pull ({label}) status", run.status, RunStatus.SUCCEEDED),
            "stored": round_.check(f"stats stored ({label})", run.created_count, stations),
            "rejected": round_.check(f"stats rejected ({label})", run.rejected_count, 0),
        }
    figures["ratio"] = figures["floor"]["time_s"] / figures["portal"]["time_s"]
    return figures


def _push_plan(
    connector_ids: list[str], senders: int, messages: int
) -> tuple[list[list[tuple[str, int]]], dict[str, int]]:
    """Per sender, its messages as (ConnectorID, combination); and each connector's last combination.

    Each sender owns its own connectors (spread over the directory) and visits them in turn, so a connector's
    statuses arrive in the order they were sent and its last one is known.
    """
    per_sender = min(math.ceil(messages / VISITS), len(connector_ids) // senders)
    per_sender = max(per_sender, math.ceil(messages / len(COMBOS)), 1)
    needed = per_sender * senders
    if needed > len(connector_ids):
        raise CommandError(
            f"{senders} senders × {messages} messages need at least {needed} connectors, the directory has "
            f"{len(connector_ids)}: use more stations or fewer messages"
        )
    chosen = connector_ids[:: len(connector_ids) // needed][:needed]
    plan: list[list[tuple[str, int]]] = []
    last: dict[str, int] = {}
    for index in range(senders):
        own = chosen[index * per_sender : (index + 1) * per_sender]
        sends = [(own[n % per_sender], n // per_sender) for n in range(messages)]
        last.update(sends)
        plan.append(sends)
    return plan, last


def _push(operator: Operator, keys: dict[str, str], senders: int, messages: int, round_: Round) -> None:
    """S senders × M messages to notification_stationStatus over real HTTP; the portal serves in this process."""
    connector_ids = list(
        Connector.objects.filter(operator=operator).order_by("connector_id").values_list("connector_id", flat=True)
    )
    plan, last = _push_plan(connector_ids, senders, messages)
    server = PortalServer(("127.0.0.1", 0), QuietHandler)
    server.set_app(WSGIHandler())
    url = f"http://127.0.0.1:{server.server_address[1]}/{conf().protocol.prefix}"
    child, conn = fork(_sender_child, url, operator.pk, keys, plan)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
    try:
        reset, cpu_before = reset_peak(), cpu_seconds()
        conn.send("go")
        result = receive(conn, child)
        peak, cpu = portal_peak_mib(reset), cpu_seconds() - cpu_before
    finally:
        server.shutdown()
        server.server_close()
        child.join(timeout=30)
        conn.close()

    server_ms = list(
        Exchange.objects.filter(
            operator=operator, direction=Direction.IN, interface=Interface.NOTIFICATION_STATION_STATUS
        ).values_list("latency_ms", flat=True)
    )
    current = {
        cid: (status, park, lock)
        for cid, status, park, lock in ConnectorStatus.objects.filter(
            connector__operator=operator, connector__connector_id__in=list(last)
        ).values_list("connector__connector_id", "status", "park_status", "lock_status")
    }
    wrong = sum(1 for cid, combo in last.items() if current.get(cid) != COMBOS[combo])
    history = ConnectorStatusHistory.objects.filter(connector__operator=operator).count()
    sent, latencies = senders * messages, result["latencies"]
    round_.samples["status_push"] = {"latency": latencies, "server": server_ms}
    round_.figures["status_push"] = {
        "time_s": result["elapsed_s"],
        "messages": sent,
        "messages_per_s": sent / result["elapsed_s"],
        **percentiles(latencies),
        "max_ms": max(latencies, default=0.0),
        **percentiles(server_ms, "server_"),
        "errors": result["errors"],
        "error_samples": result["error_samples"],
        "portal_peak_rss_mib": peak,
        "senders_peak_rss_mib": result["peak_mib"],
        # CPU seconds used during the phase: a process near time_s × 1 was the bottleneck (one GIL each).
        "portal_cpu_s": cpu,
        "senders_cpu_s": result["cpu_s"],
        "verified": {
            "errors": round_.check("push errors", result["errors"], 0),
            "ignored": round_.check("pushes answered Status 1", result["ignored"], 0),
            "last_status_mismatches": round_.check("connectors whose current status is not the last sent", wrong, 0),
            "history_rows": round_.check("status history rows", history, sent),
        },
    }


def _succeeded(phase: str, run: SyncRun) -> None:
    """A crawl that failed has no figures worth printing ("0 pages"): the benchmark stops, saying why."""
    if run.status != RunStatus.SUCCEEDED:
        raise CommandError(f"{phase} did not succeed ({run.status}, {run.pages} pages): {run.error}")


def _run_round(operator_id: str, options: dict[str, Any], log: Callable[[str], None]) -> Round:
    stations, seed = options["stations"], options["seed"]
    round_ = Round(operator_id)
    keys = operator_provision(operator_id=operator_id, name="基准测试运营商")
    child, conn = fork(_simulator_child, operator_id, keys, stations, seed)
    try:
        sim = receive(conn, child)
        operator = Operator.objects.get(pk=operator_id)
        operator.endpoint_url = f"http://127.0.0.1:{sim['port']}/evcs/v1/"
        operator.save(update_fields=["endpoint_url"])
        log(f"  simulator: {sim['stations']} stations, {sim['connectors']} connectors, built in {sim['build_s']:.1f} s")

        # (1) full crawl into an empty directory
        run, figures, round_.samples["full_crawl"] = _crawl(operator, full=True)
        _succeeded("full crawl", run)
        simulator_peak = proc_status(child.pid or 0).get("VmHWM", 0) / 1024
        stored = Connector.objects.filter(operator=operator, removed_at__isnull=True).count()
        round_.figures["full_crawl"] = figures | {
            "stations_per_s": run.created_count / figures["time_s"],
            "connectors_per_s": stored / figures["time_s"],
            "simulator_peak_rss_mib": simulator_peak,
            "simulator_build_s": sim["build_s"],
            "verified": {
                "status": round_.check("full crawl status", run.status, RunStatus.SUCCEEDED),
                "stations_created": round_.check("stations created", run.created_count, sim["stations"]),
                "station_rows": round_.check(
                    "station rows", Station.objects.filter(operator=operator).count(), sim["stations"]
                ),
                "connector_rows": round_.check("connector rows", stored, sim["connectors"]),
                "rejected": round_.check("rejected records", run.rejected_count, 0),
                "pages": round_.check("pages", run.pages, math.ceil(sim["stations"] / PAGE_SIZE)),
            },
        }
        log(_line("full crawl", round_.figures["full_crawl"]))

        # (2) incremental crawl after changing a share of the stations
        conn.send(("churn", {"fraction": options["changed"], "seed": seed}))
        churn = receive(conn, child)
        run, figures, round_.samples["incremental"] = _crawl(operator, full=False)
        _succeeded("incremental crawl", run)
        stored = Connector.objects.filter(operator=operator, removed_at__isnull=True).count()
        round_.figures["incremental"] = figures | {
            "changed": churn["changed"],
            "changes": churn["kinds"],
            "stations_per_s": (run.updated_count + run.unchanged_count) / figures["time_s"],
            "verified": {
                "status": round_.check("incremental status", run.status, RunStatus.SUCCEEDED),
                "updated": round_.check("stations updated", run.updated_count, churn["changed"]),
                "created": round_.check("stations created by the increment", run.created_count, 0),
                "unchanged": round_.check("unchanged stations listed", run.unchanged_count, 0),
                "connector_rows": round_.check("connector rows after the increment", stored, churn["connectors"]),
                "pages": round_.check("incremental pages", run.pages, math.ceil(churn["changed"] / PAGE_SIZE)),
            },
        }
        log(_line("incremental", round_.figures["incremental"]))

        # (3) optional: the daily statistics, one call per station, sequential and then concurrent
        if options["stats"]:
            stats = _stats(operator, options["stats_concurrency"], sim["stations"], round_)
            round_.figures["stats_pull"] = stats
            log(
                f"  stats pull: {stats['portal']['time_s']:.2f} s at {stats['portal']['concurrency']} at a time "
                f"({stats['portal']['stations_per_s']:.0f} stations/s), one at a time {stats['floor']['time_s']:.2f} s "
                f"({stats['floor']['stations_per_s']:.0f} stations/s): {stats['ratio']:.2f}× faster"
            )
    finally:
        if child.is_alive():
            conn.send(("stop", None))
            receive(conn, child, timeout=30)
        child.join(timeout=10)
        conn.close()

    # (4) concurrent status pushes, to the connectors just crawled
    _push(operator, keys["inbound"], options["senders"], options["messages_per_sender"], round_)
    log(_line("status push", round_.figures["status_push"]))
    for sample in round_.figures["status_push"]["error_samples"]:
        log(f"    error: {sample}")
    return round_


def _line(phase: str, f: dict[str, Any]) -> str:
    if phase == "status push":
        return (
            f"  {phase}: {f['messages']} messages in {f['time_s']:.2f} s, {f['messages_per_s']:.0f} msg/s, "
            f"p50 {f['p50_ms']:.1f} ms, p99 {f['p99_ms']:.1f} ms, max {f['max_ms']:.1f} ms, errors {f['errors']}"
        )
    return (
        f"  {phase}: {f['time_s']:.2f} s, {f['pages']} pages, {f['stations_per_s']:.0f} stations/s, page p50 "
        f"{f['page_p50_ms']:.1f} ms, p99 {f['page_p99_ms']:.1f} ms, peak RSS {f['portal_peak_rss_mib']:.0f} MiB"
    )


# ----------------------------------------------------------------------------------------------------------------------
# Clean-up: the benchmark's operators and every row hanging off them, and nothing else.
# ----------------------------------------------------------------------------------------------------------------------


def _bench_operator_ids() -> list[str]:
    return list(Operator.objects.filter(operator_id__startswith=BENCH_PREFIX).values_list("operator_id", flat=True))


@transaction.atomic
def _clean_up(operator_ids: list[str]) -> None:
    """Delete the benchmark operators and all their rows, children before parents, one DELETE per table.

    The journal, connectors, equipment and stations are deleted in plain SQL: the ORM's cascade would first load every
    row that other rows point at (200 journalled pages of ~600 KB, 210,000 connectors for a 20,000-station round) and
    leave ~200 MiB on this process's heap, to be counted as the next round's portal memory. Their dependents are
    deleted before them; a row the benchmark did not expect would fail the foreign-key check at commit, not vanish.
    """
    if not operator_ids:
        return
    _delete_stats(operator_ids)
    for model in (DirectoryChange, RejectedRecord, PendingConnectorStatus, SeenEnvelope):
        model.objects.filter(operator_id__in=operator_ids).delete()
    sql_delete(Exchange, "operator_id", operator_ids)
    sql_delete(Exchange, "claimed_operator_id", operator_ids)  # refused messages naming a benchmark operator
    for operator_id in operator_ids:
        PeerToken.objects.filter(key__startswith=f"{operator_id}:").delete()
    ConnectorStatusHistory.objects.filter(connector__operator_id__in=operator_ids).delete()
    ConnectorStatus.objects.filter(connector__operator_id__in=operator_ids).delete()
    SyncRun.objects.filter(operator_id__in=operator_ids).delete()
    for level in (Connector, Equipment, Station):
        sql_delete(level, "operator_id", operator_ids)
    Operator.objects.filter(operator_id__in=operator_ids).delete()  # the rest cascades: key sets, tokens, pull states
    caller_cache_clear()


# ----------------------------------------------------------------------------------------------------------------------
# Medians and the report.
# ----------------------------------------------------------------------------------------------------------------------

PHASES = ("full_crawl", "incremental", "status_push")


def _summary(rounds: list[Round], options: dict[str, Any]) -> dict[str, Any]:
    """Medians over the rounds of every number; latency percentiles over all rounds' samples together."""
    median: dict[str, dict[str, Any]] = {}
    for phase in PHASES:
        numbers = [k for k, v in rounds[0].figures[phase].items() if isinstance(v, int | float)]
        median[phase] = {k: statistics.median(r.figures[phase][k] for r in rounds) for k in numbers}

        def pooled(name: str, phase: str = phase) -> list[float]:
            return [ms for r in rounds for ms in r.samples[phase][name]]

        if phase == "status_push":
            latency = pooled("latency")
            median[phase] |= percentiles(latency) | {"max_ms": max(latency, default=0.0)}
            median[phase] |= percentiles(pooled("server"), "server_")
            median[phase]["errors"] = sum(r.figures[phase]["errors"] for r in rounds)
        else:
            median[phase] |= percentiles(pooled("page"), "page_") | percentiles(pooled("fetch"), "fetch_")
    if "stats_pull" in rounds[0].figures:
        median["stats_pull"] = {
            f"{label}_{name}": statistics.median(r.figures["stats_pull"][label][name] for r in rounds)
            for label in ("floor", "portal")
            for name in ("time_s", "stations_per_s", "concurrency")
        } | {"ratio": statistics.median(r.figures["stats_pull"]["ratio"] for r in rounds)}
    database = settings.DATABASES["default"]
    first = rounds[0].figures["full_crawl"]["verified"]
    return {
        "database": database["ENGINE"].rsplit(".", 1)[-1],
        "database_name": str(database["NAME"]),
        "stations": first["stations_created"]["expected"],
        "connectors": first["connector_rows"]["expected"],
        "changed_fraction": options["changed"],
        "senders": options["senders"],
        "messages_per_sender": options["messages_per_sender"],
        "rounds": len(rounds),
        "median": median,
        "per_round": [{"operator_id": r.operator_id, **r.figures} for r in rounds],
        "failures": [f"round {n}: {failure}" for n, r in enumerate(rounds, 1) for failure in r.failures],
        "ok": not any(r.failures for r in rounds),
    }


def _table(summary: dict[str, Any]) -> str:
    full, inc, push = (summary["median"][phase] for phase in PHASES)
    rows = [
        ("full crawl", full, f"{full['stations_per_s']:.0f} stations/s, {full['connectors_per_s']:.0f} conn/s"),
        ("incremental", inc, f"{inc['changed']:.0f} changed, {inc['stations_per_s']:.0f} stations/s"),
        ("status push", push, f"{push['messages']:.0f} msgs, {push['messages_per_s']:.0f} msg/s"),
    ]
    lines = [
        f"HLHT exchange benchmark: {summary['database']} ({summary['database_name']}), {summary['stations']} "
        f"stations / {summary['connectors']} connectors, {summary['rounds']} round(s)",
        "(times and rates: median of the rounds; p50/p99: over every round's samples; peak: portal process RSS)",
        "",
        f"{'phase':<13}{'time s':>9}  {'throughput':<36}{'pages':>6}{'p50 ms':>9}{'p99 ms':>9}{'peak MiB':>10}",
    ]
    for name, f, rate in rows:
        pages = f"{f['pages']:.0f}" if "pages" in f else "-"
        p50, p99 = (f["page_p50_ms"], f["page_p99_ms"]) if "pages" in f else (f["p50_ms"], f["p99_ms"])
        peak = f["portal_peak_rss_mib"]
        lines.append(f"{name:<13}{f['time_s']:>9.2f}  {rate:<36}{pages:>6}{p50:>9.1f}{p99:>9.1f}{peak:>10.0f}")
    lines += [
        "",
        "crawl p50/p99: one page end to end in the portal (fetch, validate, diff, write, journal); the HTTP fetch "
        f"alone: full {full['fetch_p50_ms']:.1f} / {full['fetch_p99_ms']:.1f} ms, incremental "
        f"{inc['fetch_p50_ms']:.1f} / {inc['fetch_p99_ms']:.1f} ms",
        f"status push: {summary['senders']} senders × {summary['messages_per_sender']} messages, latency as the "
        f"senders saw it (max {push['max_ms']:.1f} ms); the portal's pipeline alone (journal) "
        f"{push['server_p50_ms']:.1f} / {push['server_p99_ms']:.1f} ms; errors {push['errors']}; CPU seconds used: "
        f"portal {push['portal_cpu_s']:.1f}, senders {push['senders_cpu_s']:.1f}",
        f"other processes' peak RSS: simulator {full['simulator_peak_rss_mib']:.0f} MiB (built in "
        f"{full['simulator_build_s']:.1f} s), senders {push['senders_peak_rss_mib']:.0f} MiB",
        "verified: " + ("all counts as expected" if summary["ok"] else "; ".join(summary["failures"])),
    ]
    stats = summary["median"].get("stats_pull")
    if stats:
        line = (
            f"stats pull (one call per station): {stats['portal_time_s']:.2f} s at {stats['portal_concurrency']:.0f} "
            f"at a time ({stats['portal_stations_per_s']:.0f} stations/s); floor, one at a time: "
            f"{stats['floor_time_s']:.2f} s ({stats['floor_stations_per_s']:.0f} stations/s); "
            f"{stats['ratio']:.2f}× the floor's speed"
        )
        lines.insert(-1, line)
    return "\n".join(lines)


class Command(BaseCommand):
    help = (
        "Benchmark part 2's exchanges and print figures. (1) A full crawl (stations_info_pull, full) of a simulated "
        "operator with --stations stations of 1–20 connectors each (≈10.5 on average, so 20,000 stations ≈ 210,000 "
        "connectors; the simulator's generator decides, there is no per-station setting). (2) An incremental crawl "
        "after --changed of the stations changed (renames, added AC piles, derated connectors). (3) --senders "
        "concurrent senders of notification_stationStatus, --messages-per-sender each, over real HTTP. The simulator "
        "and the senders each run in their own forked process; the portal crawls and serves (Django's threaded WSGI "
        "server) in this one, so its peak RSS is this process's. Each round provisions operator "
        f"{BENCH_OPERATOR_ID} afresh and deletes it at the end; times and rates are medians of the rounds, latency "
        "percentiles are over every round's samples. Works on the configured database (DATABASE_URL) and deletes "
        f"every operator whose ID starts with {BENCH_PREFIX} with all its rows, before (left by an interrupted run) "
        "and after. Refuses to run on a database that holds any other operator unless --yes is given. Exits non-zero "
        "when a verified count is off."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--stations", type=int, default=20_000)
        parser.add_argument("--changed", type=float, default=0.01, help="share of the stations changed (0.01 = 1 %%)")
        parser.add_argument("--senders", type=int, default=50)
        parser.add_argument("--messages-per-sender", type=int, default=200)
        parser.add_argument("--rounds", type=int, default=3)
        parser.add_argument("--seed", type=int, default=1, help="the simulator's seed (same seed, same directory)")
        parser.add_argument(
            "--stats",
            action="store_true",
            help="also pull every station's daily statistics, one call at a time, then --stats-concurrency at a time",
        )
        parser.add_argument("--stats-concurrency", type=int, default=4)
        parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
        parser.add_argument("--yes", action="store_true", help="run even though the database holds other operators")

    def handle(self, *args: Any, **options: Any) -> None:
        for name in ("stations", "senders", "messages_per_sender", "rounds", "stats_concurrency"):
            if options[name] < 1:
                raise CommandError(f"--{name.replace('_', '-')} must be at least 1")
        if not 0 < options["changed"] <= 1:
            raise CommandError("--changed must be in (0, 1]")
        others = Operator.objects.exclude(operator_id__startswith=BENCH_PREFIX).count()
        if others and not options["yes"]:
            raise CommandError(
                f"the database holds {others} other operator(s); the benchmark only writes and deletes "
                f"{BENCH_PREFIX}* rows, but run it on a scratch database, or pass --yes"
            )

        def log(text: str) -> None:
            self.stderr.write(text)
            self.stderr.flush()

        # The simulator and the portal under test listen on loopback: the crawl would refuse a private address
        # (HLHT_ALLOW_PRIVATE_ENDPOINTS is off outside DEBUG). The 50 push senders each ask a token within the same
        # second, against the per-operator limits (HLHT_TOKEN_RATE 10 a minute, HLHT_MAX_LIVE_TOKENS 5) that would
        # refuse all but a few (FailReason 4). Raised for this process only, as hlht_bench_roaming does.
        override_settings(
            HLHT_ALLOW_PRIVATE_ENDPOINTS=True,
            HLHT_TOKEN_RATE=4 * options["senders"] * options["rounds"],
            HLHT_MAX_LIVE_TOKENS=4 * options["senders"],
        ).enable()
        _clean_up(_bench_operator_ids())  # left behind by an interrupted run
        rounds: list[Round] = []
        try:
            for index in range(1, options["rounds"] + 1):
                log(f"round {index}/{options['rounds']} ({BENCH_OPERATOR_ID})")
                rounds.append(_run_round(BENCH_OPERATOR_ID, options, log))
                began = time.perf_counter()
                _clean_up([BENCH_OPERATOR_ID])  # each round starts from the same (empty) state
                log(f"  clean-up: {time.perf_counter() - began:.1f} s")
        finally:
            _clean_up(_bench_operator_ids())
        summary = _summary(rounds, options)
        self.stdout.write(json.dumps(summary, ensure_ascii=False) if options["json"] else _table(summary))
        if not summary["ok"]:
            raise CommandError("verification failed: " + "; ".join(summary["failures"]))
