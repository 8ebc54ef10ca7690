"""The soak: the portal run as in production for minutes (gunicorn on PostgreSQL, a Celery worker and beat on Redis,
simulated operator platforms as processes, drivers over the API), sampled every few seconds, then checked: every push
the platforms were answered Ret 0 for is stored once, every session paid once."""

from __future__ import annotations

import csv
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import requests
from django.conf import settings
from django.core.management.base import CommandError
from django.db import connections
from django.db.models import Count
from django.test import override_settings
from django.utils import timezone
from rest_framework.authtoken.models import Token

from apps.charging.choices import CommandState
from apps.charging.models import ChargingSession, OutboundCommand
from apps.core.conf import conf
from apps.demo.benchkit import database_url, free_port, percentile, proc_status
from apps.drivers.choices import EntryKind
from apps.drivers.models import WalletEntry
from apps.drivers.services import driver_register, wallet_top_up
from apps.interconnect.choices import Direction, RunStatus
from apps.interconnect.models import Exchange
from apps.interconnect.scheduling import pull_run
from apps.interconnect.services import operator_provision
from apps.operators.models import Operator
from apps.orders.choices import StartChargeSeqStat
from apps.orders.models import ChargeOrder
from apps.protocol.names import Interface
from apps.stations.choices import StatusSource
from apps.stations.models import Connector, ConnectorStatusHistory, PendingConnectorStatus

PREFIX = "MA01SK"  # the soak's operators: MA01SK<run, 2 digits><platform, 1 digit>
QUEUES = ("celery", "pulls")
PUSHES = (
    Interface.NOTIFICATION_STATION_STATUS,
    Interface.NOTIFICATION_START_CHARGE_RESULT,
    Interface.NOTIFICATION_EQUIP_CHARGE_STATUS,
    Interface.NOTIFICATION_STOP_CHARGE_RESULT,
    Interface.NOTIFICATION_CHARGE_ORDER_INFO,
    Interface.NOTIFICATION_CHARGE_ORDER_INFO_FOR_BONUS,
    Interface.CHECK_CHARGE_ORDERS,
)
IDLE = 1  # ConnectorStatus 空闲


@dataclass
class Options:
    minutes: float
    platforms: int = 3
    stations: int = 100
    walkin_rate: float = 40.0
    drivers: int = 6
    web_workers: int = 2
    sample_every: float = 10.0
    out: Path = Path("var/soak")
    png: Path | None = None
    charge_seconds: tuple[float, float] = (30.0, 90.0)


@dataclass
class Child:
    name: str
    process: subprocess.Popen
    log: Path


@dataclass
class DriverFigures:
    starts: Counter[int] = field(default_factory=Counter)  # HTTP status of each start
    stops: Counter[int] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, what: Counter, code: int, ms: float) -> None:
        with self.lock:
            what[code] += 1
            self.latencies_ms.append(ms)


