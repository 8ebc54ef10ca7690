"""The operator's page by role: the primary key never changes, operator-owned data is the portal admins' to correct,
and what a regulator changes is kept with who, when and before/after."""

import re

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from apps.core.roles import PLATFORM_ADMIN
from apps.operators.models import Operator
from tests import factories

EDITABLE_BY_REGULATOR = ["status", "pull_info_minutes", "pull_full_minutes", "pull_status_minutes", "pull_stats_at",
                         "pull_policy_minutes", "pull_concurrency"]  # fmt: skip


def _form(operator: Operator, **changes) -> dict:
    data = {
        "operator_id": operator.operator_id, "operator_name": operator.operator_name,
        "operator_tel1": operator.operator_tel1, "operator_tel2": operator.operator_tel2,
        "operator_reg_address": operator.operator_reg_address, "operator_note": operator.operator_note,
        "kind": operator.kind, "endpoint_url": operator.endpoint_url,
        **{name: getattr(operator, name) for name in EDITABLE_BY_REGULATOR},
        "pull_stats_at": operator.pull_stats_at.strftime("%H:%M:%S"),
    }  # fmt: skip
    data.update(changes)
    return data


def _change(operator):
    return reverse("admin:operators_operator_change", args=[operator.pk])


@pytest.fixture
def operator(db):
    return factories.operator("123456789", status="testing")


@pytest.fixture
def platform_admin(db, roles, django_user_model):
    user = django_user_model.objects.create_user(username="pa", password="pw-for-tests-only", is_staff=True)
    user.groups.add(Group.objects.get(name=PLATFORM_ADMIN))
    return user


@pytest.mark.parametrize("who", ["superuser", "platform_admin", "regulator"])
def test_the_operator_id_cannot_be_edited(operator, client, django_user_model, who, request):
    user = (django_user_model.objects.create_superuser("root", password="x" * 12) if who == "superuser"
            else request.getfixturevalue(who))  # fmt: skip
    client.force_login(user)
    page = client.get(_change(operator))
    assert page.status_code == 200
    assert b'name="operator_id"' not in page.content  # shown as text
    client.post(_change(operator), _form(operator, operator_id="987654321"))
    assert list(Operator.objects.values_list("pk", flat=True)) == ["123456789"]  # no copy saved under a new key


def test_regulator_reads_operator_owned_data_and_changes_the_lifecycle(operator, client, regulator):
    client.force_login(regulator)
    page = client.get(_change(operator)).content.decode()
    for name in ("operator_name", "operator_tel1", "operator_reg_address", "endpoint_url", "kind"):
        assert f'name="{name}"' not in page, name
    for name in ("status", "pull_status_minutes", "dialect_bare_token"):
        assert f'name="{name}"' in page, name
    answer = client.post(_change(operator), _form(operator, operator_name="改名", status="suspended",
                                                  pull_status_minutes=10))  # fmt: skip
    assert answer.status_code == 302, answer.content.decode()[:2000]
    operator.refresh_from_db()
    assert operator.operator_name != "改名"
    assert (operator.status, operator.pull_status_minutes) == ("suspended", 10)
    # Audited: who, when, before and after, on the operator's history page.
    last = operator.history.latest()
    assert last.history_user == regulator
    delta = last.diff_against(last.prev_record)
    assert {(c.field, c.old, c.new) for c in delta.changes} == {("status", "testing", "suspended"),
                                                              ("pull_status_minutes", 5, 10)}  # fmt: skip
    history = client.get(reverse("admin:operators_operator_history", args=[operator.pk])).content.decode()
    flat = " ".join(history.split())
    assert f">{regulator.username}</a>" in flat
    text = " ".join(re.sub(r"<[^>]+>|&[a-z]+;", " ", history).split())  # what a person reads, whatever the markup
    assert re.search(r"接入状态: testing \S* ?suspended", text), text[:2000]


def test_platform_admin_corrects_operator_owned_data(operator, client, platform_admin):
    client.force_login(platform_admin)
    answer = client.post(_change(operator), _form(operator, operator_name="更正后的名称"))
    assert answer.status_code == 302
    operator.refresh_from_db()
    assert operator.operator_name == "更正后的名称"
    assert operator.history.latest().history_user == platform_admin


def test_operator_manager_cannot_change_their_operator(operator, client, django_user_model, roles):
    from apps.core.roles import OPERATOR_MANAGER

    user = django_user_model.objects.create_user(username="m", password="pw-for-tests-only", is_staff=True)
    user.groups.add(Group.objects.get(name=OPERATOR_MANAGER))
    factories.OperatorAccountFactory(user=user, operator=operator)
    client.force_login(user)
    assert client.get(_change(operator)).status_code == 200
    assert client.post(_change(operator), _form(operator, status="active")).status_code == 403
    operator.refresh_from_db()
    assert operator.status == "testing"
