"""Price supervision: the daily policy pull over real HTTP, versions only when periods change, the price at a moment,
policies against the station's published fees, and the portal answering query_equip_business_policy."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from apps.interconnect.models import SyncRun
from apps.operators.models import Operator
from apps.pricing.models import BusinessPolicy, PolicyCheck
from apps.pricing.pulls import connectors_due, slice_size
from apps.pricing.rules import published_fee_mismatches
from apps.pricing.selectors import connector_price_at, period_at, versions_of
from apps.pricing.services import policy_check_record, policy_observe
from apps.protocol import CST, Ret
from apps.protocol.names import Interface
from apps.simulator.tariff import TARIFFS
from apps.stations.models import Connector
from apps.stations.pulls import stations_info_pull
from tests import factories
from tests.orders.support import TARIFF, directory
from tests.simulator.support import SIM_ID

pytestmark = pytest.mark.django_db
POLICY = Interface.QUERY_EQUIP_BUSINESS_POLICY


def infos(rows=TARIFF):
    return [{"StartTime": s, "ElecPrice": Decimal(e), "SevicePrice": Decimal(v)} for s, e, v in rows]


def test_a_new_version_only_when_the_periods_change(provisioned):
    connector = directory()
    first = BusinessPolicy.objects.get()
    again, created = policy_observe(connector=connector, infos=infos(), observed_at=timezone.now())
    assert (again, created) == (first, False)
    cheaper = [(s, e, "0.6000") for s, e, _ in TARIFF]
    changed_at = timezone.now()
    second, created = policy_observe(connector=connector, infos=infos(cheaper), observed_at=changed_at)
    assert created and second.effective_from == changed_at
    assert [p.sevice_price for p in second.periods.order_by("start_time")] == [Decimal("0.6000")] * 7
    assert BusinessPolicy.objects.count() == 2


def test_the_price_at_a_moment_follows_versions_and_periods(provisioned):
    connector = directory()  # in force since 2026-01-01
    cheaper = [(s, e, "0.6000") for s, e, _ in TARIFF]
    policy_observe(connector=connector, infos=infos(cheaper), observed_at=datetime(2026, 6, 1, tzinfo=CST))
    peak = connector_price_at(connector.pk, datetime(2026, 3, 1, 10, 0, tzinfo=CST))
    assert (peak.period_start, peak.elec_price, peak.sevice_price) == ("100000", Decimal("1.1802"), Decimal("0.8000"))
    before_peak = connector_price_at(connector.pk, datetime(2026, 3, 1, 9, 59, 59, tzinfo=CST))
    assert before_peak.period_start == "070000"
    night = connector_price_at(connector.pk, datetime(2026, 7, 1, 23, 30, tzinfo=CST))
    assert (night.period_start, night.elec_price, night.sevice_price) == (
        "230000",
        Decimal("0.3370"),
        Decimal("0.6000"),
    )
    assert connector_price_at(connector.pk, datetime(2025, 12, 31, tzinfo=CST)) is None  # before any version


def test_a_policy_that_leaves_the_night_uncovered_has_no_price_then(provisioned):
    versions = versions_of([directory().pk])
    periods = [p for p in versions[next(iter(versions))][0].periods.all() if p.start_time != "000000"]
    assert period_at(periods, datetime(2026, 3, 1, 3, 0, tzinfo=CST)) is None


def test_policies_are_compared_with_the_fees_the_station_publishes(provisioned):
    connector = directory()  # its station publishes 1.1802 / 0.7286 / 0.3370 and 0.8
    periods = list(BusinessPolicy.objects.get().periods.all())
    assert published_fee_mismatches(connector.station, periods) == []
    connector.station.electricity_fee = "峰1.20 平0.73 谷0.34 元/度"
    reasons = published_fee_mismatches(connector.station, periods)
    # 0.73 and 0.34 are the policy's 0.7286 and 0.3370 rounded to the fen: published; 1.20 is not 1.1802.
    assert len(reasons) == 1 and "1.1802" in reasons[0] and "0.3370" not in reasons[0]
    connector.station.electricity_fee = "详见现场公示"
    assert published_fee_mismatches(connector.station, periods) == []  # no figure published: nothing to compare


def test_a_slice_of_the_connectors_is_asked_each_time_longest_unasked_first(provisioned):
    operator = Operator.objects.get(pk="123456789")
    station = factories.station(operator, "S1")
    equipment = factories.equipment(station, "E1")
    connectors = [factories.connector(equipment, f"C{n:02d}") for n in range(10)]
    assert slice_size(10, 30) == 1 and slice_size(200_000, 30) == 5209 and slice_size(10, 1440) == 13
    now = timezone.now()
    for n, connector in enumerate(connectors[:5]):
        policy_check_record(connector=connector, checked_at=now - timedelta(hours=30 - n), succ_stat=0,
                            fail_reason=0, equip_biz_seq="", policy=None)  # fmt: skip
    policy_check_record(connector=connectors[5], checked_at=now - timedelta(hours=1), succ_stat=0, fail_reason=0,
                        equip_biz_seq="", policy=None)  # fmt: skip
    operator.pull_policy_minutes = 240  # 6 runs a day: ceil(10 / 6 × 1.25) = 3 a run
    due = connectors_due(operator, now=now, full=False)
    assert [c.connector_id for c in due] == ["C06", "C07", "C08"]  # never asked first
    everything = connectors_due(operator, now=now, full=True)
    assert len(everything) == 10 and everything[-1].connector_id == "C05"  # asked an hour ago: last


def test_the_policy_pull_over_http_versions_only_real_changes(platform):
    sim = platform(stations=4)
    operator = Operator.objects.get(pk=SIM_ID)
    assert stations_info_pull(operator=operator, full=True).status == "succeeded"
    listed = Connector.objects.filter(operator=operator).count()

    out = StringIO()
    call_command("hlht_pull", operator_id=SIM_ID, interface=POLICY, full=True, stdout=out)
    summary = json.loads(out.getvalue())
    assert summary == {"interface": POLICY, "status": "succeeded", "pages": listed, "created": listed, "updated": 0,
                       "unchanged": 0, "rejected": 0, "error": None}  # fmt: skip
    assert BusinessPolicy.objects.filter(operator=operator).count() == listed == PolicyCheck.objects.count()
    station = sim.directory.stations[0]
    connector = station.equipments[0].connectors[0]
    version = BusinessPolicy.objects.get(connector__connector_id=connector.id)
    expected = station.tariff.policy_infos()
    assert [(p.start_time, p.elec_price, p.sevice_price) for p in version.periods.order_by("start_time")] == [
        (i["StartTime"], i["ElecPrice"], i["SevicePrice"]) for i in expected
    ]

    out = StringIO()
    call_command("hlht_pull", operator_id=SIM_ID, interface=POLICY, full=True, stdout=out)
    assert json.loads(out.getvalue())["unchanged"] == listed
    assert BusinessPolicy.objects.filter(operator=operator).count() == listed  # the same tariff: no new version

    station.tariff_index = (station.tariff_index + 1) % len(TARIFFS)  # the operator changes one station's tariff
    out = StringIO()
    call_command("hlht_pull", operator_id=SIM_ID, interface=POLICY, full=True, stdout=out)
    changed = sum(len(e.connectors) for e in station.equipments)
    assert json.loads(out.getvalue())["created"] == changed
    assert BusinessPolicy.objects.filter(connector__connector_id=connector.id).count() == 2
    assert SyncRun.objects.filter(interface=POLICY, status="succeeded").count() == 3


def test_the_portal_answers_query_equip_business_policy_for_the_callers_connector(caller):
    caller.login()
    directory()
    seq = "123456789" + "202612010000000001"
    answer = caller.call(POLICY, {"EquipBizSeq": seq, "ConnectorID": "C1"})
    assert answer.ret == Ret.OK and answer.data["SuccStat"] == 0 and answer.data["SumPeriod"] == 7
    assert answer.data["PolicyInfos"][2] == {"StartTime": "100000", "ElecPrice": Decimal("1.1802"),
                                             "SevicePrice": Decimal("0.8000")}  # fmt: skip
    missing = caller.call(POLICY, {"EquipBizSeq": seq, "ConnectorID": "NOPE"})
    assert (missing.data["SuccStat"], missing.data["FailReason"], missing.data["PolicyInfos"]) == (1, 1, [])


def test_the_admin_shows_a_connectors_price_at_any_moment(provisioned, client, regulator):
    connector = directory()
    client.force_login(regulator)
    url = reverse("admin:pricing_businesspolicy_price")
    page = client.get(url, {"operator": connector.operator_id, "connector_id": "C1", "moment": "2026-03-01 10:30"})
    html = page.content.decode()
    assert page.status_code == 200 and "1.1802" in html and "10:00 起" in html and "一致" in html
    before = client.get(url, {"operator": connector.operator_id, "connector_id": "C1", "moment": "2025-01-01 10:30"})
    assert "没有在用的业务策略" in before.content.decode()
    bad = client.get(url, {"operator": connector.operator_id, "connector_id": "C1", "moment": "明天"})
    assert "时间" in bad.content.decode() and "errorlist" in bad.content.decode()