def _children(pid: int) -> list[int]:
    """Direct children of `pid` (Linux /proc), sorted: gunicorn's workers, Celery's pool processes."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            continue
    return sorted(set(found))


def _redis() -> Any:
    import redis  # the broker's client, present with Celery's Redis transport

    return redis.Redis.from_url(settings.CELERY_BROKER_URL)


class Soak:
    """One soak run: `run()` sets up, starts the processes, loads and samples for `minutes`, stops, checks."""

    def __init__(self, options: Options, say: Callable[[str], None]) -> None:
        self.o = options
        self.say = say
        self.children: list[Child] = []
        self.simulators: list[tuple[str, Child, Path]] = []
        self.stop = threading.Event()  # no new sessions: the drivers stop what they charge and wait for the orders
        self.halt = threading.Event()  # everything stops waiting
        self.samples: list[dict[str, Any]] = []
        self.drivers = DriverFigures()
        self.ids: list[str] = []
        self.phones = ""
        self.started_at = timezone.now()

    # -- set-up and clean-up --------------------------------------------------------------------------------------

    def _number(self) -> None:
        """This run's operators and drivers: MA01SK<run><n> and 1980<run><n>, a run number above any earlier soak's
        on this database. An earlier run's rows stay (its pulls, statistics, reconciliations and journal reach into
        many tables): the checks read this run's own rows only."""
        earlier = Operator.objects.filter(operator_id__startswith=PREFIX).values_list("operator_id", flat=True)
        run = 1 + max((int(i[len(PREFIX) : len(PREFIX) + 2]) for i in earlier if i[len(PREFIX) :].isdigit()), default=0)
        if run > 99:
            raise CommandError("99 soaks ran on this database: use a fresh one")
        self.ids = [f"{PREFIX}{run:02d}{n + 1}" for n in range(self.o.platforms)]
        self.phones = f"1980{run:03d}"

    def _env(self) -> dict[str, str]:
        return {**os.environ, "DATABASE_URL": database_url(), "DEBUG": "0", "SECRET_KEY": settings.SECRET_KEY,
                "HLHT_VAR_DIR": str(settings.VAR_DIR), "LOG_LEVEL": "WARNING",
                "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
                "HLHT_ENQUEUE": "apps.core.jobs.celery_enqueue", "HLHT_ALLOW_PRIVATE_ENDPOINTS": "1",
                "ALLOWED_HOSTS": "127.0.0.1,localhost", "PYTHONUNBUFFERED": "1"}  # fmt: skip

    def _spawn(self, name: str, command: list[str], stdin: str | None = None) -> Child:
        log = self.o.out / "logs" / f"{name}.log"
        handle = log.open("w")
        process = subprocess.Popen(  # noqa: S603 - our own argv
            command,
            env=self._env(),
            cwd=settings.BASE_DIR,
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=handle,
            stderr=subprocess.STDOUT,
            text=True,
        )
        if stdin is not None and process.stdin is not None:
            process.stdin.write(stdin)  # the keys reach the simulator through a pipe, never a file
            process.stdin.close()
        child = Child(name, process, log)
        self.children.append(child)
        return child

    def _wait_listening(self, url: str, child: Child, seconds: float = 60.0) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if child.process.poll() is not None:
                raise CommandError(f"{child.name} exited with code {child.process.returncode}; see {child.log}")
            try:
                requests.post(url, data=b"{}", timeout=2)
                return
            except requests.RequestException:
                time.sleep(0.3)
        raise CommandError(f"{child.name} did not answer at {url} within {seconds:g} s")

    def _start_processes(self) -> tuple[str, str]:
        bin_dir = Path(sys.executable).parent
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        portal = f"{base}/{conf().protocol.prefix}"
        connections.close_all()
        _redis().delete(*QUEUES)  # a queue left by an earlier run would be counted as this one's depth
        gunicorn = self._spawn("gunicorn", [str(bin_dir / "gunicorn"), "hlht_portal.wsgi:application", "--bind",
                               f"127.0.0.1:{port}", "--workers", str(self.o.web_workers), "--worker-class", "gthread",
                               "--threads", "4", "--backlog", "2048", "--log-level", "warning"])  # fmt: skip
        self._wait_listening(portal + Interface.QUERY_TOKEN, gunicorn)
        celery = str(bin_dir / "celery")
        self._spawn("worker", [celery, "-A", "hlht_portal", "worker", "-Q", ",".join(QUEUES), "-c", "2",
                               "-l", "WARNING", "--without-gossip", "--without-mingle", "-n", "soak@%h"])  # fmt: skip
        schedule = self.o.out / "beat-schedule"
        self._spawn("beat", [celery, "-A", "hlht_portal", "beat", "-l", "WARNING", "-s", str(schedule)])
        for index, operator_id in enumerate(self.ids):
            keys = operator_provision(operator_id=operator_id, name=f"浸泡测试运营商{index + 1}")
            sim_port = free_port()
            acks = self.o.out / f"acks-{operator_id}.json"
            acks.unlink(missing_ok=True)
            child = self._spawn(
                f"sim-{operator_id}",
                [
                    sys.executable,
                    "manage.py",
                    "simulate_operator",
                    "--operator-id",
                    operator_id,
                    "--port",
                    str(sim_port),
                    "--keys",
                    "-",
                    "--portal",
                    portal,
                    "--token-at-start",
                    "--stations",
                    str(self.o.stations),
                    "--seed",
                    str(101 + index),
                    "--walkin-rate",
                    str(self.o.walkin_rate),
                    "--reconcile-every",
                    "300",
                    "--acks",
                    str(acks),
                ],
                stdin=json.dumps(keys),
            )
            sim_url = f"http://127.0.0.1:{sim_port}/evcs/v1/"
            self._wait_listening(sim_url + Interface.QUERY_TOKEN, child)
            operator_provision(operator_id=operator_id, name=f"浸泡测试运营商{index + 1}", endpoint=sim_url)
            self.simulators.append((operator_id, child, acks))
            # The directory first, as onboarding does: the drivers need connectors to start on (beat's own crawls
            # follow on their schedule); statuses pushed meanwhile wait as pending and are applied by the crawl.
            run = pull_run(
                operator=Operator.objects.get(pk=operator_id), interface=Interface.QUERY_STATIONS_INFO, full=True
            )
            if run is None or run.status != RunStatus.SUCCEEDED:
                raise CommandError(f"{operator_id}: the first full crawl failed: {run and run.error}")
        return base, portal

    def _make_drivers(self) -> list[str]:
        tokens = []
        for n in range(self.o.drivers):
            driver = driver_register(phone=f"{self.phones}{n:04d}")
            wallet_top_up(driver_id=driver.pk, amount=Decimal("5000"), key="soak")
            tokens.append(Token.objects.get_or_create(user=driver.user)[0].key)
        return tokens

    # -- load: drivers over the API -------------------------------------------------------------------------------

    def _free_connector(self, rng: random.Random) -> tuple[str, str] | None:
        free = list(
            Connector.objects.filter(
                operator_id__in=self.ids, removed_at__isnull=True, current_status__status=IDLE
            ).values_list("operator_id", "connector_id")[:300]
        )
        return rng.choice(free) if free else None

    def _driver(self, base: str, token: str, seed: int) -> None:
        rng, http = random.Random(seed), requests.Session()  # noqa: S311 - a load's choices, not secrets
        http.headers["Authorization"] = f"Token {token}"
        api = f"{base}/api/driver/sessions/"

        def call(method: str, url: str, what: Counter, **kw: Any) -> requests.Response | None:
            began = time.perf_counter()
            try:
                answer = http.request(method, url, timeout=30, **kw)
            except requests.RequestException:
                self.drivers.note(what, 0, (time.perf_counter() - began) * 1000)
                return None
            self.drivers.note(what, answer.status_code, (time.perf_counter() - began) * 1000)
            return answer

        def wait_for(seq: str, done: Callable[[dict[str, Any]], bool], seconds: float) -> dict[str, Any] | None:
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline and not self.halt.is_set():
                try:
                    session = http.get(f"{api}{seq}/", timeout=30).json()
                except (requests.RequestException, ValueError):
                    session = {}
                if session and done(session):
                    return session
                self.halt.wait(2.0)
            return None

        try:
            while not self.stop.wait(rng.uniform(1.0, 5.0)):
                target = self._free_connector(rng)
                if target is None:
                    continue
                answer = call(
                    "POST", api, self.drivers.starts, json={"operator_id": target[0], "connector_id": target[1]}
                )
                if answer is None or answer.status_code not in (201, 202):
                    continue
                seq = answer.json()["start_charge_seq"]
                live = wait_for(seq, lambda s: s["state"] != StartChargeSeqStat.STARTING, 90)
                if live is None or live["state"] != StartChargeSeqStat.CHARGING:
                    self.drivers.outcomes["not_started"] += 1
                    continue
                self.stop.wait(rng.uniform(*self.o.charge_seconds))
                call("POST", f"{api}{seq}/stop/", self.drivers.stops)
                ended = wait_for(
                    seq, lambda s: s["state"] == StartChargeSeqStat.FINISHED and s["order_total_money"], 120
                )
                self.drivers.outcomes["ended_with_order" if ended else "unfinished"] += 1
        finally:
            connections.close_all()  # this thread's own database connection

    # -- sampling ------------------------------------------------------------------------------------------------

    def _processes(self) -> dict[str, int]:
        """Name → pid of every process measured: gunicorn's master and workers, the Celery worker and its pool, beat,
        the simulators. Workers are named by rank (a replaced worker takes its predecessor's name)."""
        pids: dict[str, int] = {}
        for child in self.children:
            if child.process.poll() is not None:
                continue
            pids[child.name] = child.process.pid
            if child.name in ("gunicorn", "worker"):
                for rank, pid in enumerate(_children(child.process.pid), 1):
                    pids[f"{child.name}-{rank}"] = pid
        return pids

    def _sample(self, since: datetime, began: float) -> dict[str, Any]:
        now = timezone.now()
        latencies = list(
            Exchange.objects.filter(
                operator_id__in=self.ids, direction=Direction.IN, created__gte=since, created__lt=now
            ).values_list("latency_ms", flat=True)
        )
        broker = _redis()
        row: dict[str, Any] = {
            "t_s": round(time.monotonic() - began, 1),
            "answers": len(latencies),
            "p50_ms": round(percentile(latencies, 0.5), 1),
            "p99_ms": round(percentile(latencies, 0.99), 1),
            "outbox": OutboundCommand.objects.filter(
                state=CommandState.PENDING, session__operator_id__in=self.ids
            ).count(),
        }
        for queue in QUEUES:
            row[f"queue_{queue}"] = broker.llen(queue)
        for name, pid in self._processes().items():
            rss = proc_status(pid).get("VmRSS")
            if rss is not None:
                row[f"rss_{name}"] = round(rss / 1024, 1)
        return row

    def _sampler(self, began: float) -> None:
        since = timezone.now()
        try:
            while not self.halt.wait(self.o.sample_every):
                now = timezone.now()
                self.samples.append(self._sample(since, began))
                since = now
                last = self.samples[-1]
                self.say(
                    f"t={last['t_s']:>6.0f}s answers {last['answers']:>4} p99 {last['p99_ms']:>6.1f} ms "
                    f"queues {last['queue_celery']}/{last['queue_pulls']} outbox {last['outbox']}"
                )
        finally:
            connections.close_all()

    # -- the run --------------------------------------------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        self.o.out.mkdir(parents=True, exist_ok=True)
        (self.o.out / "logs").mkdir(exist_ok=True)
        self._number()
        # The simulated platforms listen on loopback, which a production portal refuses to call (SSRF guard).
        override_settings(HLHT_ALLOW_PRIVATE_ENDPOINTS=True).enable()
        began = time.monotonic()
        self.started_at = timezone.now()
        threads: list[threading.Thread] = []
        try:
            base, _ = self._start_processes()
            tokens = self._make_drivers()
            self.say(f"soak: {len(self.children)} processes up in {time.monotonic() - began:.0f} s; load for "
                     f"{self.o.minutes:g} min")  # fmt: skip
            began = time.monotonic()
            threads = [threading.Thread(target=self._sampler, args=(began,), daemon=True)]
            threads += [
                threading.Thread(target=self._driver, args=(base, token, n), daemon=True)
                for n, token in enumerate(tokens)
            ]
            for thread in threads:
                thread.start()
            deadline = began + self.o.minutes * 60
            while time.monotonic() < deadline:
                dead = [c.name for c in self.children if c.process.poll() is not None]
                if dead:
                    raise CommandError(f"{', '.join(dead)} exited during the soak; see {self.o.out / 'logs'}")
                time.sleep(1.0)
        finally:
            self.stop.set()  # the drivers finish their sessions (stop, order, payment) before anything stops
            deadline = time.monotonic() + 150
            for thread in threads:
                thread.join(timeout=max(0.1, deadline - time.monotonic()))
            self.halt.set()
            self._stop_simulators()
            self._drain()
            for child in reversed(self.children):
                _terminate(child.process)
        return self._figures()

    def _stop_simulators(self) -> None:
        """SIGTERM: each simulator finishes, then writes what the portal acknowledged."""
        for _, child, _ in self.simulators:
            child.process.send_signal(signal.SIGTERM)
        for _, child, _ in self.simulators:
            try:
                child.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.process.kill()

    def _drain(self, seconds: float = 60.0) -> None:
        """Let the worker finish what is queued (the orders' money is posted by the request that stores them)."""
        deadline = time.monotonic() + seconds
        broker = _redis()
        while time.monotonic() < deadline:
            if not any(broker.llen(q) for q in QUEUES):
                return
            time.sleep(1.0)

    # -- figures --------------------------------------------------------------------------------------------------

    def _figures(self) -> dict[str, Any]:
        acks: dict[str, list[str]] = {}
        missing_acks = []
        for operator_id, _, path in self.simulators:
            if not path.exists():
                missing_acks.append(operator_id)
                continue
            for interface, idents in json.loads(path.read_text()).items():
                acks.setdefault(interface, []).extend(idents)
        journal = dict(
            Exchange.objects.filter(operator_id__in=self.ids, direction=Direction.IN, ret=0)
            .values_list("interface")
            .annotate(n=Count("id"))
            .values_list("interface", "n")
        )
        interfaces = {
            name: {"acks": len(acks.get(name, [])), "journal": journal.get(name, 0)} for name in PUSHES if name in acks
        }
        history = ConnectorStatusHistory.objects.filter(connector__operator_id__in=self.ids, source=StatusSource.PUSH)
        status_rows = (
            history.count()
            + PendingConnectorStatus.objects.filter(operator_id__in=self.ids, source=StatusSource.PUSH).count()
        )
        status_dupes = (
            history.count()
            - history.values("connector_id", "status_time", "status", "park_status", "lock_status").distinct().count()
        )
        status_acks = len(acks.get(Interface.NOTIFICATION_STATION_STATUS, []))
        acked_orders = set(acks.get(Interface.NOTIFICATION_CHARGE_ORDER_INFO, [])) | set(
            acks.get(Interface.NOTIFICATION_CHARGE_ORDER_INFO_FOR_BONUS, [])
        )
        stored_orders = Counter(
            ChargeOrder.objects.filter(operator_id__in=self.ids).values_list("start_charge_seq", flat=True)
        )
        order_missing = sorted(seq for seq in acked_orders if seq not in stored_orders)
        order_dupes = sum(n - 1 for n in stored_orders.values() if n > 1)
        entries = WalletEntry.objects.filter(driver__phone__startswith=self.phones)
        charges = Counter(entries.filter(kind=EntryKind.CHARGE).values_list("order_id", flat=True))
        releases = Counter(entries.filter(kind=EntryKind.RELEASE).values_list("start_charge_seq", flat=True))
        paid_sessions = ChargingSession.objects.filter(
            operator_id__in=self.ids, order__isnull=False, order__total_money__gt=0
        )
        unpaid = paid_sessions.exclude(order_id__in=list(charges)).count()
        checks = {
            "status pushes acknowledged = stored": (status_acks, status_rows),
            "status rows duplicated": (status_dupes, 0),
            "orders acknowledged but not stored": (len(order_missing), 0),
            "orders stored twice": (order_dupes, 0),
            "sessions charged twice": (sum(1 for n in charges.values() if n > 1), 0),
            "holds released twice": (sum(1 for n in releases.values() if n > 1), 0),
            "sessions with an order but not charged": (unpaid, 0),
            "simulators that wrote no acks": (len(missing_acks), 0),
        }
        for name, figures in interfaces.items():
            checks[f"{name}: acknowledged = journalled Ret 0"] = (figures["acks"], figures["journal"])
        rss = self._rss_summary()
        p99s = [s["p99_ms"] for s in self.samples if s["answers"]]
        return {
            "minutes": self.o.minutes,
            "platforms": self.o.platforms,
            "stations_per_platform": self.o.stations,
            "drivers": self.o.drivers,
            "samples": len(self.samples),
            "interfaces": interfaces,
            "orders_acknowledged": len(acked_orders),
            "orders_stored": len(stored_orders),
            "sessions_with_order": ChargingSession.objects.filter(
                operator_id__in=self.ids, order__isnull=False
            ).count(),
            "sessions_charged": len(charges),
            "driver_api": {
                "starts": dict(self.drivers.starts),
                "stops": dict(self.drivers.stops),
                "outcomes": dict(self.drivers.outcomes),
                "p99_ms": round(percentile(self.drivers.latencies_ms, 0.99), 1),
            },
            "protocol_p99_ms": {
                "median_of_samples": round(percentile(p99s, 0.5), 1),
                "max_of_samples": max(p99s, default=0.0),
            },
            "queue_max": {
                key: max((s.get(key, 0) for s in self.samples), default=0)
                for key in ("queue_celery", "queue_pulls", "outbox")
            },
            "rss_mib": rss,
            "checks": {name: {"actual": a, "expected": e, "ok": a == e} for name, (a, e) in checks.items()},
            "ok": all(a == e for a, e in checks.values()),
        }

    def _rss_summary(self) -> dict[str, dict[str, float]]:
        names = sorted({k for s in self.samples for k in s if k.startswith("rss_")})
        summary = {}
        for name in names:
            values = [s[name] for s in self.samples if name in s]
            summary[name[4:]] = {"start": values[0], "end": values[-1], "max": max(values)}
        return summary

    def write(self, figures: dict[str, Any]) -> tuple[Path, Path]:
        """The samples as CSV, the figures as JSON, and the picture (memory, p99, queues over time) as PNG."""
        columns = sorted({k for s in self.samples for k in s}, key=lambda k: (k != "t_s", k))
        csv_path = self.o.out / "soak.csv"
        with csv_path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            writer.writerows(self.samples)
        (self.o.out / "soak.json").write_text(json.dumps(figures, indent=2, ensure_ascii=False))
        png = self.o.png or self.o.out / "soak.png"
        plot(self.samples, png, figures)
        return csv_path, png


