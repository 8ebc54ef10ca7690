"""Every admin page renders for a superuser on the demo data; regulators read but never edit operator data."""

import pytest
from django.contrib import admin
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from apps.demo.data import demo_load
from apps.stations.models import Station
from tests import factories

DOMAIN = {
    "operators",
    "stations",
    "pricing",
    "orders",
    "settlement",
    "interconnect",
    "drivers",
    "charging",
    "onboarding",
}
ADMINS = [m for m in admin.site._registry if m._meta.app_label in DOMAIN]


@pytest.fixture(scope="module")
def demo_data(django_db_setup, django_db_blocker):
    """The demo directory, loaded once for the module inside a transaction that is rolled back at the end."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            demo_load(seed=1)
            _add_stats()
            yield
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def demo(demo_data, db):
    return None


def _add_stats():
    st = Station.objects.first()
    eq = st.equipment.first()
    # A day of statistics (2024-01-01, 10 kWh) for one pile and one connector of the first station.
    equipment_stats = factories.EquipmentStatsFactory(station_stats__station=st, equipment=eq)
    factories.ConnectorStatsFactory(equipment_stats=equipment_stats, connector=eq.connectors.first())
    _add_protocol_rows(st.operator)


def _add_protocol_rows(operator):
    from apps.interconnect.choices import Direction
    from apps.interconnect.journal import journal_record
    from apps.interconnect.services import operator_provision
    from apps.interconnect.tokens import token_issue

    operator_provision(operator_id=operator.pk, name=operator.operator_name)
    token_issue(operator=operator)
    run = factories.SyncRunFactory(operator=operator, status="succeeded")
    factories.RejectedRecordFactory(
        operator=operator, run=run, record_key="S9", rules=["enum"], reasons=["StationType（站点类型）取值不合法"],
        payload={"StationID": "S9"},
    )  # fmt: skip
    factories.DirectoryChangeFactory(
        operator=operator, station_id="S1", action="updated", changes={"station_name": ["旧", "新"]}, run=run
    )
    factories.PendingConnectorStatusFactory(
        operator=operator, connector_id="NOT-YET-LISTED", status_time=timezone.now()
    )
    _add_onboarding_rows(operator)
    journal_record(
        operator=operator,
        claimed_operator_id=operator.pk,
        interface="query_token",
        direction=Direction.IN,
        ret=0,
        request={"OperatorID": operator.pk, "OperatorSecret": "x"},
        response={"SuccStat": 0},
    )


def _add_onboarding_rows(operator):
    factories.ApplicationFactory(reference="SQTESTREF01", applied_operator_id="MABM7G6QX", legal_name="申请单位")
    now = timezone.now()
    factories.ConformanceReportFactory(
        operator=operator, started=now, finished=now, passed=False, dialects_detected=["dialect_service_spelling"],
        checks=[{"name": "token_out", "title": "token", "outcome": "failed", "detail": "x", "ms": 3.0, "flag": ""}],
        exchanges=[{"id": 1, "interface": "query_token", "direction": "out", "ret": 0}],
    )  # fmt: skip


@pytest.fixture
def superuser_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("root", password="x" * 12)
    client.force_login(user)
    return client


def _url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.mark.parametrize("model", ADMINS, ids=lambda m: m._meta.label)
def test_changelist_search_add_change_render(demo, superuser_client, model):
    response = superuser_client.get(_url(model, "changelist"))
    assert response.status_code == 200
    model_admin = admin.site._registry[model]
    if model_admin.search_fields:
        assert superuser_client.get(_url(model, "changelist"), {"q": "1"}).status_code == 200
    add = superuser_client.get(_url(model, "add"))
    assert add.status_code == (200 if model_admin.has_add_permission(response.wsgi_request) else 403)
    obj = model._default_manager.first()
    assert obj is not None, f"demo data has no {model._meta.label}"
    change = superuser_client.get(_url(model, "change", obj.pk))
    assert change.status_code == 200
    fields = [f if isinstance(f, str) else f[0] for f in model_admin.list_filter if isinstance(f, str | tuple)]
    for name in fields[:1]:
        assert superuser_client.get(_url(model, "changelist"), {f"{name}__isnull": "False"}).status_code in (200, 302)
    # Each choice of every custom filter renders (a broken queryset() would answer 500).
    request = response.wsgi_request
    for f in model_admin.list_filter:
        if isinstance(f, type) and issubclass(f, admin.SimpleListFilter):
            for value, _ in f(request, {}, model, model_admin).lookups(request, model_admin):
                page = superuser_client.get(_url(model, "changelist"), {f.parameter_name: value})
                assert page.status_code == 200, (f.__name__, value)


def test_station_page_shows_equipment_and_connector_status(demo, superuser_client):
    station = Station.objects.filter(connectors__current_status__isnull=False).first()
    html = superuser_client.get(_url(Station, "change", station.pk)).content.decode()
    connector = station.connectors.select_related("current_status").first()
    assert connector.connector_id in html
    assert station.equipment.first().equipment_id in html
    assert connector.current_status.get_status_display() in html


def test_operator_data_is_read_only_for_regulators(demo, client, regulator):
    client.force_login(regulator)
    station = Station.objects.first()
    page = client.get(_url(Station, "change", station.pk))
    assert page.status_code == 200
    assert b'name="station_name"' not in page.content  # rendered as text, not an input
    assert client.post(_url(Station, "change", station.pk), {"station_name": "x"}).status_code == 403
    assert client.get(_url(Station, "add")).status_code == 403
    assert client.post(_url(Station, "delete", station.pk), {"post": "yes"}).status_code == 403
    assert Station.objects.get(pk=station.pk).station_name == station.station_name


def test_operator_manager_sees_only_their_stations(demo, client):
    from apps.operators.models import OperatorAccount

    account = OperatorAccount.objects.select_related("user", "operator").get(user__username="operator1")
    client.force_login(account.user)
    page = client.get(_url(Station, "changelist"))
    assert page.status_code == 200
    own = Station.objects.filter(operator=account.operator)
    other = Station.objects.exclude(operator=account.operator).first()
    assert all(s.station_id.encode() in page.content for s in own)
    assert other.station_name.encode() not in page.content
    # Another operator's station is as good as absent.
    assert client.get(_url(Station, "change", other.pk)).status_code == 302


def test_admin_speaks_chinese_whatever_the_browser_asks(demo, superuser_client):
    for language in ("zh-CN", "en", "en-US,en;q=0.9"):
        page = superuser_client.get(_url(Station, "changelist"), HTTP_ACCEPT_LANGUAGE=language).content.decode()
        assert '<html lang="zh-hans"' in page and "充电站" in page
        assert "Select 充电站 to change" not in page and "Django administration" not in page


def test_district_filter_and_column_show_names(demo, superuser_client):
    page = superuser_client.get(_url(Station, "changelist")).content.decode()
    assert "朝阳区" in page and "?area_code=110105" in page
    narrowed = superuser_client.get(_url(Station, "changelist"), {"area_code": "110105"}).content.decode()
    assert all(s.station_id in narrowed for s in Station.objects.filter(area_code="110105")[:5])
