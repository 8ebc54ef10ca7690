"""The portal and two operator-platform simulators, each a real process, talking T/CEC 102 over loopback HTTP."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from apps.interconnect.client import operator_client
from apps.interconnect.models import Exchange
from apps.interconnect.services import operator_provision
from apps.operators.models import Operator
from apps.protocol import schema
from apps.stations.models import PendingConnectorStatus

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
BASE_DIR = Path(__file__).resolve().parents[2]


class SimulatorProcess:
    """`manage.py simulate_operator` as its own process; stops with SIGTERM like an operator would stop it."""

    def __init__(self, operator_id: str, keys: dict, portal: str, tmp_path: Path, *args: str) -> None:
        keys_path = tmp_path / f"{operator_id}.json"
        keys_path.write_text(json.dumps(keys), encoding="utf-8")
        command = [sys.executable, "manage.py", "simulate_operator", "--operator-id", operator_id, "--port", "0"]
        command += ["--keys", str(keys_path), "--portal", portal, *args]
        self.process = subprocess.Popen(
            command, cwd=BASE_DIR, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
        self.output: list[str] = []
        lines: queue.Queue[str] = queue.Queue()

        def read() -> None:
            for line in self.process.stdout:
                self.output.append(line)
                lines.put(line)

        threading.Thread(target=read, daemon=True).start()
        banner = lines.get(timeout=90)
        match = re.search(r"serving (http://127\.0\.0\.1:\d+/evcs/v1/)", banner)
        assert match, banner
        self.base_url = match.group(1)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)
        assert self.process.returncode == 0, "".join(self.output)


@pytest.fixture
def start(live_server, tmp_path):
    started: list[SimulatorProcess] = []

    def launch(operator_id: str, *args: str, **flags: bool) -> SimulatorProcess:
        keys = operator_provision(operator_id=operator_id, name=f"模拟运营商{operator_id}")
        Operator.objects.filter(pk=operator_id).update(**flags)
        sim = SimulatorProcess(operator_id, keys, f"{live_server.url}/evcs/v1/", tmp_path, *args)
        Operator.objects.filter(pk=operator_id).update(endpoint_url=sim.base_url)
        started.append(sim)
        return sim

    yield launch
    for sim in started:
        sim.stop()


def _wait_for(predicate, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return predicate()


def test_portal_crawls_two_simulators(start):
    start("MA01SIM01", "--stations", "23", "--seed", "1", "--no-push")
    start("MA01SIM02", "--stations", "31", "--seed", "2", "--no-push")
    for operator_id, expected in (("MA01SIM01", 23), ("MA01SIM02", 31)):
        with operator_client(Operator.objects.get(pk=operator_id)) as client:
            first = client.call("query_stations_info", {"PageNo": 1, "PageSize": 10})
            stations = list(first["StationInfos"])
            for page in range(2, first["PageCount"] + 1):
                stations += client.call("query_stations_info", {"PageNo": page, "PageSize": 10})["StationInfos"]
            assert first["ItemSize"] == expected
            assert len({s["StationID"] for s in stations}) == expected
            assert all(s["OperatorID"] == operator_id for s in stations)
            assert [p for s in stations for p in schema.validate(s, schema.STATION_INFO)] == []
            ids = [s["StationID"] for s in stations][:50]
            status = client.call("query_station_status", {"StationIDs": ids})
            assert status["Total"] == len(ids)
            connectors = {c["ConnectorID"] for s in stations for e in s["EquipmentInfos"] for c in e["ConnectorInfos"]}
            reported = {c["ConnectorID"] for s in status["StationStatusInfos"] for c in s["ConnectorStatusInfos"]}
            assert reported == connectors
    outbound = Exchange.objects.filter(direction="out")
    assert set(outbound.values_list("operator_id", flat=True)) == {"MA01SIM01", "MA01SIM02"}
    assert not outbound.exclude(ret=0).exists()
    assert outbound.filter(interface="query_token").count() == 2  # one token per operator, reused after


def test_simulators_push_statuses_into_the_portal(start):
    start("MA01SIM01", "--stations", "20", "--seed", "3", "--speed", "600")
    start("MA01SIM02", "--stations", "20", "--seed", "4", "--speed", "600")
    # The directory has not been crawled into the portal yet, so every pushed status waits as pending.
    assert _wait_for(
        lambda: set(PendingConnectorStatus.objects.values_list("operator_id", flat=True)) == {"MA01SIM01", "MA01SIM02"}
    )
    pushes = Exchange.objects.filter(direction="in", interface="notification_stationStatus")
    assert pushes.filter(ret=0).exists()
    assert not pushes.exclude(ret=0).exists()
    tokens = Exchange.objects.filter(direction="in", interface="query_token", ret=0)
    assert set(tokens.values_list("operator_id", flat=True)) == {"MA01SIM01", "MA01SIM02"}


def test_dialect_flags_meet_a_platform_that_speaks_them(start):
    dialect = ("--dialect", "bare_token,millisecond_timestamp,lowercase_sig", "--speed", "600", "--stations", "15")
    start("MA01SIM01", *dialect, "--seed", "5")  # flags off: its deviations are refused
    start("MA01SIM02", *dialect, "--seed", "6", dialect_bare_token=True, dialect_millisecond_timestamp=True)
    assert _wait_for(lambda: PendingConnectorStatus.objects.filter(operator_id="MA01SIM02").exists())
    assert _wait_for(lambda: Exchange.objects.filter(operator_id="MA01SIM01", direction="in").exclude(ret=0).exists())
    refused = Exchange.objects.filter(operator_id="MA01SIM01", direction="in")
    assert not refused.filter(ret=0, interface="notification_stationStatus").exists()
    assert set(refused.values_list("ret", flat=True)) <= {4002, 4003}
    assert not PendingConnectorStatus.objects.filter(operator_id="MA01SIM01").exists()