def _terminate(process: subprocess.Popen, seconds: float = 30.0) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def plot(samples: list[dict[str, Any]], path: Path, figures: dict[str, Any]) -> None:
    """Three panels sharing the time axis: RSS per process, p99 of the protocol answers, queue and outbox depth."""
    import matplotlib

    matplotlib.use("Agg")  # headless: no display on a server or in CI
    import matplotlib.pyplot as plt

    minutes = [s["t_s"] / 60 for s in samples]
    fig, (memory, latency, queues) = plt.subplots(3, 1, figsize=(11, 9), sharex=True)
    for name in sorted({k for s in samples for k in s if k.startswith("rss_")}):
        memory.plot(minutes, [s.get(name) for s in samples], label=name[4:], linewidth=1.2)
    memory.set_ylabel("RSS (MiB)")
    memory.set_ylim(bottom=0)
    memory.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))  # beside the lines, never over them
    latency.plot(minutes, [s["p99_ms"] for s in samples], label="p99", color="tab:red")
    latency.plot(minutes, [s["p50_ms"] for s in samples], label="p50", color="tab:blue")
    latency.set_ylabel("protocol answer (ms)")
    latency.set_ylim(bottom=0)
    latency.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    for key, label in (("queue_celery", "Redis celery"), ("queue_pulls", "Redis pulls"), ("outbox", "outbox pending")):
        queues.plot(minutes, [s.get(key, 0) for s in samples], label=label)
    queues.set_ylabel("depth")
    queues.set_xlabel("minutes")
    deepest = max((s.get(k, 0) for s in samples for k in ("queue_celery", "queue_pulls", "outbox")), default=0)
    queues.set_ylim(0, max(5, deepest * 1.1))  # an empty queue reads as a line on the floor, not mid-panel
    queues.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ok = "rows = acks, duplicates 0" if figures.get("ok") else "EXACTLY-ONCE CHECK FAILED"
    fig.suptitle(
        f"HLHT soak: {figures['minutes']:g} min, {figures['platforms']} simulated platforms, gunicorn "
        f"+ Celery worker + beat; {ok}",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
