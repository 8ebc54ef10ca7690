"""The dashboard on the admin home: its figures equal what the database holds, every link opens its list, each role
sees its own scope."""

import re

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db.models import Count
from django.urls import reverse

from apps.core.roles import OPERATOR_MANAGER, REGULATOR
from apps.operators.models import Operator
from apps.stations.selectors import listed_connectors
from apps.supervision.dashboard import dashboard
from tests import factories
from tests.core.test_admin_pages import demo, demo_data  # noqa: F401 - fixtures


@pytest.fixture(autouse=True)
def _no_cached_figures():
    cache.clear()
    yield
    cache.clear()


def _login(client, django_user_model, role, operator=None):
    user = django_user_model.objects.create_user(username=f"d_{role}", password="pw-for-tests-only", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    if operator is not None:
        factories.OperatorAccountFactory(user=user, operator=operator)
    client.force_login(user)
    return user


def _block(html, element_id):
    start = html.index(f'id="{element_id}"')
    return html[start : html.index("</table>", start)]


def test_figures_equal_the_database_and_every_link_opens(demo, roles, client, django_user_model):  # noqa: F811
    user = _login(client, django_user_model, REGULATOR)
    html = client.get(reverse("admin:index")).content.decode()
    assert 'id="dashboard"' in html
    figures = dashboard(user)
    connectors = listed_connectors()
    assert figures.status_now.total == connectors.count() > 0
    by_status = dict(connectors.values_list("current_status__status").annotate(n=Count("pk")).order_by())
    assert sorted(figures.status_now.city) == sorted(by_status.values())
    city_row = re.search(r"<th>全市</th>(.*?)</tr>", _block(html, "status-now"), re.S).group(1)
    cells = re.findall(r"<td[^>]*>([\d,]+)</td>", city_row)
    assert [int(n.replace(",", "")) for n in cells][:-1] == figures.status_now.city
    assert sum(row.total for row in figures.status_now.districts) == connectors.count()
    # Each operator's orders over the 30 days equal the table's count; the chart's series add up to the days.
    from datetime import datetime, time, timedelta

    from django.utils import timezone

    from apps.orders.models import ChargeOrder
    from apps.protocol import CST

    since = datetime.combine(timezone.localdate() - timedelta(days=29), time.min, tzinfo=CST)
    expected = dict(ChargeOrder.objects.filter(start_time__gte=since).values_list("operator_id")
                    .annotate(n=Count("pk")).order_by())  # fmt: skip
    assert expected and {row.operator_id: row.n for row in figures.orders.by_operator} == expected
    assert sum(sum(series["data"]) for series in figures.charts["operator_orders"]) == sum(expected.values())
    block = html[html.index('id="dashboard"') : html.index('id="dashboard-charts"')]
    links = set(re.findall(r'href="(/admin/[^"]+)"', block))
    assert len(links) >= 5
    for link in links:
        page = client.get(link.replace("&amp;", "&"))
        assert page.status_code == 200, link
        assert "?e=1" not in page.get("Location", ""), link


def test_an_operator_manager_sees_their_operator_only(demo, roles, client, django_user_model):  # noqa: F811
    own = Operator.objects.order_by("pk").first()
    user = _login(client, django_user_model, OPERATOR_MANAGER, own)
    figures = dashboard(user)
    assert figures.status_now.total == listed_connectors().filter(operator=own).count()
    assert {e.operator_id for e in figures.exchange} <= {own.pk}
    assert {row.operator_id for row in figures.orders.by_operator} <= {own.pk}
    html = client.get(reverse("admin:index")).content.decode()
    assert html.index('id="operator-home"') < html.index('id="dashboard"')  # their inbox first


def test_figures_are_cached_per_scope(demo, roles, django_user_model):  # noqa: F811
    regulator = django_user_model.objects.create_user(username="r", is_staff=True)
    regulator.groups.add(Group.objects.get(name=REGULATOR))
    first = dashboard(regulator)
    from django.utils import timezone

    listed_connectors().filter(pk=listed_connectors().first().pk).update(removed_at=timezone.now())
    assert dashboard(regulator).status_now.total == first.status_now.total  # within the cache time
    cache.clear()
    assert dashboard(regulator).status_now.total == first.status_now.total - 1


@pytest.mark.django_db
def test_an_order_from_a_clock_running_ahead_is_never_counted(caller):
    """Two orders pushed now: one that ended an hour ago, one that says it ends in three hours. Only the first is
    today's activity, now and after its claimed time has come (the order's own arrival says it was impossible)."""
    from datetime import timedelta

    from django.utils import timezone

    from apps.core.roles import Scope
    from apps.orders.models import ChargeOrder
    from apps.protocol.names import Interface
    from apps.supervision.figures import orders_last_days
    from tests.caller import OPERATOR_ID
    from tests.orders.support import directory, order

    caller.login()
    directory()
    now = timezone.localtime()
    for start in (now - timedelta(hours=2), now + timedelta(minutes=30)):
        assert caller.call(Interface.NOTIFICATION_CHARGE_ORDER_INFO, order(start=start, minutes=60)).ret == 0
    assert ChargeOrder.objects.filter(operator_id=OPERATOR_ID).count() == 2
    orders = orders_last_days(
        Scope(operator_id=OPERATOR_ID)
    )  # the operator's scope: what its manager's dashboard shows
    assert sum(day.n for day in orders.days) == 1
    assert [row.n for row in orders.by_operator] == [1]


def _values(value):
    """Every value inside a figure: dataclass fields, list and tuple items, dict keys and values."""
    import dataclasses

    yield value
    if dataclasses.is_dataclass(value):
        children = [getattr(value, f.name) for f in dataclasses.fields(value)]
    elif isinstance(value, list | tuple):
        children = list(value)
    elif isinstance(value, dict):
        children = [*value.keys(), *value.values()]
    else:
        children = []
    for child in children:
        yield from _values(child)


def test_the_cached_figures_are_typed_values_without_model_instances(demo, roles, django_user_model):  # noqa: F811
    from django.db import models

    from apps.supervision.dashboard import Dashboard

    regulator = django_user_model.objects.create_user(username="r", is_staff=True)
    regulator.groups.add(Group.objects.get(name=REGULATOR))
    figures = dashboard(regulator)
    assert isinstance(figures, Dashboard)
    assert figures.stale or figures.testing or figures.exchange  # the demo has rows the old dicts held as instances
    assert not [v for v in _values(figures) if isinstance(v, models.Model | models.QuerySet)]


@pytest.mark.parametrize("role", [REGULATOR, OPERATOR_MANAGER])
def test_the_dashboard_costs_a_fixed_number_of_queries(
    demo,  # noqa: F811
    roles,
    django_user_model,
    django_assert_max_num_queries,
    django_assert_num_queries,
    role,
):
    user = django_user_model.objects.create_user(username=f"q_{role}", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    if role == OPERATOR_MANAGER:
        factories.OperatorAccountFactory(user=user, operator=Operator.objects.order_by("pk").first())
    user = django_user_model.objects.get(pk=user.pk)
    # Fourteen for the figures (one each; the exchange, orders, correctness and testing figures one more to name
    # their operators or reports), whatever the number of rows; then the scope's groups and operator account, and
    # the user's and groups' permissions (which figures this person may see).
    with django_assert_max_num_queries(18):
        assert dashboard(user) is not None
    with django_assert_num_queries(0):  # from the cache
        dashboard(user)
