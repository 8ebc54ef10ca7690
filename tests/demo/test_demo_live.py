"""hlht_demo_live against a live portal: both platforms onboarded and active on the real clock, and no key file
written anywhere, during the run or after it."""

from __future__ import annotations

import io
import os
import signal
import tempfile
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from apps.demo.management.commands import hlht_demo_live
from apps.operators.choices import OperatorStatus
from apps.operators.models import Operator
from apps.orders.models import ChargeOrder
from apps.stations.models import ConnectorStatus

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

SMALL = (
    {"operator_id": "MA01DMA01", "name": "演示·京畿快充科技有限公司", "stations": 40, "seed": 11},
    {"operator_id": "MA01DMB02", "name": "演示·燕山绿能充电有限公司", "stations": 30, "seed": 23},
)


def _key_files(roots: list[Path], since: float) -> list[Path]:
    """Files written since `since` under `roots` holding a key set (the simulators' key file format)."""
    found = []
    for root in roots:
        for path in root.rglob("*"):
            try:
                if path.is_file() and path.stat().st_mtime >= since and b"DataSecretIV" in path.read_bytes():
                    found.append(path)
            except OSError:  # another process's file that came and went
                continue
    return found


def _new_entries(folder: Path, before: set[str]) -> list[Path]:
    # pytest's own folder is shared by every test run on the machine; ours is checked through `since` below.
    return [folder / name for name in set(os.listdir(folder)) - before if not name.startswith("pytest-of-")]


def test_live_demo_runs_on_the_real_clock_and_leaves_no_key_files(live_server, django_user_model, monkeypatch):
    monkeypatch.setattr(hlht_demo_live, "PLATFORMS", SMALL)
    django_user_model.objects.create_user(username="admin", password="pw-for-tests-only", is_staff=True)
    tmp = Path(tempfile.gettempdir())
    before, since = set(os.listdir(tmp)), time.time() - 1
    watched: dict[str, object] = {}

    def watch() -> None:
        deadline = time.monotonic() + 180
        ids = [p["operator_id"] for p in SMALL]
        while time.monotonic() < deadline:
            if Operator.objects.filter(pk__in=ids, status=OperatorStatus.ACTIVE).count() == len(ids):
                watched["active"] = True
                break
            time.sleep(0.5)
        # On the real clock nothing the platforms told the portal lies ahead of it.
        watched["future"] = (
            ConnectorStatus.objects.filter(connector__operator__in=ids, status_time__gt=timezone.now()).count()
            + ChargeOrder.objects.filter(operator__in=ids, end_time__gt=timezone.now()).count()
        )
        # While the simulators run: nothing holding their keys on disk, in a temporary folder or in the project.
        new = _new_entries(tmp, before)
        watched["during"] = _key_files([*new, Path(settings.BASE_DIR) / "var"], since) + [
            p for p in new if p.name.startswith("hlht-demo-")
        ]
        os.kill(os.getpid(), signal.SIGTERM)  # as `make run` stops it

    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    out = io.StringIO()
    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        call_command("hlht_demo_live", portal=f"{live_server.url}/evcs/v1/", wait=30, stdout=out)
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
        watcher.join(timeout=5)
    assert watched.get("active"), out.getvalue()
    assert watched["during"] == []
    assert watched["future"] == 0
    new = _new_entries(tmp, before)
    assert [p for p in new if p.name.startswith("hlht-demo-")] == []
    assert _key_files([*new, Path(settings.BASE_DIR) / "var"], since) == []


def test_live_demo_defaults_to_the_real_clock():
    parser = hlht_demo_live.Command().create_parser("manage.py", "hlht_demo_live")
    options = parser.parse_args([])
    assert options.speed == 1.0
