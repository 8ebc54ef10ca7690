"""The push benchmark at toy size: gunicorn serves the portal and the floor, every Ret 0 is stored once."""

from __future__ import annotations

import json
import shutil
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from apps.interconnect.models import Exchange
from apps.operators.models import Operator
from apps.stations.models import Connector

pytestmark = pytest.mark.django_db(transaction=True)
POSTGRES = connection.vendor == "postgresql"


@pytest.mark.skipif(not POSTGRES, reason="the benchmark serves PostgreSQL only; on SQLite it refuses (test below)")
def test_both_targets_store_every_accepted_push_once_and_the_ratio_is_printed():
    out = StringIO()
    call_command("hlht_bench_push", workers=1, connections=4, duration=2, connectors=300, max_rate=150, rounds=1,
                 json=True, stdout=out, stderr=StringIO())  # fmt: skip
    text = out.getvalue()
    figures = json.loads(text.splitlines()[-1])
    for target in ("portal", "floor"):
        assert figures[target]["lost"] == figures[target]["duplicates"] == figures[target]["journal_missing"] == 0
        (f,) = figures["rounds"][target]
        assert f["ret0_answers"] > 0 and f["rets"] == {"0": f["sent"]}  # every push accepted…
        assert f["history_rows"] == f["journal_rows"] == f["seen_rows"] == f["ret0_answers"]  # …and stored once
        assert f["lost"] == 0 and 0 < f["p50_ms"] <= f["p99_ms"] and f["per_s"] > 0
    assert figures["ratio"]["portal_over_floor"] > 0 and "portal / floor:" in text
    assert not Operator.objects.exists() and not Connector.objects.exists() and not Exchange.objects.exists()


@pytest.mark.skipif(POSTGRES, reason="the refusal is SQLite's; PostgreSQL runs the benchmark above")
def test_the_benchmark_refuses_sqlite():
    with pytest.raises(CommandError, match="PostgreSQL"):
        call_command("hlht_bench_push", duration=1, stdout=StringIO())


@pytest.mark.skipif(not POSTGRES or not shutil.which("wrk"), reason="needs PostgreSQL and Debian's wrk")
def test_wrk_sends_the_same_pushes_and_every_answer_it_counts_is_stored():
    out = StringIO()
    call_command("hlht_bench_push", workers=1, connections=4, duration=2, connectors=3000, max_rate=3000, rounds=1,
                 targets="floor", generator="wrk", json=True, stdout=out, stderr=StringIO())  # fmt: skip
    figures = json.loads(out.getvalue().splitlines()[-1])
    (f,) = figures["rounds"]["floor"]
    assert f["ret0_answers"] > 0 and f["rets"]["other"] == f["rets"]["socket errors"] == 0
    assert f["lost"] == f["duplicates"] == 0 and f["in_flight"] <= 4 and f["load_cpu_s_per_push"] > 0
