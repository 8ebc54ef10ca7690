"""No N+1 in the admin: every changelist of the portal costs the same number of queries for N and 3N rows."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.charging.models import ChargingSession
from apps.drivers.choices import EntryKind
from apps.onboarding.choices import ApplicationStatus
from apps.onboarding.models import Application, ConformanceReport
from apps.orders.choices import StartChargeSeqStat
from apps.settlement.choices import DisputeState, Resolution
from apps.settlement.models import Dispute, Statement
from apps.stations.models import Connector, Station
from tests import factories as f
from tests.test_factories import FACTORIES

pytestmark = pytest.mark.django_db


def _station() -> None:
    conn = f.ConnectorStatusFactory().connector
    f.ConnectorFactory(equipment=conn.equipment)


def _driver() -> None:
    entry = f.WalletEntryFactory()
    f.WalletEntryFactory(driver=entry.driver, kind=EntryKind.HOLD, amount=-30, balance_after=70)


def _session() -> None:
    f.ChargingSessionFactory(state=StartChargeSeqStat.FINISHED, order=f.ChargeOrderFactory())


def _policy_check() -> None:
    policy = f.PolicyPeriodFactory().policy
    f.PolicyCheckFactory(connector=policy.connector, policy=policy)


# Rows that fill what their changelist reads beyond the factory's defaults (nullable links, reverse relations).
RICH: dict[type, Callable[[], object]] = {
    Station: _station,
    Connector: lambda: f.ConnectorStatusFactory().connector,
    f.BusinessPolicyFactory._meta.model: lambda: f.PolicyPeriodFactory().policy,
    f.PolicyCheckFactory._meta.model: _policy_check,
    f.DriverFactory._meta.model: _driver,
    ChargingSession: _session,
    Dispute: lambda: f.DisputeFactory(
        order=f.ChargeOrderFactory(),
        state=DisputeState.RESOLVED,
        resolution=Resolution.PORTAL,
        resolved_by=f.StaffFactory(),
        resolved_at=timezone.now(),
    ),
    Statement: lambda: f.StatementFactory(confirmed_by=f.StaffFactory(), paid_by=f.StaffFactory()),
    Application: lambda: f.ApplicationFactory(
        status=ApplicationStatus.REJECTED,
        decided_by=f.StaffFactory(),
        decided_at=timezone.now(),
        operator=f.OperatorFactory(),
    ),
    ConformanceReport: lambda: f.ConformanceReportFactory(run_by=f.StaffFactory()),
    get_user_model(): f.StaffFactory,
}

MODELS = sorted(
    (model for model in admin.site._registry if model in FACTORIES or model in RICH),
    key=lambda model: model._meta.label,
)


# Pages among the admin's sections (proxies whose list is a page, not a changelist): measured for N and 3N rows in
# tests/indicators/test_pages.py::test_the_pages_cost_the_same_for_n_and_3n_rows.
PAGES = {"indicators.IndicatorExplorer", "indicators.ScorecardBoard"}


def test_every_changelist_of_the_portal_is_measured():
    unmeasured = {
        model._meta.label
        for model in admin.site._registry
        if model.__module__.startswith("apps.") and model not in MODELS and model._meta.label not in PAGES
    }
    assert unmeasured == set()


def cost(client, url: str) -> tuple[int, int]:
    """The queries a changelist page cost, and the rows it shows."""
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries), response.context["cl"].result_count


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model._meta.label)
def test_a_changelist_costs_the_same_for_n_and_3n_rows(client, roles, model):
    client.force_login(get_user_model().objects.create_superuser("root", password=None))
    _measure(client, model)


# A regulator reads every list of the portal's apps (users and groups are the platform administrator's).
@pytest.mark.parametrize(
    "model", [m for m in MODELS if m.__module__.startswith("apps.")], ids=lambda model: model._meta.label
)
def test_a_regulators_changelist_costs_the_same_for_n_and_3n_rows(client, regulator, model):
    client.force_login(regulator)
    _measure(client, model)


def _measure(client, model) -> None:
    grow = RICH.get(model) or FACTORIES[model]
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    for _ in range(2):
        grow()
    before, rows = cost(client, url)
    for _ in range(4):
        grow()
    after, rows_3n = cost(client, url)
    assert after == before
    assert rows_3n > rows


DAYS = itertools.count()  # statements of one operator never share a period


def _own_connector(op):
    return f.ConnectorStatusFactory(connector__equipment__station__operator=op).connector


# The main lists an operator's account manager works in, each row built under their own operator.
OWN: dict[type, Callable[[object], object]] = {
    Station: lambda op: _own_connector(op).station,
    f.EquipmentFactory._meta.model: lambda op: _own_connector(op).equipment,
    Connector: _own_connector,
    f.ConnectorStatusHistoryFactory._meta.model: lambda op: f.ConnectorStatusHistoryFactory(
        connector=_own_connector(op)
    ),
    f.StationStatsFactory._meta.model: lambda op: f.station_stats(_own_connector(op).station, f.MOMENT.date(), "1.0"),
    f.ChargeOrderFactory._meta.model: lambda op: f.ChargeOrderFactory(connector=_own_connector(op)),
    f.OrderFindingFactory._meta.model: lambda op: f.OrderFindingFactory(order__connector=_own_connector(op)),
    f.BusinessPolicyFactory._meta.model: lambda op: f.PolicyPeriodFactory(policy__connector=_own_connector(op)).policy,
    f.ReconciliationRunFactory._meta.model: lambda op: f.ReconciliationRunFactory(operator=op),
    Dispute: lambda op: f.DisputeFactory(run__operator=op, order=f.ChargeOrderFactory(connector=_own_connector(op))),
    Statement: lambda op: f.StatementFactory(
        agreement__operator=op, period_start=date(2024, 1, 1) + timedelta(days=next(DAYS)), period_end=date(2030, 1, 1)
    ),
    f.SyncRunFactory._meta.model: lambda op: f.SyncRunFactory(operator=op, status="failed", error="timeout"),
    ChargingSession: lambda op: f.ChargingSessionFactory(
        connector=_own_connector(op), state=StartChargeSeqStat.FINISHED
    ),
}


@pytest.mark.parametrize("model", sorted(OWN, key=lambda m: m._meta.label), ids=lambda model: model._meta.label)
def test_an_operator_managers_changelist_costs_the_same_for_n_and_3n_rows(client, manager_a, directory, model):
    client.force_login(manager_a)
    grow, op = OWN[model], directory["a"]
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    for _ in range(2):
        grow(op)
    grow(directory["b"])  # another operator's row, which stays out of the list
    before, rows = cost(client, url)
    for _ in range(4):
        grow(op)
    after, rows_3n = cost(client, url)
    assert after == before
    assert rows_3n == rows + 4
