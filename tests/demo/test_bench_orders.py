"""The orders benchmark at toy size: it runs, verifies its counts, and leaves nothing behind."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from apps.interconnect.models import Exchange
from apps.interconnect.registry import REGISTRY
from apps.operators.models import Operator
from apps.orders.models import ChargeOrder
from apps.settlement.models import Dispute, ReconciliationRun
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)  # the portal serves real HTTP from other threads


def test_the_benchmark_verifies_pushes_and_a_reconciliation_and_cleans_up():
    out = StringIO()
    call_command(
        "hlht_bench_orders", senders=2, orders_per_sender=3, reconcile=1000, rounds=1, json=True, stdout=out,
        stderr=StringIO(),
    )  # fmt: skip
    summary = json.loads(out.getvalue())
    assert summary["ok"]
    round_ = summary["per_round"][0]
    assert round_["stored"] == round_["push"]["messages"] == round_["push_floor"]["messages"] == 6
    assert 0 < summary["push"]["p50_ms"] <= summary["push"]["p99_ms"]
    assert summary["push"]["p50_vs_floor"] > 0
    reconcile = round_["reconcile"]
    assert reconcile["disputes"] == {"1": 200, "2": 300, "3": 300, "4": 200} or reconcile["disputes"] == {
        1: 200, 2: 300, 3: 300, 4: 200
    }  # fmt: skip
    assert reconcile["floor_s"] > 0 and reconcile["ratio"] > 0
    assert not Operator.objects.exists() and not ChargeOrder.objects.exists() and not Exchange.objects.exists()
    assert not ReconciliationRun.objects.exists() and not Dispute.objects.exists()
    assert "bench_orders_noop" not in REGISTRY


def test_the_benchmark_refuses_a_database_with_other_operators():
    factories.operator("123456789")
    with pytest.raises(CommandError, match="other operators"):
        call_command("hlht_bench_orders", rounds=1, reconcile=0, stdout=StringIO(), stderr=StringIO())
