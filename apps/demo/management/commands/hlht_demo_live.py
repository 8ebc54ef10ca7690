"""The live demo: two simulated operator platforms onboarded the way a real operator is, then left running.

Each goes through the services the forms use: an application (a valid 统一社会信用代码), approval by the demo's
platform administrator, the inbound keys handed over once (to the simulator), the simulator's own keys entered with
its endpoint, a conformance check against it, and activation through the gate. Then they run — statuses change,
sessions end in orders — on the real clock (`--speed` fast-forwards only when asked) until this command is
stopped (Ctrl-C or SIGTERM stops the simulators too). The portal's scheduled pulls (the worker's beat) crawl them;
their pushes arrive on their own. Both key sets reach each simulator through a pipe, never a file. Meanwhile the
seeded operators of `hlht_demo` carry on their day (apps/demo/day.py), so they never look stale beside them.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from typing import Any

import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, transaction
from django.utils import timezone

from apps.demo.data import DEMO_SEED
from apps.demo.day import seeded_day, seeded_since
from apps.interconnect.choices import Direction
from apps.interconnect.keys import keys_generate
from apps.interconnect.models import Exchange
from apps.interconnect.services import operator_provision
from apps.onboarding.conformance import conformance_run
from apps.onboarding.services import (
    application_approve,
    application_submit,
    keys_hand_over,
    operator_activate,
    outbound_keys_enter,
)
from apps.operators.choices import OperatorKind, OperatorStatus
from apps.operators.models import Operator
from apps.protocol.creditcode import check_character
from apps.protocol.names import Interface
from apps.simulator.stopping import stop_on_signals

# Two platforms, told apart by name, size and seed. Their OperatorIDs are characters 9–17 of the credit codes.
# A busy city sampled on the real clock: about 2,000 connectors between them give a status change every few seconds
# and an order every few dozen seconds at any hour, so the dashboard moves within a minute without a fast-forward.
PLATFORMS: tuple[dict[str, Any], ...] = (
    {"operator_id": "MA01DMA01", "name": "演示·京畿快充科技有限公司", "stations": 120, "seed": 11},
    {"operator_id": "MA01DMB02", "name": "演示·燕山绿能充电有限公司", "stations": 80, "seed": 23},
)
# How often the seeded (static) operators' day is carried on while the live demo runs.
SEEDED_EVERY = timedelta(seconds=30)
BANNER = re.compile(r"serving (http://127\.0\.0\.1:\d+/evcs/v1/)")


def _credit_code(operator_id: str) -> str:
    body = "91110105" + operator_id
    return body + check_character(body)


class Command(BaseCommand):
    help = "Onboard two simulated operator platforms through the onboarding services and keep them running."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--portal", default="http://127.0.0.1:8000/evcs/v1/", help="the portal's protocol URL")
        parser.add_argument(
            "--speed",
            type=float,
            default=1.0,
            help="simulated seconds per real second (default 1: the real clock; faster only when asked for)",
        )
        parser.add_argument(
            "--behind",
            type=float,
            default=6 * 3600,
            help="with --speed above 1: seconds the simulated world begins in the past (it runs fast until it "
            "reaches the present, then keeps pace)",
        )
        parser.add_argument("--wait", type=float, default=120.0, help="seconds to wait for the portal to answer")

    def handle(self, *args: Any, **options: Any) -> None:
        self._wait_for_portal(options["portal"], options["wait"])
        admin = get_user_model().objects.filter(username="admin").first()
        if admin is None:
            raise CommandError("run `manage.py hlht_demo` first: the live demo is onboarded by its platform admin")
        simulators: list[subprocess.Popen] = []
        stop = threading.Event()
        stop_on_signals(stop)
        try:
            for platform in PLATFORMS:
                keys = self._keys(platform, admin)
                process, url = self._simulator(platform, keys, options)
                simulators.append(process)
                outbound_keys_enter(operator_id=platform["operator_id"], values=keys["outbound"], endpoint=url)
                self._go_live(platform["operator_id"], admin)
            self.stdout.write(self.style.SUCCESS("live demo: two simulated platforms running (Ctrl-C stops them)"))
            since = seeded_since() or timezone.now()
            while not stop.wait(1.0):
                if any(p.poll() is not None for p in simulators):
                    raise CommandError("a simulator stopped; see its output above")
                if timezone.now() - since >= SEEDED_EVERY:
                    since = self._seeded(since)
        finally:
            # A simulator finishing its pushes to a portal that is already stopping would wait for their timeouts:
            # 5 s in all, then it is killed, well inside the time `make run` gives this command to stop.
            for process in simulators:
                process.terminate()
            deadline = time.monotonic() + 5
            for process in simulators:
                try:
                    process.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    process.kill()

    def _seeded(self, since: datetime) -> datetime:
        """Carry the seeded operators' day on to now (their statuses, pushes, orders and the portal's sweeps of
        them), so they stay as alive as the simulated ones; answers the new `since` (unchanged when it failed)."""
        now = timezone.now()
        try:
            with transaction.atomic():
                seeded_day(seed=DEMO_SEED, since=since, now=now)
        except DatabaseError as exc:  # SQLite busy with the portal's own writes: the next round covers this one
            self.stderr.write(f"seeded operators: {exc}; retried in {SEEDED_EVERY.seconds} s")
            return since
        return now

    def _wait_for_portal(self, portal: str, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                requests.post(portal + Interface.QUERY_TOKEN, data=b"{}", timeout=2)
                return
            except requests.RequestException:
                time.sleep(1.0)
        raise CommandError(f"the portal did not answer at {portal} within {seconds:g} s")

    def _keys(self, platform: dict[str, Any], admin) -> dict[str, Any]:
        """Onboard through the application (first run) and return the key file the simulator is started with."""
        operator_id = platform["operator_id"]
        outbound = keys_generate()  # the keys "its platform issued to the portal"
        if Operator.objects.filter(pk=operator_id).exists():
            # A later `make run`: the keys were handed over once, long ago; the platform admin issues a new set.
            inbound = operator_provision(
                operator_id=operator_id,
                name=platform["name"],
                status=OperatorStatus.TESTING,
                keys={"inbound": keys_generate()},
            )["inbound"]
        else:
            application = application_submit(
                data={
                    "legal_name": platform["name"],
                    "credit_code": _credit_code(operator_id),
                    "kind": OperatorKind.OPERATOR,
                    "contact_name": "演示联系人",
                    "contact_phone": "010-00000000",
                    "service_tel": "400-000-0000",
                    "reg_address": "北京市朝阳区",
                    "base_url": "http://127.0.0.1/evcs/v1/",
                    "station_count": platform["stations"],
                    "connector_count": platform["stations"] * 10,
                    "email": f"{operator_id.lower()}@demo.invalid",
                }
            )
            handover = application_approve(application_id=application.pk, by=admin, note="演示平台")
            shown = keys_hand_over(handover_id=handover.pk, by=admin)
            if shown is None:
                raise CommandError(f"{operator_id}: the key handover was already shown")
            inbound = shown["keys"]["inbound"]
        return {"OperatorID": operator_id, "inbound": inbound, "outbound": outbound}

    def _simulator(
        self, platform: dict[str, Any], keys: dict[str, Any], options: dict[str, Any]
    ) -> tuple[subprocess.Popen, str]:
        # Both key sets go to the simulator through a pipe (`--keys -`), never a file: nothing is left on disk
        # however this command ends (a kill -9 included).
        command = [sys.executable, "manage.py", "simulate_operator", "--operator-id", platform["operator_id"],
                   "--port", "0", "--keys", "-", "--portal", options["portal"], "--token-at-start",
                   "--stations", str(platform["stations"]), "--seed", str(platform["seed"]),
                   "--speed", str(options["speed"]), "--behind", str(options["behind"])]  # fmt: skip
        process = subprocess.Popen(  # noqa: S603 - our argv
            command,
            cwd=settings.BASE_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        output, given = process.stdout, process.stdin
        if output is None or given is None:  # PIPE always gives them; the check is for the type checker
            raise CommandError("simulator started without its pipes")
        given.write(json.dumps(keys))
        given.close()
        first = output.readline()
        match = BANNER.search(first)
        if match is None:
            process.kill()
            raise CommandError(f"simulator {platform['operator_id']} did not start: {first.strip()}")
        # Its further output (warnings) goes to ours.
        threading.Thread(target=lambda: [sys.stdout.write(line) for line in output], daemon=True).start()
        self.stdout.write(f"{platform['operator_id']} {platform['name']}: {match.group(1)}")
        return process, match.group(1)

    def _go_live(self, operator_id: str, admin) -> None:
        """Wait for the platform's first push (its token from the portal), check conformance, activate."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if Exchange.objects.filter(
                operator_id=operator_id, interface=Interface.QUERY_TOKEN, direction=Direction.IN, ret=0
            ).exists():
                break
            time.sleep(0.5)
        report = conformance_run(operator_id=operator_id, by=admin)
        failed = [c["title"] for c in report.checks if c["outcome"] == "failed"]
        if failed:
            operator_activate(
                operator_id=operator_id, by=admin, override_reason=f"演示：检测未通过的项 {'、'.join(failed)}"
            )
        else:
            operator_activate(operator_id=operator_id, by=admin)
        self.stdout.write(
            f"{operator_id}: conformance {'passed' if report.passed else 'failed: ' + '、'.join(failed)}; active"
        )
