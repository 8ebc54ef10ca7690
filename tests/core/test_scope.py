"""The one scope rule: regulators see the city, an operator's staff see only their operator, others nothing."""

import pytest
from django.contrib.auth.models import AnonymousUser

from apps.core.services import roles_sync
from apps.operators.models import Operator
from apps.orders.models import ChargeOrder
from apps.stations.models import Connector, ConnectorStatusHistory, Station
from tests import factories


def test_regulator_sees_all(directory, regulator):
    assert Station.objects.for_user(regulator).count() == 2
    assert Operator.objects.for_user(regulator).count() == 2


def test_operator_manager_sees_only_own(directory, manager_a):
    assert list(Station.objects.for_user(manager_a).values_list("operator_id", flat=True)) == ["123456789"]
    assert list(Operator.objects.for_user(manager_a)) == [directory["a"]]
    conn = directory["connectors"]["MA59CU773"]
    factories.order(conn)
    assert ChargeOrder.objects.for_user(manager_a).count() == 0
    assert Connector.objects.for_user(manager_a).get().operator_id == "123456789"


def test_scope_through_a_join(directory, manager_a):
    from django.utils import timezone

    for conn in directory["connectors"].values():
        factories.ConnectorStatusHistoryFactory(connector=conn, status_time=timezone.now())
    assert ConnectorStatusHistory.objects.for_user(manager_a).get().connector.operator_id == "123456789"


@pytest.mark.parametrize("who", ["anonymous", "plain_staff", "inactive_regulator"])
def test_nobody_else_sees_anything(directory, regulator, django_user_model, who):
    if who == "anonymous":
        user = AnonymousUser()
    elif who == "plain_staff":
        user = django_user_model.objects.create_user("plain", is_staff=True)
    else:
        regulator.is_active = False
        user = regulator
    assert Station.objects.for_user(user).count() == 0


def test_superuser_sees_all(directory, django_user_model):
    admin = django_user_model.objects.create_superuser("root", password="x" * 12)
    assert Station.objects.for_user(admin).count() == 2


def test_roles_sync_is_idempotent(db):
    first = roles_sync()
    assert roles_sync() == first
    assert first["regulator"] > 0 and first["platform_admin"] > first["regulator"]


def test_django_field_filters_are_replaced_by_scoped_ones():
    from django.contrib import admin

    from apps.core.admin import (
        ScopedAllValuesFieldListFilter,
        ScopedRelatedFieldListFilter,
        ScopedRelatedOnlyFieldListFilter,
        scoped_list_filter,
    )
    from apps.settlement.models import Dispute

    assert scoped_list_filter(Dispute, "run") == ("run", ScopedRelatedFieldListFilter)
    assert scoped_list_filter(Dispute, ("operator", admin.RelatedOnlyFieldListFilter)) == (
        "operator",
        ScopedRelatedOnlyFieldListFilter,
    )
    assert scoped_list_filter(Dispute, "run__check_order_seq") == (
        "run__check_order_seq",
        ScopedAllValuesFieldListFilter,
    )
    assert scoped_list_filter(Dispute, "state") == "state"  # fixed choices
