"""Fixtures shared by the whole suite: people in each role and a small directory."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from apps.core.roles import OPERATOR_MANAGER, REGULATOR
from apps.core.services import roles_sync
from apps.interconnect.services import operator_provision
from apps.operators.models import OperatorAccount
from tests import factories
from tests.caller import OPERATOR_ID, Caller, keyset


@pytest.fixture(autouse=True)
def _no_caller_cache(settings):
    """Tests change operators mid-test and expect the next message to see it (test_caller_cache tests the cache)."""
    from apps.interconnect.keys import caller_cache_clear

    settings.HLHT_CALLER_CACHE_SECONDS = 0
    caller_cache_clear()
    yield
    caller_cache_clear()


@pytest.fixture
def roles(db):
    roles_sync()


@pytest.fixture
def directory(db):
    """Two operators, each with one station, one equipment and one connector."""
    a = factories.operator("123456789")
    b = factories.operator("MA59CU773")
    conns = {}
    for op in (a, b):
        st = factories.station(op, f"ST{op.operator_id}")
        eq = factories.equipment(st, f"EQ{op.operator_id}")
        conns[op.operator_id] = factories.connector(eq, f"CN{op.operator_id}")
    return {"a": a, "b": b, "connectors": conns}


def _staff(django_user_model, username: str, group: str | None):
    user = django_user_model.objects.create_user(username=username, password="pw-for-tests-only", is_staff=True)
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def regulator(db, roles, django_user_model):
    return _staff(django_user_model, "reg", REGULATOR)


@pytest.fixture
def manager_a(db, roles, directory, django_user_model):
    user = _staff(django_user_model, "mgr_a", OPERATOR_MANAGER)
    OperatorAccount.objects.create(user=user, operator=directory["a"])
    return user


@pytest.fixture
def provisioned(db) -> dict:
    """Operator 123456789, active, with both key sets (as operator_provision prints them)."""
    return operator_provision(operator_id=OPERATOR_ID, name="测试运营商", tel="400-000-0000")


@pytest.fixture
def caller(client, provisioned) -> Caller:
    return Caller(client=client, operator_id=OPERATOR_ID, keys=keyset(provisioned["inbound"]))
