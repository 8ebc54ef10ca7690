"""The big-table benchmark at toy size: every page it times answers, the floors print, nothing is left behind."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from apps.interconnect.models import Exchange
from apps.operators.models import Operator
from apps.stations.models import ConnectorStatus, ConnectorStatusHistory

pytestmark = pytest.mark.django_db(transaction=True)
POSTGRES = connection.vendor == "postgresql"


@pytest.mark.skipif(not POSTGRES, reason="the benchmark builds its rows with PostgreSQL's generate_series")
def test_every_page_is_timed_against_its_floor_and_the_rows_are_removed():
    out = StringIO()
    call_command("hlht_bench_history", rows=3000, connectors=200, repeat=1, sample=10, stdout=out, stderr=StringIO())
    text = out.getvalue()
    assert "3,000 history rows" in text and "target ≤ 300 ms" in text
    for title in ("history: operator", "journal: interface", "API: one connector", "floor: journal page",
                  "admin home: figures computed", "admin home: figures cached"):  # fmt: skip
        assert title in text
    timed = [line for line in text.splitlines() if line.rstrip().endswith((" ok", " SLOW"))]
    assert len(timed) == 15  # every page answered 200 and was timed (speed is the benchmark's to judge, not a test's)
    assert "journal bytes per row" in text and "a Beijing day:" in text
    assert not Operator.objects.exists() and not Exchange.objects.exists()
    assert not ConnectorStatusHistory.objects.exists() and not ConnectorStatus.objects.exists()


@pytest.mark.skipif(POSTGRES, reason="the refusal is SQLite's")
def test_the_benchmark_refuses_sqlite():
    with pytest.raises(CommandError, match="PostgreSQL"):
        call_command("hlht_bench_history", rows=10, stdout=StringIO())
