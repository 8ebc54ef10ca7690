"""Exports of orders, findings, reconciliations and disputes: Chinese headers, the scope rule, names masked."""

import pytest
from django.urls import reverse

from tests import factories
from tests.factories import SHANGHAI

pytestmark = pytest.mark.django_db


@pytest.fixture
def books(directory):
    from datetime import datetime

    rows = {}
    for operator_id, conn in directory["connectors"].items():
        order = factories.order(conn, user_name="王小明")
        factories.OrderFindingFactory(
            order=order, report__received_at=datetime(2024, 1, 1, 13, tzinfo=SHANGHAI), category="price",
            rule="price_money", message="价", disputes=False,
        )  # fmt: skip
        run = factories.ReconciliationRunFactory(
            operator=conn.operator, check_order_seq=f"{operator_id}202401020100000001",
            received_at=datetime(2024, 1, 2, 1, tzinfo=SHANGHAI),
        )  # fmt: skip
        # The operator's list left the order out (reason 4): only the portal's figures.
        factories.DisputeFactory(
            run=run,
            start_charge_seq=order.start_charge_seq,
            reason=4,
            operator_power=None,
            operator_money=None,
            portal_power=order.total_power,
            portal_money=order.total_money,
        )
        rows[operator_id] = order.start_charge_seq
    return rows


def export(client, name: str, resource: str, fields: list[str]) -> str:
    data = {"format": "0", "resource": "0", **{f"{resource}_{f}": "on" for f in fields}}
    response = client.post(reverse(f"admin:{name}_export"), data)
    assert response.status_code == 200, response.content[:300]
    return response.content.decode("utf-8-sig")


@pytest.mark.parametrize(
    ("name", "resource", "fields"),
    [
        ("orders_chargeorder", "chargeorderresource", ["operator", "start_charge_seq", "user_name"]),
        ("orders_orderfinding", "orderfindingresource", ["operator", "order", "rule"]),
        ("settlement_reconciliationrun", "reconciliationrunresource", ["operator", "check_order_seq"]),
        ("settlement_dispute", "disputeresource", ["operator", "start_charge_seq", "reason"]),
    ],
)
def test_an_account_manager_exports_only_their_operators_rows(client, manager_a, books, name, resource, fields):
    client.force_login(manager_a)
    body = export(client, name, resource, fields)
    assert "123456789" in body and "MA59CU773" not in body
    assert "运营商ID" in body.splitlines()[0]


def test_order_exports_mask_the_customers_name(client, regulator, books):
    client.force_login(regulator)
    body = export(client, "orders_chargeorder", "chargeorderresource", ["start_charge_seq", "user_name"])
    assert "王**" in body and "王小明" not in body
    assert "客户名称" in body.splitlines()[0]


def test_the_order_list_filters_by_station_once_an_operator_is_chosen(client, regulator, directory, books):
    a, b = directory["a"], directory["b"]
    second = factories.station(a, "ST-SECOND")
    other = factories.order(
        factories.connector(factories.equipment(second, "EQ-SECOND"), "CN-SECOND"), start_charge_seq="x" * 27
    )
    client.force_login(regulator)
    url = reverse("admin:orders_chargeorder_changelist")

    page = client.get(url).content.decode()
    assert "ST-SECOND" not in page  # no operator chosen: no list of the city's stations

    page = client.get(url, {"operator__operator_id__exact": a.pk}).content.decode()
    assert f"?operator__operator_id__exact={a.pk}&amp;station=ST-SECOND" in page
    assert f"station=ST{b.operator_id}" not in page

    page = client.get(url, {"operator__operator_id__exact": a.pk, "station": "ST-SECOND"}).content.decode()
    assert other.start_charge_seq in page and books[a.operator_id] not in page
    page = client.get(url, {"station": f"ST{a.operator_id}"}).content.decode()
    assert books[a.operator_id] in page and other.start_charge_seq not in page


def test_the_order_page_shows_the_customers_name_masked(client, regulator, books):
    from apps.orders.models import ChargeOrder

    client.force_login(regulator)
    order = ChargeOrder.objects.get(start_charge_seq=next(iter(books.values())))
    page = client.get(reverse("admin:orders_chargeorder_change", args=[order.pk])).content.decode()
    assert "王**" in page and "王小明" not in page
