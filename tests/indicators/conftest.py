"""Small histories a person can check by hand: one day (2024-01-10, Beijing time), a station of two connectors."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from apps.core.roles import REGULATOR
from apps.interconnect.choices import RunStatus
from apps.interconnect.models import SyncRun
from apps.orders.models import OrderReport
from apps.protocol.names import Interface
from apps.stations.models import Connector, ConnectorStatusHistory
from tests import factories
from tests.factories import SHANGHAI

DAY = date(2024, 1, 10)
DAY_SECONDS = 86400.0


def at(hour: int, minute: int = 0, second: int = 0, *, day: int = 10) -> datetime:
    return datetime(2024, 1, day, hour, minute, second, tzinfo=SHANGHAI)


def status(conn, when: datetime, value: int, source: str = "pull", *, arrived: datetime | None = None):
    row = ConnectorStatusHistory.objects.create(connector=conn, status=value, status_time=when, source=source)
    ConnectorStatusHistory.objects.filter(pk=row.pk).update(created=arrived or when)
    return row


def sweeps(operator, start: datetime, end: datetime, every_minutes: int = 5) -> None:
    """Answered status sweeps every few minutes: what confirms every connector between its changes."""
    moment, runs = start, []
    while moment < end:
        runs.append(
            SyncRun(
                operator=operator,
                interface=Interface.QUERY_STATION_STATUS.value,
                status=RunStatus.SUCCEEDED,
                finished=moment,
            )
        )
        moment += timedelta(minutes=every_minutes)
    SyncRun.objects.bulk_create(runs)


@pytest.fixture
def city(db):
    """Operator A (a station of two 60 kW connectors, C1 and C2, listed long before the day), swept every 5 min."""
    op = factories.operator("123456789")
    st = factories.station(op, "ST1", area_code="110105")
    eq = factories.equipment(st, "EQ1")
    c1 = factories.connector(eq, "C1")
    c2 = factories.connector(eq, "C2")
    Connector.objects.filter(pk__in=[c1.pk, c2.pk]).update(created=at(0, day=1))
    sweeps(op, at(0, day=9), at(0, day=11))
    c1.refresh_from_db()
    c2.refresh_from_db()
    return {"op": op, "st": st, "c1": c1, "c2": c2}


@pytest.fixture
def api(db, roles, django_user_model):
    client = APIClient()
    user = django_user_model.objects.create_user(username="reg", password="pw-for-tests-only", is_staff=True)
    user.groups.add(django_user_model.groups.rel.model.objects.get(name=REGULATOR))
    client.force_authenticate(user)
    return client


def order(conn, begin, end, kwh="30.00", money="45.00", *, pushed_after: int = 10, interface="order"):
    placed = factories.order(
        conn, start_time=begin, end_time=end, total_power=Decimal(kwh), total_money=Decimal(money),
        total_elec_money=Decimal(money) / 2, total_sevice_money=Decimal(money) / 2,
        order_received_at=end + timedelta(seconds=pushed_after),
    )  # fmt: skip
    name = {"order": "notification_charge_order_info", "bonus": "notification_charge_order_info_for_bonus"}
    OrderReport.objects.create(
        order=placed, interface=name[interface], revision=1, digest="d" * 64, payload={}, confirm_result=0,
        received_at=end + timedelta(seconds=pushed_after),
    )  # fmt: skip
    return placed
