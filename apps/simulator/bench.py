"""Crawl benchmark: full query_stations_info crawls over HTTP; `python -m apps.simulator.bench [--stations N]`."""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import time
from collections.abc import Sequence
from multiprocessing.connection import Connection
from pathlib import Path

from apps.protocol import KeySet, MemoryTokenStore, PeerClient
from apps.protocol.names import Interface

from .clock import SimClock
from .config import PORTAL_OPERATOR_ID, SimulatorConfig
from .simulator import Simulator

OPERATOR_ID = "BENCH0001"
INBOUND = KeySet("benchinsecret001", "benchindata00001", "benchiniv0000001", "benchinsig000001")
OUTBOUND = KeySet("benchoutsecret01", "benchoutdata0001", "benchoutiv000001", "benchoutsig00001")


def _proc_status(pid: int) -> dict[str, int]:
    """VmRSS / VmHWM (peak RSS) of a process in KiB, from /proc (Linux)."""
    values: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0])
    return values


def _serve(stations: int, seed: int, conn: Connection) -> None:
    """Child process: build the simulator, serve until the parent says stop. A separate process, as in production,
    so that the crawling client does not share the simulator's GIL and the RSS figures are the simulator's own."""
    started = time.perf_counter()
    config = SimulatorConfig(
        operator_id=OPERATOR_ID, inbound=INBOUND, outbound=OUTBOUND, stations=stations, seed=seed, push=False
    )
    sim = Simulator(config, clock=SimClock(speed=0)).start()
    conn.send((sim.port, time.perf_counter() - started, len(sim.directory.stations), len(sim.directory.connectors)))
    conn.recv()
    sim.stop()


def _crawl(client: PeerClient, page_size: int) -> tuple[int, list[float]]:
    """One full crawl from page 1 to PageCount; returns (stations received, per-page latencies in ms)."""
    latencies: list[float] = []
    received = 0
    page_no, page_count = 1, 1
    while page_no <= page_count:
        began = time.perf_counter()
        page = client.call(Interface.QUERY_STATIONS_INFO, {"PageNo": page_no, "PageSize": page_size})
        latencies.append((time.perf_counter() - began) * 1000)
        page_count = page["PageCount"]
        received += len(page["StationInfos"])
        page_no += 1
    return received, latencies


def _percentile(samples: Sequence[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stations", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    context = multiprocessing.get_context("fork")  # the child inherits the imported modules: no re-import cost
    parent_end, child_end = context.Pipe()
    child = context.Process(target=_serve, args=(args.stations, args.seed, child_end), daemon=True)
    child.start()
    port, build_seconds, station_count, connector_count = parent_end.recv()
    built = _proc_status(child.pid or 0)
    print(
        f"simulator: {station_count} stations, {connector_count} connectors, built in {build_seconds:.1f} s, "
        f"RSS after build {built['VmRSS'] / 1024:.0f} MiB"
    )

    client = PeerClient(f"http://127.0.0.1:{port}/evcs/v1/", PORTAL_OPERATOR_ID, OUTBOUND, MemoryTokenStore())
    rates: list[float] = []
    page_rates: list[float] = []
    totals: list[float] = []
    latencies: list[float] = []
    try:
        for index in range(args.rounds):
            began = time.perf_counter()
            received, page_ms = _crawl(client, args.page_size)
            elapsed = time.perf_counter() - began
            if received != station_count:
                raise SystemExit(f"crawl {index + 1} received {received} stations, expected {station_count}")
            rates.append(received / elapsed)
            page_rates.append(len(page_ms) / elapsed)
            totals.append(elapsed)
            latencies.extend(page_ms)
            print(
                f"  crawl {index + 1}: {received} stations in {len(page_ms)} pages, {elapsed:.2f} s, "
                f"{received / elapsed:.0f} stations/s"
            )
        peak = _proc_status(child.pid or 0)
    finally:
        client.close()
        parent_end.send("stop")
        child.join(timeout=10)
    print(
        f"median: {statistics.median(rates):.0f} stations/s, {statistics.median(page_rates):.1f} pages/s, "
        f"{statistics.median(totals):.2f} s per full crawl (PageSize {args.page_size}, {args.rounds} crawls)"
    )
    print(f"page latency: p50 {_percentile(latencies, 0.5):.1f} ms, p99 {_percentile(latencies, 0.99):.1f} ms")
    print(f"simulator RSS: {peak['VmRSS'] / 1024:.0f} MiB now, peak {peak['VmHWM'] / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
