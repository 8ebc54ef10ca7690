"""A small city for the REST API tests: two operators, varied stations, statuses, statistics and pull records."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from apps.interconnect.models import SyncRun
from apps.stations import choices as sc
from apps.stations.models import Station
from tests import factories
from tests.factories import SHANGHAI

A, B = "123456789", "MA59CU773"

# Every list endpoint with the key that identifies a row in its output.
ENDPOINTS = {
    "operators": "OperatorID",
    "stations": "StationID",
    "equipment": "EquipmentID",
    "connectors": "ConnectorID",
    "status-history": "ConnectorID",
    "station-stats": "StationID",
    "sync-runs": "Interface",
    "directory-changes": "ObjectID",
    "rejected-records": "RecordKey",
    "orders": "StartChargeSeq",
    "order-findings": "Rule",
    "policies": "ConnectorID",
    "reconciliations": "CheckOrderSeq",
    "disputes": "StartChargeSeq",
}


def at(day: int, hour: int = 12, month: int = 1) -> datetime:
    return datetime(2024, month, day, hour, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The shared fixtures give users real passwords; PBKDF2's deliberate slowness would dominate these tests.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture
def as_regulator(api, regulator) -> APIClient:
    api.force_login(regulator)
    return api


@pytest.fixture
def as_manager_a(api, manager_a) -> APIClient:
    api.force_login(manager_a)
    return api


stats = factories.station_stats


@pytest.fixture
def city(directory) -> dict:
    """Operator A: a Chaoyang station (DC 120 kW, idle) and a removed Haidian bus depot (AC 7 kW, charging).

    Operator B: a Chaoyang station whose connector has reported no status yet. Both have history, stats and runs.
    """
    a, b = directory["a"], directory["b"]
    conn_a, conn_b = directory["connectors"][A], directory["connectors"][B]
    depot = factories.station(
        a,
        "HD-DEPOT",
        area_code="110108",
        station_status=sc.StationStatus.MAINTENANCE,
        station_type=sc.StationType.BUS,
        construction=sc.Construction.ON_STREET,
        busine_hours="00:00-24:00",
        removed_at=at(20),
    )
    ac = factories.equipment(depot, "EQ-AC", equipment_type=sc.EquipmentType.AC, power=Decimal("7.0"))
    conn_ac = factories.connector(
        ac,
        "CN-AC",
        connector_type=sc.ConnectorType.AC_SOCKET,
        power=Decimal("7.0"),
        voltage_upper_limits=250,
        voltage_lower_limits=200,
        current=32,
        national_standard=sc.NationalStandard.GB2011,
    )
    factories.ConnectorStatusFactory(connector=conn_a, status=sc.ConnectorStatus.IDLE, status_time=at(2))
    factories.ConnectorStatusFactory(
        connector=conn_ac,
        status=sc.ConnectorStatus.CHARGING,
        park_status=sc.ParkStatus.OCCUPIED,
        lock_status=sc.LockStatus.UNLOCKED,
        status_time=at(2),
        source="pull",
    )
    for conn, status, when in [
        (conn_a, sc.ConnectorStatus.IDLE, at(1)),
        (conn_a, sc.ConnectorStatus.CHARGING, at(2)),
        (conn_b, sc.ConnectorStatus.FAULT, at(3)),
    ]:
        factories.ConnectorStatusHistoryFactory(connector=conn, status=status, status_time=when)
    station_a, station_b = Station.objects.get(station_id=f"ST{A}"), Station.objects.get(station_id=f"ST{B}")
    stats(station_a, date(2024, 1, 1), "10.0")
    stats(station_a, date(2024, 2, 1), "20.5")
    stats(station_b, date(2024, 1, 15), "30.0")
    run_a = factories.SyncRunFactory(operator=a, status="succeeded", full=True)
    SyncRun.objects.filter(pk=run_a.pk).update(started=at(1), finished=at(1, 13))  # `started` is auto_now_add
    factories.SyncRunFactory(operator=a, interface="query_station_status", status="failed", error="timeout")
    run_b = factories.SyncRunFactory(operator=b)
    factories.DirectoryChangeFactory(operator=a, station_id="HD-DEPOT", action="removed", run=run_a)
    factories.DirectoryChangeFactory(
        operator=b, station_id=f"ST{B}", kind="connector", object_id=f"CN{B}", action="created", run=run_b
    )
    factories.RejectedRecordFactory(operator=a, run=run_a, record_key="BAD-A", rules=["R1"], reasons=["x"])
    factories.RejectedRecordFactory(operator=b, run=run_b, record_key="BAD-B", rules=["R2"], reasons=["y"])
    for operator, conn in ((a, conn_a), (b, conn_b)):
        _orders_and_settlement(operator, conn)
    return {**directory, "depot": depot, "conn_ac": conn_ac}


def _orders_and_settlement(operator, connector) -> None:
    """An order with a finding, a policy, and a reconciliation with one dispute, for one operator."""
    from apps.pricing.services import policy_observe

    order = factories.order(connector, user_name="李四", confirm_result=1)
    # A money-sum finding in the order's first report, which was answered as disputed.
    factories.OrderFindingFactory(order=order, report__confirm_result=1, report__received_at=at(1, 13))
    policy_observe(
        connector=connector,
        infos=[{"StartTime": "000000", "ElecPrice": Decimal("1.0000"), "SevicePrice": Decimal("0.8000")}],
        observed_at=at(1),
    )
    run = factories.ReconciliationRunFactory(
        operator=operator, check_order_seq=f"{operator.pk}202401020100000001", start_time=at(1, 0),
        end_time=at(1, 23), order_count=1, total_order_power=Decimal("30.0000"), total_order_money=Decimal("46.00"),
        received_at=at(2, 1), dispute_count=1,
    )  # fmt: skip
    factories.DisputeFactory(
        run=run, start_charge_seq=order.start_charge_seq, order=order, reason=2, operator_money=Decimal("46.00"),
        portal_power=order.total_power, portal_money=order.total_money,
    )  # fmt: skip
