"""The permission matrix (README, Roles): what each role may and may not reach, page by page, export and API.

The expectations are written out here, not derived from the role definitions, so a change to a role that widens or
narrows its reach fails a test until the matrix (and the README) say so.
"""

import html
import re

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.urls import reverse

from apps.core.roles import OPERATOR_MANAGER, PLATFORM_ADMIN, REGULATOR
from apps.operators.models import Operator
from tests import factories
from tests.core.test_admin_pages import demo, demo_data  # noqa: F401 - fixtures

ROLES = (PLATFORM_ADMIN, REGULATOR, OPERATOR_MANAGER)
# Admin lists a role may NOT open (403); every other registered list answers 200 for every role.
HIDDEN = {
    "auth.Group": {REGULATOR, OPERATOR_MANAGER},
    "auth.User": {REGULATOR, OPERATOR_MANAGER},
    "authtoken.TokenProxy": {PLATFORM_ADMIN, REGULATOR, OPERATOR_MANAGER},  # API tokens: superusers only
    "drivers.Driver": {OPERATOR_MANAGER},  # drivers are the city platform's customers
    "drivers.WalletEntry": {OPERATOR_MANAGER},
    "drivers.Notification": {OPERATOR_MANAGER},
    "interconnect.OperatorKeySet": {OPERATOR_MANAGER},  # the portal's machinery
    "interconnect.AccessToken": {OPERATOR_MANAGER},
    "interconnect.Exchange": {OPERATOR_MANAGER},
}
# Lists with an import page, and who may import (everyone else: 403).
IMPORTERS = {PLATFORM_ADMIN}


def _with_view(view):
    """Every registered admin with an import (or export) page, by label."""
    names = []
    for model in admin.site._registry:
        try:
            reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}")
        except Exception:  # noqa: S112 - no such page for this admin
            continue
        names.append(model._meta.label)
    return sorted(names)


IMPORTABLE = _with_view("import")
EXPORTABLE = _with_view("export")
API = [
    "operator", "station", "equipment", "connector", "status-history", "station-stats", "sync-run",
    "directory-change", "rejected-record", "order", "order-finding", "policy", "reconciliation", "dispute",
]  # fmt: skip


