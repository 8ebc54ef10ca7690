"""Admin composition: apps above add to a lower app's admin through named extension points, never by replacing it."""

import re
from pathlib import Path

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.urls import reverse

from apps.core.admin import AdminExtensions
from apps.interconnect.admin import RejectedRecordAdmin
from apps.interconnect.models import RejectedRecord
from apps.operators.admin import OperatorAdmin
from apps.operators.models import Operator, OperatorAccount
from tests import factories

APPS = Path(__file__).resolve().parents[2] / "apps"


def test_each_model_keeps_its_own_apps_admin():
    assert type(admin.site._registry[Operator]) is OperatorAdmin
    assert type(admin.site._registry[RejectedRecord]) is RejectedRecordAdmin


def test_no_app_unregisters_an_admin_or_puts_the_request_on_an_instance():
    sources = {path: path.read_text() for path in APPS.rglob("*.py")}
    assert [str(p) for p, text in sources.items() if re.search(r"site\.unregister\(", text)] == []
    assert [str(p) for p, text in sources.items() if "_viewer" in text or "_journal_visible" in text] == []


def test_what_each_app_added_is_registered_by_name():
    operators = OperatorAdmin.extensions
    assert list(operators.columns) == ["station_count", "health", "last_status_data", "last_info_pull",
                                       "stale_connectors"]  # fmt: skip
    assert list(operators.filters) == ["stale"]
    assert list(operators.panels) == ["onboarding", "health"]
    assert list(operators.form_fields) == ["activation_override"]
    rejected = RejectedRecordAdmin.extensions
    assert (list(rejected.filters), list(rejected.urls), list(rejected.tools)) == (["rule"], ["quality"], ["quality"])
    assert reverse("admin:interconnect_rejectedrecord_quality").endswith("/interconnect/rejectedrecord/quality/")


def test_a_name_is_registered_once():
    extensions = AdminExtensions()
    extensions.panel("p", "标题", lambda request, obj: "")
    with pytest.raises(ValueError, match="registered twice"):
        extensions.panel("p", "另一个", lambda request, obj: "")


def test_each_admin_class_has_its_own_registry():
    class Other(OperatorAdmin):
        pass

    assert Other.extensions is not OperatorAdmin.extensions and not Other.extensions.columns


def test_the_operator_list_has_the_added_columns_before_updated(client, regulator):
    factories.operator("MA0LISTED")
    client.force_login(regulator)
    page = client.get(reverse("admin:operators_operator_changelist")).content.decode()
    headers = re.findall(r'<th class="[^"]*\bcolumn-(\w+)[^"]*" scope="col"', page)
    assert headers[-6:] == ["station_count", "health", "last_status_data", "last_info_pull", "stale_connectors",
                            "updated"]  # fmt: skip
    assert "数据状态" in page  # the stale filter's title
    assert "/operators/operator/export/" in page  # import-export's own buttons are kept


@pytest.mark.django_db
def test_the_panels_show_what_this_person_may_do(client, regulator, django_user_model):
    operator = factories.operator("MA0PANELS")
    url = reverse("admin:operators_operator_change", args=[operator.pk])
    client.force_login(regulator)
    page = client.get(url).content.decode()
    assert "运行状况" in page and "一致性检测" in page and "尚未检测" in page
    assert reverse("admin:onboarding_conformancereport_run", args=[operator.pk]) in page  # regulators may run it
    reader = django_user_model.objects.create_user("reader", is_staff=True)
    reader.user_permissions.add(Permission.objects.get(codename="view_operator"))
    OperatorAccount.objects.create(user=reader, operator=operator)
    client.force_login(reader)
    page = client.get(url).content.decode()
    assert "一致性检测" in page and "尚未检测" in page
    assert reverse("admin:onboarding_conformancereport_run", args=[operator.pk]) not in page  # per request


def test_the_activation_override_sits_after_the_status(client, regulator):
    operator = factories.operator("MA0FORM01")
    client.force_login(regulator)
    page = client.get(reverse("admin:operators_operator_change", args=[operator.pk])).content.decode()
    start = re.search(r"<fieldset[^>]*>\s*<h2[^>]*>\s*接入\s*<", page).start()  # the fieldset, not the sidebar's group
    fieldset = page[start : page.index("</fieldset>", start)]
    assert fieldset.index('name="status"') < fieldset.index('name="activation_override"')


def test_the_rejected_records_list_links_the_quality_report(client, regulator):
    client.force_login(regulator)
    page = client.get(reverse("admin:interconnect_rejectedrecord_changelist")).content.decode()
    assert reverse("admin:interconnect_rejectedrecord_quality") in page and "数据质量报告" in page
    assert "违反的规则" in page  # the rule filter


def test_the_conformance_reports_journal_links_follow_the_reader(client, regulator, manager_a):
    from django.utils import timezone

    from apps.onboarding.models import ConformanceReport

    now = timezone.now()
    report = ConformanceReport.objects.create(
        operator=manager_a.operator_account.operator, started=now, finished=now, passed=True, checks=[],
        exchanges=[{"id": 7, "interface": "query_token", "direction": "out", "ret": 0}],
    )  # fmt: skip
    url = reverse("admin:onboarding_conformancereport_change", args=[report.pk])
    journal = reverse("admin:interconnect_exchange_changelist") + "7/change/"
    client.force_login(regulator)
    page = client.get(url).content.decode()
    assert "交换的报文（报文日志）" in page and journal in page
    client.force_login(manager_a)  # may not open the journal: the same lines, unlinked
    page = client.get(url).content.decode()
    assert "out query_token Ret 0" in page and journal not in page
