"""Operator health: last good pull per interface, last push, stale connectors, the stale flag, and the admin views."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.interconnect.choices import RunStatus
from apps.interconnect.models import Exchange, SyncRun
from apps.operators.choices import OperatorStatus
from apps.operators.models import Operator
from apps.supervision.health import with_health
from tests import factories

pytestmark = pytest.mark.django_db


def ago(minutes: float) -> dt.datetime:
    return timezone.now() - dt.timedelta(minutes=minutes)


def run(operator_id: str, interface: str, minutes_ago: float, status: str = RunStatus.SUCCEEDED) -> SyncRun:
    row = factories.SyncRunFactory(operator=Operator.objects.get(pk=operator_id), interface=interface, status=status)
    # `started` is auto_now_add: set both times by update, as a real run would have them.
    SyncRun.objects.filter(pk=row.pk).update(started=ago(minutes_ago + 1), finished=ago(minutes_ago))
    return row


def push(operator_id: str, minutes_ago: float, ret: int = 0) -> None:
    row = factories.ExchangeFactory(operator=Operator.objects.get(pk=operator_id), ret=ret)  # an inbound status push
    Exchange.objects.filter(pk=row.pk).update(created=ago(minutes_ago))


def health(operator_id: str):
    return with_health(Operator.objects.filter(pk=operator_id)).get()


@pytest.fixture
def operator():
    return factories.operator("MA0HEALTH", status=OperatorStatus.ACTIVE)


def test_an_operator_that_never_sent_status_data_is_stale(operator):
    row = health(operator.pk)
    assert row.last_status_data is None and row.is_stale


def test_a_recent_status_sweep_or_push_keeps_it_fresh(operator, settings):
    settings.HLHT_STALE_MINUTES = 30
    run(operator.pk, "query_station_status", minutes_ago=45)
    assert health(operator.pk).is_stale
    push(operator.pk, minutes_ago=10)
    row = health(operator.pk)
    assert not row.is_stale
    assert abs((row.last_status_data - ago(10)).total_seconds()) < 1  # the newer of pull and push


def test_failed_pulls_and_refused_pushes_are_not_data(operator):
    run(operator.pk, "query_station_status", minutes_ago=1, status=RunStatus.FAILED)
    push(operator.pk, minutes_ago=1, ret=4004)
    row = health(operator.pk)
    assert row.last_query_station_status is None and row.last_push is None and row.is_stale


def test_only_operators_in_service_are_flagged(operator):
    suspended = factories.operator("MA0SUSPND", status=OperatorStatus.SUSPENDED)
    assert health(operator.pk).is_stale and not health(suspended.pk).is_stale


def test_last_good_pull_per_interface(operator):
    run(operator.pk, "query_stations_info", minutes_ago=50)
    run(operator.pk, "query_stations_info", minutes_ago=5, status=RunStatus.FAILED)
    run(operator.pk, "query_station_stats", minutes_ago=600)
    row = health(operator.pk)
    assert abs((row.last_query_stations_info - ago(50)).total_seconds()) < 1
    assert row.last_query_station_status is None
    assert abs((row.last_query_station_stats - ago(600)).total_seconds()) < 1


def test_stale_connectors_are_counted_among_the_listed_ones(operator, settings):
    settings.HLHT_STALE_MINUTES = 30
    station = factories.station(operator, "HS1")
    equipment = factories.equipment(station, "HS1E")
    fresh, old, never, gone = (factories.connector(equipment, f"HS1C{n}") for n in range(4))
    for connector, minutes in ((fresh, 5), (old, 90), (gone, 90)):
        factories.ConnectorStatusFactory(connector=connector, status_time=ago(minutes), source="pull")
    gone.removed_at = timezone.now()
    gone.save()
    assert health(operator.pk).stale_connector_count == 2  # old and never; the removed one is not counted


def test_admin_lists_health_and_filters_stale_operators(client, regulator, operator):
    fresh = factories.operator("MA0FRESH0", status=OperatorStatus.ACTIVE)
    push(fresh.pk, minutes_ago=1)
    client.force_login(regulator)
    url = reverse("admin:operators_operator_changelist")
    page = client.get(url).content.decode()
    assert "数据停滞" in page and "正常" in page
    stale_only = client.get(url, {"stale": "1"}).content.decode()
    assert "MA0HEALTH" in stale_only and "MA0FRESH0" not in stale_only
    fresh_only = client.get(url, {"stale": "0"}).content.decode()
    assert "MA0FRESH0" in fresh_only and "MA0HEALTH" not in fresh_only


def test_admin_operator_page_shows_the_health_panel(client, regulator, operator):
    run(operator.pk, "query_stations_info", minutes_ago=3)
    client.force_login(regulator)
    page = client.get(reverse("admin:operators_operator_change", args=[operator.pk])).content.decode()
    assert "最近一次成功拉取站点信息" in page and "从未" in page and "数据停滞" in page
    assert "<td>0 / 0</td>" in page  # stale connectors / listed connectors


def test_admin_operator_panel_counts_stale_connectors(client, regulator, operator):
    equipment = factories.equipment(factories.station(operator, "HS3"), "HS3E")
    fresh, _never = factories.connector(equipment, "HS3A"), factories.connector(equipment, "HS3B")
    factories.ConnectorStatusFactory(connector=fresh, status_time=timezone.now())
    client.force_login(regulator)
    page = client.get(reverse("admin:operators_operator_change", args=[operator.pk])).content.decode()
    assert "<td>1 / 2</td>" in page


def test_admin_connector_filter_by_status_age(client, regulator, operator, settings):
    settings.HLHT_STALE_MINUTES = 30
    equipment = factories.equipment(factories.station(operator, "HS2"), "HS2E")
    fresh, old = factories.connector(equipment, "HS2FRESH"), factories.connector(equipment, "HS2OLD")
    factories.ConnectorStatusFactory(connector=fresh, status_time=timezone.now())
    factories.ConnectorStatusFactory(connector=old, status_time=ago(120))
    client.force_login(regulator)
    url = reverse("admin:stations_connector_changelist")
    stale = client.get(url, {"status_age": "stale"}).content.decode()
    assert "HS2OLD" in stale and "HS2FRESH" not in stale
    recent = client.get(url, {"status_age": "fresh"}).content.decode()
    assert "HS2FRESH" in recent and "HS2OLD" not in recent


def test_regulators_edit_an_operators_pull_intervals(client, regulator, operator):
    client.force_login(regulator)
    url = reverse("admin:operators_operator_change", args=[operator.pk])
    form = client.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields}
    data = {k: ("" if v is None else v) for k, v in data.items() if v is not False}
    data.update(pull_status_minutes=2, pull_info_minutes=15, pull_stats_at="02:30")
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    operator.refresh_from_db()
    assert (operator.pull_status_minutes, operator.pull_info_minutes) == (2, 15)
    assert operator.pull_stats_at == dt.time(2, 30)


def test_an_interval_of_zero_is_refused_naming_the_field(client, regulator, operator):
    client.force_login(regulator)
    url = reverse("admin:operators_operator_change", args=[operator.pk])
    form = client.get(url).context["adminform"].form
    data = {k: ("" if v is None else v) for k, v in ((n, form[n].value()) for n in form.fields) if v is not False}
    response = client.post(url, {**data, "pull_status_minutes": 0})
    assert response.status_code == 200
    assert "pull_status_minutes" in response.context["adminform"].form.errors
    operator.refresh_from_db()
    assert operator.pull_status_minutes == 5
