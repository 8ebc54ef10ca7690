"""The roaming benchmark at toy size: every part-3 interface measured, every session paid once, nothing left."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from apps.charging.models import ChargingSession
from apps.drivers.models import Driver
from apps.interconnect.registry import REGISTRY
from apps.operators.models import Operator
from apps.orders.models import ChargeOrder
from apps.protocol.names import Interface
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_benchmark_measures_each_interface_verifies_payment_and_cleans_up():
    out = StringIO()
    call_command("hlht_bench_roaming", senders=3, statuses=2, rounds=1, json=True, stdout=out, stderr=StringIO())
    summary = json.loads(out.getvalue())
    assert summary["ok"]
    round_ = summary["per_round"][0]
    assert round_["finished"] == round_["charges"] == 3
    assert round_["real"]["messages"] == round_["floor"]["messages"] == 3 * (2 + 5)
    assert set(summary["interfaces"]) == {
        Interface.QUERY_EQUIP_BUSINESS_POLICY, Interface.NOTIFICATION_START_CHARGE_RESULT,
        Interface.NOTIFICATION_EQUIP_CHARGE_STATUS, Interface.NOTIFICATION_STOP_CHARGE_RESULT,
        Interface.NOTIFICATION_CHARGE_ORDER_INFO, Interface.NOTIFICATION_CHARGE_ORDER_INFO_FOR_BONUS,
    }  # fmt: skip
    assert 0 < summary["all"]["p50_ms"] <= summary["all"]["p99_ms"]
    assert not Operator.objects.exists() and not Driver.objects.exists() and not ChargeOrder.objects.exists()
    assert not ChargingSession.objects.exists() and "bench_roaming_noop" not in REGISTRY


def test_the_benchmark_refuses_a_database_with_real_drivers():
    from apps.drivers.services import driver_register

    driver_register(phone="13812345678")
    with pytest.raises(CommandError, match="drivers"):
        call_command("hlht_bench_roaming", rounds=1, stdout=StringIO(), stderr=StringIO())
    factories.operator("123456789")
    with pytest.raises(CommandError, match="operators"):
        call_command("hlht_bench_roaming", rounds=1, stdout=StringIO(), stderr=StringIO())


def test_under_gunicorn_paced_and_staggered(settings):
    """--workers serves the portal under gunicorn (each worker serving the floor too); --interval paces the senders
    and their starts are spread over one session."""
    from django.db import connection

    if connection.vendor != "postgresql":
        with pytest.raises(CommandError, match="PostgreSQL"):
            call_command("hlht_bench_roaming", senders=2, statuses=1, rounds=1, workers=1, interval=0.05,
                         stdout=StringIO(), stderr=StringIO())  # fmt: skip
        return
    out = StringIO()
    call_command("hlht_bench_roaming", senders=3, statuses=1, rounds=1, workers=1, interval=0.05, json=True,
                 stdout=out, stderr=StringIO())  # fmt: skip
    summary = json.loads(out.getvalue())
    assert summary["ok"] and summary["workers"] == 1
    assert summary["stagger_s"] == pytest.approx(0.05 * (1 + 5))  # one session: 6 calls at 0.05 s
    round_ = summary["per_round"][0]
    assert round_["real"]["errors"] == round_["floor"]["errors"] == 0
    assert round_["real"]["messages"] == round_["floor"]["messages"] == 3 * (1 + 5)
    assert not Operator.objects.exists() and not ChargeOrder.objects.exists()
