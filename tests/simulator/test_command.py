"""`manage.py simulate_operator`: option errors in-process, and one real process talked to over HTTP."""

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
from django.core.management import CommandError, call_command

from apps.protocol import MemoryTokenStore, PeerClient
from apps.simulator.config import load_keys

from .support import INBOUND, OUTBOUND, SIM_ID, Receiver, keys_file

BASE_DIR = Path(__file__).resolve().parents[2]


@pytest.fixture
def keys_path(tmp_path: Path) -> Path:
    path = tmp_path / "keys.json"
    path.write_text(json.dumps(keys_file()), encoding="utf-8")
    return path


def test_keys_file_is_read_as_operator_provision_prints_it(keys_path: Path) -> None:
    assert load_keys(keys_path) == (SIM_ID, INBOUND, OUTBOUND)
    broken = keys_file()
    del broken["outbound"]["SigSecret"]
    with pytest.raises(ValueError, match="SigSecret"):
        load_keys(broken)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--operator-id", "OTHER0001"], "differs"),
        (["--faults", "gremlins"], "unknown fault"),
        (["--dialect", "shouting"], "unknown dialect"),
        (["--portal", "ftp://127.0.0.1/evcs/v1/"], "http"),
        (["--stations", "0"], "stations"),
    ],
)
def test_bad_options_are_command_errors(keys_path: Path, extra: list[str], message: str) -> None:
    args = ["--operator-id", SIM_ID, "--port", "0", "--keys", str(keys_path), *extra]
    with pytest.raises(CommandError, match=message):
        call_command("simulate_operator", *args)


@pytest.mark.integration
def test_simulator_runs_as_a_real_process(keys_path: Path, receiver: Receiver) -> None:
    command = [
        sys.executable,
        "manage.py",
        "simulate_operator",
        *("--operator-id", SIM_ID, "--port", "0", "--keys", str(keys_path), "--portal", receiver.base_url),
        *("--stations", "30", "--seed", "3", "--speed", "600", "--walkin-rate", "20"),
    ]
    process = subprocess.Popen(
        command,
        cwd=BASE_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    lines: queue.Queue[str] = queue.Queue()
    output: list[str] = []

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            lines.put(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        banner = lines.get(timeout=60)
        match = re.search(r"serving (http://127\.0\.0\.1:\d+/evcs/v1/)", banner)
        assert match, banner
        with PeerClient(match.group(1), "MA01HLHT0", OUTBOUND, MemoryTokenStore()) as client:
            page = client.call("query_stations_info", {"PageSize": 100})
            assert page["ItemSize"] == 30 and page["StationInfos"][0]["OperatorID"] == SIM_ID
            station = page["StationInfos"][0]["StationID"]
            assert client.call("query_station_status", {"StationIDs": [station]})["Total"] == 1
        deadline = time.monotonic() + 20
        while not receiver.pushes("notification_stationStatus") and time.monotonic() < deadline:
            time.sleep(0.1)
        assert receiver.pushes("notification_stationStatus"), "no status push arrived from the process"
    finally:
        # Twice, as `make run`'s trap and a second Ctrl-C may: the second must not deadlock the first's stop.
        process.send_signal(signal.SIGTERM)
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
        reader.join(timeout=5)
    assert process.returncode == 0, "".join(output)
    assert "Simulator stopped." in output[-1]


def test_the_stop_handler_never_waits_for_the_events_lock() -> None:
    """A signal handler runs on the main thread, which may hold the Event's lock (inside `wait()` or an earlier
    handler's `set()`): a handler that took that lock itself would deadlock. Here another thread holds the lock for
    a while; the handler must return at once, and the Event be set once the lock is free."""
    from apps.simulator.stopping import stop_on_signals

    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    stop = threading.Event()
    try:
        stop_on_signals(stop)
        handler = signal.getsignal(signal.SIGTERM)
        held, release = threading.Event(), threading.Event()

        def hold() -> None:
            with stop._cond:  # the lock Event.set() needs
                held.set()
                release.wait(5)

        holder = threading.Thread(target=hold, daemon=True)
        holder.start()
        assert held.wait(5)
        began = time.monotonic()
        handler(signal.SIGTERM, None)
        handler(signal.SIGTERM, None)  # a second signal changes nothing
        assert time.monotonic() - began < 0.5
        release.set()
        assert stop.wait(5)
    finally:
        for sig, saved_handler in saved.items():
            signal.signal(sig, saved_handler)
