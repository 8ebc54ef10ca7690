"""Run one simulated operator platform (T/CEC 102 operator side + pushes to the portal) until SIGINT/SIGTERM."""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from argparse import ArgumentTypeError
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from apps.simulator.config import DIALECT_NAMES, PORTAL_OPERATOR_ID, SimulatorConfig, load_keys, parse_dialect
from apps.simulator.faults import Faults, describe
from apps.simulator.simulator import Simulator
from apps.simulator.stopping import stop_on_signals

STATS_INTERVAL = 60.0  # seconds between the one-line activity reports


def _portal_url(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise ArgumentTypeError("must be an http(s) base URL such as http://127.0.0.1:8000/evcs/v1/")
    return value.rstrip("/") + "/"  # interface names are appended to it


class Command(BaseCommand):
    help = (
        "Simulate an operator (CPO) platform: serve query_* at http://HOST:PORT/evcs/v1/ and push notification_* "
        "and check_charge_orders to --portal. Keeps its own state in memory; never touches the portal's database."
    )
    # The simulator needs no database and no URLconf: skip the system checks that would load them.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--operator-id", required=True, help="our 9-character OperatorID (must match --keys)")
        parser.add_argument("--port", type=int, required=True, help="port to serve on (0 = any free port)")
        parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
        parser.add_argument(
            "--portal", type=_portal_url, help="the portal's base URL, e.g. http://127.0.0.1:8000/evcs/v1/"
        )
        parser.add_argument(
            "--keys",
            required=True,
            help="JSON printed by operator_provision: inbound = keys the portal issued (we call the portal with them), "
            "outbound = keys we issued (the portal calls us with them); `-` reads it from standard input",
        )
        parser.add_argument("--stations", type=int, default=50, help="number of stations (default 50; 20000 works)")
        parser.add_argument("--seed", type=int, default=1, help="seed: same seed, same directory and activity")
        parser.add_argument("--speed", type=float, default=1.0, help="simulated seconds per real second (default 1)")
        parser.add_argument(
            "--behind",
            type=float,
            default=6 * 3600.0,
            help="with --speed above 1: seconds the world begins in the past, default 6 h (it runs "
            "fast until it reaches the present, then keeps pace)",
        )
        parser.add_argument("--faults", default="", help=f"comma list of name[:param]. {describe()}")
        parser.add_argument(
            "--dialect", default="", help=f"comma list of deviations we speak: {', '.join(DIALECT_NAMES)}"
        )
        parser.add_argument("--no-push", action="store_true", help="serve queries only; push nothing to the portal")
        parser.add_argument(
            "--token-at-start", action="store_true", help="fetch the portal's token on start, not at the first push"
        )
        parser.add_argument("--portal-operator-id", default=PORTAL_OPERATOR_ID, help="the portal's OperatorID")
        parser.add_argument("--token-ttl", type=int, default=7200, help="TokenAvailableTime we grant, seconds")
        parser.add_argument("--page-size-max", type=int, default=100, help="largest PageSize served (default 100)")
        parser.add_argument("--walkin-rate", type=float, default=3.0, help="walk-in sessions per connector per day")
        parser.add_argument("--churn", type=float, default=24.0, help="directory changes per simulated day")
        parser.add_argument(
            "--reconcile-every",
            type=float,
            default=0.0,
            help="seconds between reconciliations of the day so far (check_charge_orders), besides the daily one",
        )
        parser.add_argument(
            "--acks", default="", help="on stop, write the pushes the portal answered Ret 0 here (JSON, per interface)"
        )
        parser.add_argument("--push-workers", type=int, default=1, help="concurrent push senders (default 1)")
        parser.add_argument("--timeout-hold", type=float, default=35.0, help="seconds the timeout fault holds a call")
        parser.add_argument(
            "--sig-first", action="store_true", help="check the Sig before the envelope's field formats (4001 first)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            # From standard input the keys never touch the disk (the live demo hands them over that way).
            source = json.load(sys.stdin) if options["keys"] == "-" else Path(options["keys"])
            operator_id, inbound, outbound = load_keys(source)
        except (OSError, ValueError) as exc:
            raise CommandError(f"--keys {options['keys']}: {exc}") from exc
        if operator_id != options["operator_id"]:
            raise CommandError(f"--operator-id {options['operator_id']} differs from the keys file's {operator_id}")
        try:
            config = SimulatorConfig(
                operator_id=operator_id,
                inbound=inbound,
                outbound=outbound,
                portal_url=options["portal"],
                portal_operator_id=options["portal_operator_id"],
                host=options["host"],
                port=options["port"],
                stations=options["stations"],
                seed=options["seed"],
                speed=options["speed"],
                behind=options["behind"],
                faults=Faults.parse(options["faults"], seed=options["seed"]),
                dialect=parse_dialect(options["dialect"]),
                push=not options["no_push"] and bool(options["portal"]),
                token_at_start=options["token_at_start"],
                token_ttl=options["token_ttl"],
                page_size_max=options["page_size_max"],
                walkin_rate=options["walkin_rate"],
                churn_per_day=options["churn"],
                reconcile_every=options["reconcile_every"],
                push_workers=options["push_workers"],
                timeout_hold=options["timeout_hold"],
                sig_first=options["sig_first"],
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if options["verbosity"] >= 2:
            logging.basicConfig(level=logging.DEBUG)

        started = time.perf_counter()
        sim = Simulator(config)
        try:
            sim.start()
        except OSError as exc:
            raise CommandError(f"cannot listen on {config.host}:{config.port}: {exc}") from exc
        self.stdout.write(
            f"Operator {operator_id} simulated: {len(sim.directory.stations)} stations, "
            f"{len(sim.directory.connectors)} connectors, built in {time.perf_counter() - started:.1f} s; "
            f"serving {sim.base_url}; pushing to {config.portal_url if sim.pusher else 'nobody'}; "
            f"faults {config.faults}; speed {config.speed:g}",
        )
        self.stdout.flush()

        stop = threading.Event()
        stop_on_signals(stop)
        reporter = threading.Thread(target=self._report, args=(sim, stop), daemon=True)
        reporter.start()
        try:
            sim.run(stop)
        finally:
            sim.stop()
            if options["acks"] and sim.pusher is not None:
                Path(options["acks"]).write_text(json.dumps(sim.pusher.acks))
        self.stdout.write("Simulator stopped.")

    def _report(self, sim: Simulator, stop: threading.Event) -> None:
        while not stop.wait(STATS_INTERVAL):
            with sim.lock:
                charging = len(sim.sessions)
            pushes = dict(sim.pusher.counts) if sim.pusher else {}
            pending = sim.pusher.pending() if sim.pusher else 0
            self.stdout.write(
                f"[{sim.clock.now():%Y-%m-%d %H:%M:%S}] sessions {charging}, pushes {pushes}, pending {pending}"
            )
            self.stdout.flush()
