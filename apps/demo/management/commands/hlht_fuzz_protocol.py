"""Fuzz the protocol server over HTTP: hostile Data signed with valid keys to every served interface (demo/fuzz.py).

The portal is served by gunicorn on this database; forked senders each speak as their own provisioned platforms.
Prints cases, the Ret distribution, Ret 500s, answers over 1 s, p50/p99 latency and journal rows against answers;
exits non-zero on any violation, printing the minimal failing example hypothesis shrank it to.
"""

from __future__ import annotations

import random
import time
from multiprocessing.connection import Connection
from typing import Any
from urllib.parse import quote

import requests
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Max

from apps.demo.benchkit import fork, guarded, gunicorn_portal, percentile, receive
from apps.demo.fuzz import PREFIX, SLOW_SECONDS, Fuzzer, Plan, Reply, Tally, clean, directory_hints, platforms_provision
from apps.interconnect.choices import Direction
from apps.interconnect.models import Exchange
from apps.operators.models import Operator


def http_sender(url: str) -> Any:
    session = requests.Session()

    def send(interface: str, body: bytes, authorization: str | None) -> Reply:
        headers = {"Content-Type": "application/json;charset=utf-8"}
        if authorization is not None:
            headers["Authorization"] = authorization
        began = time.perf_counter()
        for attempt in (1, 2):
            try:
                response = session.post(url + quote(interface, safe=""), data=body, headers=headers, timeout=60)
            except requests.ConnectionError as exc:
                # gunicorn closes a keep-alive connection idle for 2 s (a sender pausing between hypothesis runs);
                # a request sent on it as it closes is never read, so it is sent once more on a new connection.
                # Had the server read it and died, its journal row would outnumber the answers: the run checks.
                if attempt == 1 and "RemoteDisconnected" in repr(exc):
                    began = time.perf_counter()
                    continue
                return Reply(0, repr(exc).encode(), time.perf_counter() - began)
            except requests.RequestException as exc:
                return Reply(0, repr(exc).encode(), time.perf_counter() - began)
            break
        return Reply(response.status_code, response.content, time.perf_counter() - began)

    return send


def _sender(conn: Connection, url: str, plan: Plan, count: int, seed_value: int, batch: int) -> None:
    def body() -> None:
        def progress(tally: Tally) -> None:
            conn.send(("progress", tally.cases, tally.rets.get("500", 0), len(tally.slow)))

        fuzzer = Fuzzer(plan, http_sender(url))
        failure = fuzzer.run(count, seed_value, batch=batch, progress=progress)
        conn.send(("done", fuzzer.tally, failure))

    guarded(conn, body)


class Command(BaseCommand):
    help = (
        "Fuzz every interface the portal serves over HTTP (gunicorn on this PostgreSQL database) with hostile Data "
        "signed with valid keys and a share of broken envelopes; non-zero exit on a Ret 500, an answer over 1 s, a "
        "non-envelope answer or a journal that does not match the answers."
    )

    def add_arguments(self, parser):
        parser.add_argument("--cases", type=int, default=100_000)
        parser.add_argument("--seed", type=int, default=None, help="hypothesis seed (default: random, printed)")
        parser.add_argument("--senders", type=int, default=2, help="forked sender processes")
        parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
        parser.add_argument("--batch", type=int, default=5000, help="examples per hypothesis run")

    def handle(self, *args, cases, seed, senders, workers, batch, **options):
        strangers = Operator.objects.exclude(operator_id__startswith=PREFIX)
        if strangers.exists():
            raise CommandError("this database holds operators the fuzz did not make: run it on a database of its own")
        seed = seed if seed is not None else random.randrange(2**32)  # noqa: S311 - a seed, not a secret
        clean(list(Operator.objects.values_list("operator_id", flat=True)))
        plans = [Plan.served(platforms_provision(i), {}) for i in range(senders)]
        hints = directory_hints([p.operator_id for plan in plans for p in plan.platforms])
        plans = [Plan.served(plan.platforms, hints) for plan in plans]
        first = Exchange.objects.aggregate(last=Max("id"))["last"] or 0
        self.stdout.write(
            f"fuzz: {cases} cases over {len(plans[0].interfaces)} interfaces ({', '.join(plans[0].interfaces)}), "
            f"seed {seed}, {senders} senders, gunicorn {workers} workers"
        )
        began = time.monotonic()
        tally, failures = Tally(), []
        with gunicorn_portal(workers) as url:
            children = []
            for index, plan in enumerate(plans):
                share = cases // senders + (1 if index < cases % senders else 0)
                children.append(fork(_sender, url, plan, share, seed + index * 10**7, batch))
            progress: dict[int, tuple[int, int, int]] = {}
            running = dict(enumerate(children))
            while running:
                for index, (child, conn) in list(running.items()):
                    if not conn.poll(0.2):
                        if not child.is_alive():
                            receive(conn, child, timeout=0)  # raises: the child died without a word
                        continue
                    message = receive(conn, child)
                    if message[0] == "progress":
                        progress[index] = message[1:]
                        done, failed, slow = (sum(column) for column in zip(*progress.values(), strict=True))
                        self.stdout.write(
                            f"  {done} cases, {time.monotonic() - began:.0f} s, Ret 500 so far {failed}, "
                            f"slow so far {slow}"
                        )
                        continue
                    _, child_tally, failure = message
                    tally.merge(child_tally)
                    if failure:
                        failures.append(failure)
                    child.join(timeout=30)
                    del running[index]
        elapsed = time.monotonic() - began
        journal = Exchange.objects.filter(id__gt=first, direction=Direction.IN).count()
        ok = self._report(tally, journal, elapsed, failures)
        Exchange.objects.filter(id__gt=first).delete()
        clean([p.operator_id for plan in plans for p in plan.platforms])
        if not ok:
            raise CommandError("the fuzz found violations (above)")

    def _report(self, tally: Tally, journal: int, elapsed: float, failures: list[str]) -> bool:
        rets = ", ".join(f"{ret}: {n}" for ret, n in sorted(tally.rets.items(), key=lambda kv: -kv[1]))
        p50, p99 = percentile(tally.latencies, 0.5) * 1000, percentile(tally.latencies, 0.99) * 1000
        slowest = max(tally.latencies, default=0.0) * 1000
        ret500 = tally.rets.get("500", 0)
        self.stdout.write(
            f"cases {tally.cases} ({tally.answers} answers, {tally.reached} valid envelopes reached the business "
            f"layer) in {elapsed:.0f} s, {tally.answers / elapsed:.0f} answers/s\n"
            f"Ret: {rets}\n"
            f"Ret 500: {ret500} (must be 0)\n"
            f"answers over {SLOW_SECONDS:.0f} s: {len(tally.slow)} (must be 0; sent again, each was as slow), "
            f"{len(tally.slow_once)} more that were not when sent again (the machine, not the input)\n"
            f"latency p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {slowest:.0f} ms\n"
            f"journal rows {journal}, answers {tally.answers} (must be equal)"
        )
        for seconds, case in sorted(tally.slow, reverse=True)[:5]:
            self.stdout.write(f"slow answer {seconds:.2f} s (twice): {case}")
        for seconds, case in sorted(tally.slow_once, reverse=True)[:3]:
            self.stdout.write(f"slow once {seconds:.2f} s: {case}")
        for violation in tally.violations[:3]:
            self.stdout.write(f"violation: {violation}")
        for failure in failures:
            self.stdout.write(f"minimal failing example:\n{failure}")
        return not ret500 and not tally.slow and not failures and journal == tally.answers
