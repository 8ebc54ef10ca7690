"""The indicators benchmark at toy size: each stage is timed beside its floor and target, nothing is left behind."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from apps.indicators.models import Indicator
from apps.operators.models import Operator
from apps.orders.models import ChargeOrder
from apps.stations.models import ConnectorStatusHistory
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)
POSTGRES = connection.vendor == "postgresql"


@pytest.mark.skipif(not POSTGRES, reason="the benchmark builds its rows with PostgreSQL's generate_series")
def test_each_stage_is_timed_beside_its_floor_and_the_rows_are_removed():
    out = StringIO()
    call_command("hlht_bench_indicators", connectors=40, events=400, orders=30, stdout=out, stderr=StringIO())
    text = out.getvalue()
    assert "40 connectors, 400 status rows, 30 orders" in text
    for title in ("time in state (every connector)", "floor (one SQL statement)", "whole day (", "target ≤ 180 s",
                  "quarter roll-up", "peak RSS"):  # fmt: skip
        assert title in text
    assert not Operator.objects.exists() and not Indicator.objects.exists()
    assert not ChargeOrder.objects.exists() and not ConnectorStatusHistory.objects.exists()


@pytest.mark.skipif(not POSTGRES, reason="checked before anything is built")
def test_the_benchmark_refuses_a_database_with_real_operators():
    factories.operator("MA59CU773")
    with pytest.raises(CommandError, match="scratch"):
        call_command("hlht_bench_indicators", connectors=10, stdout=StringIO())


@pytest.mark.skipif(POSTGRES, reason="the refusal is SQLite's")
def test_the_benchmark_refuses_sqlite():
    with pytest.raises(CommandError, match="PostgreSQL"):
        call_command("hlht_bench_indicators", connectors=10, stdout=StringIO())
