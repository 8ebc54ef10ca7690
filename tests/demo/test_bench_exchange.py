"""The exchange benchmark at toy size: it runs, its figures are verified, and it leaves the database as it found it."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from apps.interconnect.models import Exchange, SeenEnvelope, SyncRun
from apps.operators.models import Operator
from apps.stations.models import Connector, ConnectorStatusHistory, DirectoryChange, Station, StationStats
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)  # the portal serves real HTTP from other threads


def test_benchmark_verifies_every_phase_and_cleans_up():
    out = StringIO()
    call_command(
        "hlht_bench_exchange", stations=30, changed=0.1, senders=3, messages_per_sender=5, rounds=2, json=True,
        stats=True, stats_concurrency=3, stdout=out, stderr=StringIO(),
    )  # fmt: skip
    summary = json.loads(out.getvalue())

    assert summary["ok"], summary["failures"]
    assert summary["rounds"] == 2
    for figures in summary["per_round"]:
        full, incremental, push = figures["full_crawl"], figures["incremental"], figures["status_push"]
        assert all(check["ok"] for phase in (full, incremental, push) for check in phase["verified"].values())
        assert full["verified"]["stations_created"]["actual"] == 30
        assert full["verified"]["connector_rows"]["actual"] == summary["connectors"] > 30
        assert incremental["verified"]["updated"]["actual"] == incremental["changed"] == 3
        assert sum(incremental["changes"].values()) == 3
        assert push["messages"] == 15
        assert push["errors"] == 0
        assert push["verified"]["history_rows"]["actual"] == 15
        stats = figures["stats_pull"]
        assert (stats["floor"]["concurrency"], stats["portal"]["concurrency"]) == (1, 3)
        assert all(check["ok"] for label in ("floor", "portal") for check in stats[label]["verified"].values())
        assert stats["portal"]["verified"]["stored"]["actual"] == 30  # every station's day, stored afresh each time
    median = summary["median"]
    assert median["stats_pull"]["ratio"] > 0
    assert median["full_crawl"]["pages"] == 1
    assert median["status_push"]["messages_per_s"] > 0
    assert 0 < median["status_push"]["p50_ms"] <= median["status_push"]["p99_ms"] <= median["status_push"]["max_ms"]

    assert not Operator.objects.exists()
    for model in (Station, Connector, ConnectorStatusHistory, SyncRun, DirectoryChange, Exchange, SeenEnvelope,
                  StationStats):  # fmt: skip
        assert not model.objects.exists(), model.__name__


def test_benchmark_refuses_a_database_with_other_operators():
    factories.operator("123456789")
    with pytest.raises(CommandError, match="other operator"):
        call_command("hlht_bench_exchange", stations=5, rounds=1, stdout=StringIO(), stderr=StringIO())
    assert list(Operator.objects.values_list("operator_id", flat=True)) == ["123456789"]