def _login(client, django_user_model, role):
    user = django_user_model.objects.create_user(username=f"u_{role}", password="pw-for-tests-only", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    if role == OPERATOR_MANAGER:
        factories.OperatorAccountFactory(user=user, operator=Operator.objects.order_by("pk").first())
    client.force_login(user)
    return user


def _model(label):
    return next(m for m in admin.site._registry if m._meta.label == label)


def _url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.fixture
def as_role(demo, roles, client, django_user_model, request):  # noqa: F811
    _login(client, django_user_model, request.param)
    return request.param


@pytest.mark.parametrize("as_role", ROLES, indirect=True)
@pytest.mark.parametrize(
    "model", sorted(admin.site._registry, key=lambda m: m._meta.label), ids=lambda m: m._meta.label
)
def test_each_admin_list_per_role(as_role, client, model):
    expected = 403 if as_role in HIDDEN.get(model._meta.label, set()) else 200
    assert client.get(_url(model, "changelist")).status_code == expected


@pytest.mark.parametrize("as_role", ROLES, indirect=True)
def test_home_lists_only_reachable_sections(as_role, client):
    html = client.get(reverse("admin:index")).content.decode()
    for label, hidden in HIDDEN.items():
        link = _url(_model(label), "changelist")
        assert (link in html) == (as_role not in hidden), (label, as_role)


@pytest.mark.parametrize("as_role", ROLES, indirect=True)
@pytest.mark.parametrize("label", IMPORTABLE)
def test_import_only_for_platform_admins(as_role, client, label):
    expected = 200 if as_role in IMPORTERS else 403
    assert client.get(_url(_model(label), "import")).status_code == expected


@pytest.mark.parametrize("as_role", ROLES, indirect=True)
@pytest.mark.parametrize("label", EXPORTABLE)
def test_export_reachable_and_scoped(as_role, client, label):
    model = _model(label)
    if as_role in HIDDEN.get(label, set()):
        assert client.get(_url(model, "export")).status_code == 403
        return
    model_admin = admin.site._registry[model]
    resource = model_admin.get_export_resource_classes(client.get(_url(model, "changelist")).wsgi_request)[0]
    prefix = resource.__name__.lower()
    page = client.post(_url(model, "export"), {"format": "0", "resource": "0",
                                               **{f"{prefix}_{name}": "on" for name in resource().fields}})  # fmt: skip
    assert page.status_code == 200, page.content.decode()[:500]
    assert page["Content-Type"].startswith("text/csv")
    if as_role == OPERATOR_MANAGER and label == "operators.Operator":
        body = page.content.decode("utf-8-sig")
        own = Operator.objects.order_by("pk").first()
        assert own.pk in body
        assert all(o.pk not in body for o in Operator.objects.exclude(pk=own.pk))


@pytest.mark.parametrize("as_role", ROLES, indirect=True)
@pytest.mark.parametrize("name", API)
def test_api_per_role(as_role, client, name):
    answer = client.get(reverse(f"api:{name}-list"))
    assert answer.status_code == 200
    if as_role == OPERATOR_MANAGER and name == "operator":
        own = Operator.objects.order_by("pk").first().pk
        assert [row["OperatorID"] for row in answer.json()["results"]] == [own]


@pytest.mark.parametrize("name", API)
def test_api_refuses_anonymous(demo, client, name):  # noqa: F811
    assert client.get(reverse(f"api:{name}-list")).status_code in (401, 403)


def test_operator_manager_home_is_theirs(demo, roles, client, django_user_model):  # noqa: F811
    _login(client, django_user_model, OPERATOR_MANAGER)
    own = Operator.objects.order_by("pk").first()
    html = client.get(reverse("admin:index")).content.decode()
    assert f"运营商工作台 · {own.operator_name}" in html
    assert "监管工作台" not in html
    assert 'id="operator-home"' in html
    other = Operator.objects.exclude(pk=own.pk).first()
    assert other.operator_name not in html


@pytest.mark.parametrize("as_role", [REGULATOR, PLATFORM_ADMIN], indirect=True)
def test_city_roles_keep_the_supervision_home(as_role, client):
    html = client.get(reverse("admin:index")).content.decode()
    assert "监管工作台" in html and 'id="operator-home"' not in html


# -- scope reaches the filters: an operator manager's sidebars and forms name no other operator ------------------------


def _other_operators_identifiers(own: Operator) -> set[str]:
    """What would tell an operator manager about another operator: its OperatorID and name, its stations',
    equipment's and connectors' ids, its orders' and disputes' StartChargeSeq and its runs' CheckOrderSeq."""
    from apps.orders.models import ChargeOrder
    from apps.settlement.models import Dispute, ReconciliationRun
    from apps.stations.models import Connector, Equipment, Station

    others = Operator.objects.exclude(pk=own.pk)
    found = {*others.values_list("operator_id", flat=True), *others.values_list("operator_name", flat=True)}
    found |= set(Station.objects.filter(operator__in=others).values_list("station_id", flat=True))
    found |= set(Equipment.objects.filter(operator__in=others).values_list("equipment_id", flat=True))
    found |= set(Connector.objects.filter(operator__in=others).values_list("connector_id", flat=True))
    found |= set(ChargeOrder.objects.filter(operator__in=others).values_list("start_charge_seq", flat=True))
    found |= set(Dispute.objects.filter(operator__in=others).values_list("start_charge_seq", flat=True))
    found |= set(ReconciliationRun.objects.filter(operator__in=others).values_list("check_order_seq", flat=True))
    return {value for value in found if value}


def _reconcile_another_operator() -> None:
    """A reconciliation run with a dispute for a second operator: the dispute list's 对账记录 filter had both runs."""
    from datetime import timedelta

    from django.conf import settings
    from django.utils import timezone

    from apps.settlement.services import orders_reconcile

    other = Operator.objects.order_by("pk")[1]
    day = timezone.localdate() - timedelta(days=2)
    unknown = {"StartChargeSeq": f"{settings.HLHT_OPERATOR_ID}{day:%Y%m%d}0000008888", "TotalPower": "5.00",
               "TotalMoney": "7.50"}  # fmt: skip
    orders_reconcile(
        operator_id=other.pk,
        payload={
            "CheckOrderSeq": f"{other.pk}{day:%Y%m%d}0100000002",
            "StartTime": f"{day} 00:00:00",
            "EndTime": f"{day} 23:59:59",
            "OrderCount": 1,
            "TotalOrderPower": "5.00",
            "TotalOrderMoney": "7.50",
            "ChargeOrders": [unknown],
        },
        received_at=timezone.now(),
    )


# The theme's filter sheet: its filters inside one form (ModelAdmin.list_filter_submit), the sheet's end.
_SIDEBAR = re.compile(r'<div id="changelist-filter".*?</form>', re.S)
_LINK = re.compile(r'href="(\?[^"]*)"')


def _leaks(html: str, identifiers: set[str]) -> list[str]:
    return sorted(value for value in identifiers if value in html)


def test_an_operator_managers_filters_and_forms_name_no_other_operator(demo, roles, client, django_user_model):  # noqa: F811
    _reconcile_another_operator()
    user = _login(client, django_user_model, OPERATOR_MANAGER)
    own = user.operator_account.operator
    identifiers = _other_operators_identifiers(own)
    assert len(identifiers) > 50  # the demo has other operators with stations, orders and a reconciliation
    crawled = 0
    for model in sorted(admin.site._registry, key=lambda m: m._meta.label):
        if OPERATOR_MANAGER in HIDDEN.get(model._meta.label, set()):
            continue
        changelist = _url(model, "changelist")
        page = client.get(changelist)
        assert page.status_code == 200, model._meta.label
        sidebar = _SIDEBAR.search(page.content.decode())
        if sidebar is None:
            continue
        assert _leaks(sidebar.group(), identifiers) == [], (model._meta.label, "sidebar")
        # One level deeper: each choice of each filter, whose page may offer further choices (a station once an
        # operator is chosen).
        for link in dict.fromkeys(_LINK.findall(sidebar.group())):
            deeper = client.get(changelist + html.unescape(link))
            crawled += 1
            assert deeper.status_code == 200, (model._meta.label, link)
            inner = _SIDEBAR.search(deeper.content.decode())
            assert inner is None or _leaks(inner.group(), identifiers) == [], (model._meta.label, link)
        # The add and change forms' related choices (select options) go through the scope rule too.
        model_admin = admin.site._registry[model]
        obj = model_admin.get_queryset(page.wsgi_request).first()
        for view, args in (("add", ()), ("change", (obj.pk,) if obj is not None else None)):
            if args is None:
                continue
            form = client.get(_url(model, view, *args))
            if form.status_code == 200:
                assert _leaks(form.content.decode(), identifiers) == [], (model._meta.label, view)
    assert crawled > 100


# -- one rule: admin, API, exports and filters answer what `for_user(user, action)` answers --------------------------


def _api_model(name):
    from django.urls import resolve

    return resolve(reverse(f"api:{name}-list")).func.cls.model


@pytest.mark.parametrize("as_role", ROLES, indirect=True)
@pytest.mark.parametrize("name", API)
def test_api_rows_are_the_rules_rows(as_role, client, name):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(username=f"u_{as_role}")
    answer = client.get(reverse(f"api:{name}-list"), {"page_size": 500})
    expected = _api_model(name).objects.for_user(user, "view")
    rows = answer.json()["results"]
    assert answer.json()["count"] == expected.count() == len(rows)  # the demo's tables fit one page of 500
    key = "id" if rows and "id" in rows[0] else "OperatorID"
    assert {row[key] for row in rows} == set(expected.values_list("pk", flat=True))


def _person(django_user_model, *permissions, operator=True):
    """A staff user in no role, tied to the first operator, holding exactly `permissions` (`app.codename`)."""
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user(username="custom", password="pw-for-tests-only", is_staff=True)
    for name in permissions:
        app_label, codename = name.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    if operator:
        factories.OperatorAccountFactory(user=user, operator=Operator.objects.order_by("pk").first())
    return django_user_model.objects.get(pk=user.pk)  # a fresh object: no cached permissions


def test_scope_without_the_view_permission_reaches_nothing(demo, roles, client, django_user_model):  # noqa: F811
    """An operator's account without any permission: the rule gives nothing, the API 403, the admin 403."""
    from apps.stations.models import Station

    user = _person(django_user_model)
    assert Station.objects.filter(operator=user.operator_account.operator).exists()
    assert not Station.objects.for_user(user).exists()
    client.force_login(user)
    for name in API:
        assert client.get(reverse(f"api:{name}-list")).status_code == 403, name
    assert client.get(_url(_model("stations.Station"), "changelist")).status_code == 403


def test_the_view_permission_opens_one_model_in_the_scope(demo, roles, client, django_user_model):  # noqa: F811
    """`view_station` alone: stations of their operator through the API and the admin; orders stay closed."""
    from apps.stations.models import Station

    user = _person(django_user_model, "stations.view_station")
    own = user.operator_account.operator
    client.force_login(user)
    rows = client.get(reverse("api:station-list"), {"page_size": 500}).json()
    assert rows["count"] == Station.objects.filter(operator=own).count() == Station.objects.for_user(user).count() > 0
    assert {row["OperatorID"] for row in rows["results"]} == {own.pk}
    assert client.get(reverse("api:order-list")).status_code == 403
    assert client.get(_url(_model("stations.Station"), "changelist")).status_code == 200
    assert client.get(_url(_model("orders.ChargeOrder"), "changelist")).status_code == 403
    # Without a scope the same permission reaches no row.
    user.operator_account.delete()
    user = django_user_model.objects.get(pk=user.pk)
    assert not Station.objects.for_user(user).exists()


def test_an_action_needs_its_own_permission(demo, roles, django_user_model):  # noqa: F811
    from apps.stations.models import Station

    user = _person(django_user_model, "stations.view_station")
    assert Station.objects.for_user(user, "view").exists()
    assert not Station.objects.for_user(user, "change").exists()
    assert not Station.objects.for_user(user, "export").exists()
    with pytest.raises(ValueError, match="unknown action"):
        Station.objects.for_user(user, "destroy")


@pytest.mark.parametrize("as_role", ROLES, indirect=True)
@pytest.mark.parametrize("label", EXPORTABLE)
def test_export_rows_are_the_rules_rows(as_role, client, label):
    from django.contrib.auth import get_user_model

    if as_role in HIDDEN.get(label, set()):
        return  # 403, above
    user = get_user_model().objects.get(username=f"u_{as_role}")
    model = _model(label)
    request = client.get(_url(model, "changelist")).wsgi_request
    exported = admin.site._registry[model].get_export_queryset(request)
    assert set(exported.values_list("pk", flat=True)) == set(
        model.objects.for_user(user, "export").values_list("pk", flat=True)
    )


def test_a_role_without_the_export_permission_exports_nothing(demo, roles, client, django_user_model):  # noqa: F811
    user = _person(django_user_model, "operators.view_operator")
    client.force_login(user)
    model = _model("operators.Operator")
    assert client.get(_url(model, "export")).status_code == 403
    request = client.get(_url(model, "changelist")).wsgi_request
    assert not admin.site._registry[model].get_export_queryset(request).exists()


@pytest.mark.parametrize("as_role", ROLES, indirect=True)
def test_filter_choices_are_the_rules_rows(as_role, client):
    """The API's operator filter and the admin's operator filters offer exactly for_user's operators."""
    from types import SimpleNamespace

    from django.contrib.auth import get_user_model

    from apps.operators.api.filtersets import scoped_operators
    from apps.stations.models import Station

    user = get_user_model().objects.get(username=f"u_{as_role}")
    expected = set(Operator.objects.for_user(user).values_list("pk", flat=True))
    assert set(scoped_operators(SimpleNamespace(user=user)).values_list("pk", flat=True)) == expected
    sidebar = _SIDEBAR.search(client.get(_url(_model("stations.Station"), "changelist")).content.decode()).group()
    offered = set(re.findall(r"operator__operator_id__exact=([0-9A-Z]{9})", sidebar))
    # The station list's operator filter is "related only": the operators of the stations the rule shows (Django
    # leaves out a filter with one choice, as an operator manager's is).
    present = set(Station.objects.for_user(user).values_list("operator_id", flat=True))
    assert present <= expected and offered == (present if len(present) > 1 else set())


# -- the dashboard's figures are the rule's rows ------------------------------------------------------------------


@pytest.mark.parametrize("as_role", ROLES, indirect=True)
def test_dashboard_figures_are_the_rules_rows(as_role, client):
    """Each figure counts what for_user lets this person view: connectors, orders, runs, disputes, applications."""
    from datetime import datetime, time, timedelta

    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.utils import timezone

    from apps.interconnect.models import SyncRun
    from apps.onboarding.models import Application
    from apps.orders.models import ChargeOrder
    from apps.orders.selectors import with_trusted_times
    from apps.protocol import CST
    from apps.settlement.models import Dispute
    from apps.stations.models import Connector
    from apps.stations.selectors import listed_connectors
    from apps.supervision.dashboard import dashboard

    cache.clear()
    user = get_user_model().objects.get(username=f"u_{as_role}")
    figures = dashboard(user)
    connectors = listed_connectors().filter(pk__in=Connector.objects.for_user(user).values("pk"))
    assert figures.status_now.total == connectors.count() > 0
    since = datetime.combine(timezone.localdate() - timedelta(days=29), time.min, tzinfo=CST)
    orders = with_trusted_times(ChargeOrder.objects.for_user(user).filter(start_time__gte=since))
    assert sum(row.n for row in figures.orders.by_operator) == orders.count() > 0
    today = datetime.combine(timezone.localdate(), time.min, tzinfo=CST)
    assert (
        sum(row.runs for row in figures.exchange) == SyncRun.objects.for_user(user).filter(started__gte=today).count()
    )
    assert figures.disputes.n == Dispute.objects.for_user(user).filter(state="open").count()
    assert figures.pending_applications.n == Application.objects.for_user(user).filter(status="pending").count()
    if as_role == OPERATOR_MANAGER:
        own = Operator.objects.order_by("pk").first().pk
        assert {row.operator_id for row in figures.orders.by_operator} == {own}


def test_a_dashboard_figure_needs_the_view_permission_of_what_it_counts(demo, roles, client, django_user_model):  # noqa: F811
    """An operator's account holding only view_connector: the connectors figure, no orders, disputes or map."""
    from django.core.cache import cache

    from apps.stations.models import Connector
    from apps.stations.selectors import listed_connectors
    from apps.supervision.dashboard import dashboard, station_points

    cache.clear()
    user = _person(django_user_model, "stations.view_connector")
    figures = dashboard(user)
    connectors = listed_connectors().filter(pk__in=Connector.objects.for_user(user).values("pk"))
    assert figures.status_now.total == connectors.count() > 0
    assert (figures.orders, figures.disputes, figures.exchange, figures.stale) == (None, None, None, None)
    assert figures.charts["orders"] == [] and figures.charts["by_district"]
    assert station_points(user) is None
    client.force_login(user)
    html = client.get(reverse("admin:index")).content.decode()
    assert 'id="status-now"' in html and 'id="orders"' not in html and "待处理对账争议" not in html


@pytest.mark.parametrize("as_role", ROLES, indirect=True)
def test_admin_rows_are_the_rules_rows(as_role, client):
    """Every scoped admin list shows exactly for_user's rows (the list's own narrowing, e.g. listed only, aside)."""
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(username=f"u_{as_role}")
    request = client.get(reverse("admin:index")).wsgi_request
    checked = 0
    for model, model_admin in admin.site._registry.items():
        if not hasattr(model._default_manager.all(), "for_user") or not model_admin.has_view_permission(request):
            continue
        shown = set(model_admin.get_queryset(request).values_list("pk", flat=True))
        assert shown == set(model.objects.for_user(user).values_list("pk", flat=True)), model._meta.label
        checked += 1
    assert checked > 20
