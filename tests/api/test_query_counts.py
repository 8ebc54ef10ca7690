"""No N+1 on any list of the REST API: N rows and 3N rows cost the same number of queries, for every role."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from apps.operators.models import Operator
from apps.orders.choices import StartChargeSeqStat
from apps.settlement.choices import DisputeState, Resolution
from apps.stations.models import Connector
from tests import factories as f
from tests.api.conftest import ENDPOINTS

pytestmark = pytest.mark.django_db


def _connector(op: Operator) -> Connector:
    """A connector of the operator with a status, on a station of its own."""
    return f.ConnectorStatusFactory(connector__equipment__station__operator=op).connector


def _station_stats(op: Operator) -> None:
    conn = _connector(op)
    f.ConnectorFactory(equipment=conn.equipment)
    f.station_stats(conn.station, date(2024, 1, 1), "1.0")


def _order(op: Operator) -> None:
    order = f.ChargeOrderFactory(connector=_connector(op), user_name="张三丰")
    f.ChargeDetailFactory(order=order)
    f.ChargeDetailFactory(order=order, detail_start_time=order.end_time)


def _policy(op: Operator) -> None:
    period = f.PolicyPeriodFactory(policy__connector=_connector(op))
    f.PolicyPeriodFactory(policy=period.policy, start_time="120000")


def _dispute(op: Operator) -> None:
    order = f.ChargeOrderFactory(connector=_connector(op))
    f.DisputeFactory(
        run__operator=op, order=order, start_charge_seq=order.start_charge_seq, state=DisputeState.RESOLVED,
        resolution=Resolution.PORTAL, resolved_by=f.StaffFactory(), resolved_at=timezone.now(),
    )  # fmt: skip


def _operator(op: Operator) -> None:
    # Another operator with something for each health figure (the account manager still sees only theirs).
    other = f.OperatorFactory()
    _connector(other)
    f.SyncRunFactory(operator=other, status="succeeded")
    f.ExchangeFactory(operator=other)


# One more row of each list for operator A, with everything its serializer reads filled in.
UNITS: dict[str, Callable[[Operator], object]] = {
    "operators": _operator,
    "stations": lambda op: f.StationFactory(operator=op),
    "equipment": lambda op: f.EquipmentFactory(station__operator=op),
    "connectors": _connector,
    "status-history": lambda op: f.ConnectorStatusHistoryFactory(connector=_connector(op)),
    "station-stats": _station_stats,
    "sync-runs": lambda op: f.SyncRunFactory(operator=op, status="failed", error="timeout"),
    "directory-changes": lambda op: f.DirectoryChangeFactory(
        operator=op, run=f.SyncRunFactory(operator=op), exchange=f.ExchangeFactory(operator=op)
    ),
    "rejected-records": lambda op: f.RejectedRecordFactory(operator=op, exchange=f.ExchangeFactory(operator=op)),
    "orders": _order,
    "order-findings": lambda op: f.OrderFindingFactory(order__connector=_connector(op)),
    "policies": _policy,
    "reconciliations": lambda op: f.ReconciliationRunFactory(operator=op),
    "disputes": _dispute,
}


def test_every_list_endpoint_has_a_unit():
    assert set(UNITS) == set(ENDPOINTS)


def queries(client: APIClient, url: str) -> tuple[int, int]:
    """How many queries the page cost, and how many rows the list says it has."""
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries), response.json()["count"]


@pytest.mark.parametrize("who", ["regulator", "manager_a"])
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_list_costs_the_same_for_n_and_3n_rows(api, city, who, endpoint, request):
    api.force_login(request.getfixturevalue(who))
    grow = UNITS[endpoint]
    for _ in range(2):
        grow(city["a"])
    cost, rows = queries(api, f"/api/{endpoint}/")
    for _ in range(4):
        grow(city["a"])
    cost_3n, rows_3n = queries(api, f"/api/{endpoint}/")
    assert cost_3n == cost
    # The new rows are in the list (an operator manager's list of operators is their own, whatever else exists).
    assert rows_3n == rows if (endpoint, who) == ("operators", "manager_a") else rows_3n == rows + 4


@pytest.fixture
def driver_api() -> tuple[APIClient, object]:
    driver = f.DriverFactory()
    client = APIClient()
    client.force_login(driver.user)
    return client, driver


def _session(driver) -> None:
    f.ChargingSessionFactory(driver=driver, state=StartChargeSeqStat.FINISHED, order=f.ChargeOrderFactory())


def _wallet(driver) -> None:
    f.WalletEntryFactory(driver=driver)


def _station(driver) -> None:
    conn = _connector(f.OperatorFactory())
    f.PolicyPeriodFactory(policy__connector=conn)
    f.ConnectorFactory(equipment=conn.equipment)


DRIVER_UNITS: dict[str, tuple[Callable[[object], None], Callable[[dict], int]]] = {
    "sessions/": (_session, lambda body: body["count"]),
    "orders/": (_session, lambda body: body["count"]),
    "wallet/": (_wallet, lambda body: body["count"]),
    "notifications/": (lambda driver: f.NotificationFactory(driver=driver), lambda body: body["count"]),
    "stations/?district=110105": (_station, lambda body: len(body["results"])),
}


@pytest.mark.parametrize("path", DRIVER_UNITS)
def test_a_driver_list_costs_the_same_for_n_and_3n_rows(driver_api, path):
    client, driver = driver_api
    grow, count = DRIVER_UNITS[path]
    url = f"/api/driver/{path}"

    def cost() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        assert response.status_code == 200
        return len(ctx.captured_queries), count(response.json())

    for _ in range(2):
        grow(driver)
    before, rows = cost()
    for _ in range(4):
        grow(driver)
    after, rows_3n = cost()
    assert (after, rows_3n) == (before, rows + 4)
