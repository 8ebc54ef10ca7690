"""Data quality: the district, ID and uniqueness rules, the report selectors, and the admin's data-quality page."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from html import unescape
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from apps.demo.data import SITES
from apps.interconnect.models import RejectedRecord, SyncRun
from apps.operators.models import Operator
from apps.protocol.beijing import CITY, DISTRICTS, MARGIN
from apps.simulator import geography as sim_geography
from apps.simulator.directory import Directory
from apps.stations.rules import BEIJING_AREA_CODES, station_problems
from apps.supervision.rules import RULE_LABELS
from apps.supervision.selectors import (
    Correctness,
    correctness,
    correctness_by_operator,
    quality_report,
    quality_report_by_operator,
)
from tests import factories
from tests.simulator.support import START

OP = "123456789"
OTHER = "MA59CU773"
BJ = ZoneInfo("Asia/Shanghai")
# public-information.md appendix, copied by hand: the table in geography.py must name exactly these 16.
APPENDIX = {
    "110101": "东城区", "110102": "西城区", "110105": "朝阳区", "110106": "丰台区", "110107": "石景山区",
    "110108": "海淀区", "110109": "门头沟区", "110111": "房山区", "110112": "通州区", "110113": "顺义区",
    "110114": "昌平区", "110115": "大兴区", "110116": "怀柔区", "110117": "平谷区", "110118": "密云区",
    "110119": "延庆区",
}  # fmt: skip
YANQING = (Decimal("115.975000"), Decimal("40.456500"))


def _station(**overrides: Any) -> dict[str, Any]:
    """A valid StationInfo of operator OP in Chaoyang with two DC piles of two guns each."""
    info = {
        "StationID": "110105000001",
        "OperatorID": OP,
        "EquipmentOwnerID": OP,
        "StationName": "朝阳公园充电站",
        "CountryCode": "CN",
        "AreaCode": "110105",
        "Address": "北京市朝阳区朝阳公园南路1号",
        "ServiceTel": "4001234567",
        "StationType": 1,
        "StationStatus": 50,
        "ParkNums": 4,
        "StationLng": Decimal("116.480881"),
        "StationLat": Decimal("39.933406"),
        "Construction": 9,
        "EquipmentInfos": [
            {
                "EquipmentID": f"110105000001{e:03d}",
                "ManufacturerID": "MA01SIM01",
                "EquipmentType": 1,
                "Power": Decimal("120.0"),
                "ConnectorInfos": [
                    {
                        "ConnectorID": f"110105000001{e:03d}{c:02d}",
                        "ConnectorType": 4,
                        "VoltageUpperLimits": 750,
                        "VoltageLowerLimits": 200,
                        "Current": 120,
                        "Power": Decimal("60.0"),
                        "NationalStandard": 2,
                    }
                    for c in (1, 2)
                ],
            }
            for e in (1, 2)
        ],
    }
    info.update(overrides)
    return info


def _rules(info: dict[str, Any]) -> set[str]:
    return {p.rule for p in station_problems(info, operator_id=OP)}


# -- the district rule -------------------------------------------------------------------------------------------------


def test_the_district_table_is_the_appendix() -> None:
    assert {code: d.name for code, d in DISTRICTS.items()} == APPENDIX
    assert frozenset(APPENDIX) == BEIJING_AREA_CODES
    for d in DISTRICTS.values():
        assert d.bounds.lng_min < d.bounds.lng_max and d.bounds.lat_min < d.bounds.lat_max
        # The centre of the built-up core (where the simulator clusters stations) lies inside the district's box.
        assert d.bounds.contains(d.centre_lng, d.centre_lat)
        assert CITY.contains(d.centre_lng, d.centre_lat)


def test_a_chaoyang_station_with_yanqing_coordinates_is_rejected_with_a_message_naming_the_district() -> None:
    lng, lat = YANQING
    problems = station_problems(_station(StationLng=lng, StationLat=lat), operator_id=OP)
    assert [p.rule for p in problems] == ["district"]
    message = problems[0].message
    assert "110105" in message and "朝阳区" in message
    assert "115.975000" in message and "40.456500" in message
    # The same coordinates under Yanqing's code are fine.
    assert _rules(_station(AreaCode="110119", StationLng=lng, StationLat=lat)) == set()


def test_the_stock_station_passes() -> None:
    assert station_problems(_station(), operator_id=OP) == []


def _centre(code: str) -> tuple[Decimal, Decimal]:
    d = DISTRICTS[code]
    six = Decimal("0.000001")
    box = d.bounds
    return ((box.lng_min + box.lng_max) / 2).quantize(six), ((box.lat_min + box.lat_max) / 2).quantize(six)


@pytest.mark.parametrize("code", sorted(APPENDIX))
def test_each_district_accepts_its_own_centre_and_rejects_other_districts_centres(code: str) -> None:
    d = DISTRICTS[code]
    lng, lat = _centre(code)
    assert _rules(_station(AreaCode=code, StationLng=lng, StationLat=lat)) == set()
    # Within the margin is still accepted (boxes are rough); a little past it is not.
    assert d.contains(d.bounds.lng_max + MARGIN, d.bounds.lat_min - MARGIN)
    assert not d.contains(d.bounds.lng_max + MARGIN + Decimal("0.001"), lat)
    elsewhere = [other for other in APPENDIX if not d.contains(*_centre(other))]
    assert len(elsewhere) >= 5  # boxes of neighbours overlap, but no box covers most of the city
    for other in elsewhere:
        far_lng, far_lat = _centre(other)
        assert _rules(_station(AreaCode=code, StationLng=far_lng, StationLat=far_lat)) == {"district"}


def test_demo_sites_lie_in_their_districts() -> None:
    for area_code, place, lng, lat, _ in SITES:
        assert DISTRICTS[area_code].contains(Decimal(lng), Decimal(lat)), place
        assert _rules(_station(AreaCode=area_code, StationLng=Decimal(lng), StationLat=Decimal(lat))) == set()


def test_coordinates_outside_beijing_or_china_are_one_problem_not_also_a_district_one() -> None:
    assert _rules(_station(StationLng=Decimal("2.352221"), StationLat=Decimal("48.856613"))) == {"china"}
    assert _rules(_station(StationLng=Decimal("121.473701"), StationLat=Decimal("31.230416"))) == {"beijing"}
    # Not a Beijing code: that is the problem; there is no district to compare with.
    assert _rules(_station(AreaCode="120101")) == {"area_code"}


def test_the_simulators_spread_stays_inside_the_district_boxes() -> None:
    # directory.py draws lat = centre ± 2.2·spread and lng = centre ± 2.2·1.3·spread at the widest.
    for sd in sim_geography.DISTRICTS:
        d = DISTRICTS[sd.code]
        assert d.name == sd.name
        dlat, dlng = 2.2 * sd.spread, 2.2 * 1.3 * sd.spread
        for lng in (sd.lng - dlng, sd.lng + dlng):
            for lat in (sd.lat - dlat, sd.lat + dlat):
                assert d.contains(round(lng, 6), round(lat, 6)), (sd.code, lng, lat)


@pytest.mark.parametrize("seed", [1, 20161110])
def test_a_simulated_world_of_3000_stations_breaks_no_rule(seed: int) -> None:
    directory = Directory(OP, seed, 3000, START.timestamp())
    seen = set()
    for st in directory.stations:
        info = directory.station_info(st)
        seen.add(info["AreaCode"])
        problems = station_problems(info, operator_id=OP)
        assert problems == [], (info["StationID"], [p.message for p in problems])
    assert seen == set(APPENDIX)  # every district was exercised


# -- IDs and uniqueness ------------------------------------------------------------------------------------------------


def test_duplicate_equipment_id_within_a_station_is_rejected() -> None:
    info = _station()
    info["EquipmentInfos"][1]["EquipmentID"] = info["EquipmentInfos"][0]["EquipmentID"]
    for n, connector in enumerate(info["EquipmentInfos"][1]["ConnectorInfos"]):
        connector["ConnectorID"] = f"X{n}"  # keep the connectors unique: only the equipment repeats
    problems = station_problems(info, operator_id=OP)
    assert [(p.path, p.rule) for p in problems] == [("EquipmentInfos[1].EquipmentID", "unique")]
    assert "重复" in problems[0].message


def test_duplicate_connector_id_across_the_stations_equipment_is_rejected() -> None:
    info = _station()
    info["EquipmentInfos"][1]["ConnectorInfos"][0]["ConnectorID"] = info["EquipmentInfos"][0]["ConnectorInfos"][1][
        "ConnectorID"
    ]
    problems = station_problems(info, operator_id=OP)
    assert [(p.path, p.rule) for p in problems] == [("EquipmentInfos[1].ConnectorInfos[0].ConnectorID", "unique")]


def test_duplicate_connector_id_on_one_pile_is_rejected() -> None:
    info = _station()
    guns = info["EquipmentInfos"][0]["ConnectorInfos"]
    guns[1]["ConnectorID"] = guns[0]["ConnectorID"]
    assert _rules(info) == {"unique"}


@pytest.mark.parametrize(
    ("field", "value", "rule"),
    [
        ("OperatorID", "12345678", "fixed_len"),
        ("OperatorID", "1234567890", "fixed_len"),
        ("OperatorID", "MA01-BJ01", "format"),
        ("EquipmentOwnerID", "12345678", "fixed_len"),
        ("StationID", "1" * 21, "max_len"),
        ("AreaCode", "1101050", "area_code"),
        ("StationType", 7, "enum"),
        ("StationName", "站" * 51, "max_len"),
    ],
)
def test_nine_character_ids_lengths_and_enums(field: str, value: Any, rule: str) -> None:
    assert rule in _rules(_station(**{field: value}))


def test_manufacturer_and_connector_id_limits() -> None:
    info = _station()
    info["EquipmentInfos"][0]["ManufacturerID"] = "MA01SIM1"
    info["EquipmentInfos"][0]["ConnectorInfos"][0]["ConnectorID"] = "C" * 27
    assert _rules(info) == {"fixed_len", "max_len"}


def test_every_rule_code_has_a_chinese_label() -> None:
    info = _station(StationLng=YANQING[0], StationLat=YANQING[1], OperatorID=OTHER)
    info["EquipmentInfos"][0]["Power"] = Decimal("1200.0")
    info["EquipmentInfos"][0]["ConnectorInfos"][0]["VoltageUpperLimits"] = 2000
    codes = {p.rule for p in station_problems(info, operator_id=OP)}
    assert codes == {"district", "operator", "power", "voltage"}
    assert codes <= set(RULE_LABELS)


# -- selectors -------------------------------------------------------------------------------------------------------


def _at(*args: int) -> datetime:
    return datetime(*args, tzinfo=BJ)


def _rejected(operator_id: str, when: datetime, rules: Any, interface: str = "query_stations_info") -> RejectedRecord:
    row = factories.RejectedRecordFactory(
        operator=Operator.objects.get(pk=operator_id), run=None, interface=interface, record_key=f"K{when:%d%H%M}",
        rules=rules, reasons=[],
    )  # fmt: skip
    RejectedRecord.objects.filter(pk=row.pk).update(created=when)  # `created` is auto_now_add
    return row


def _run(operator_id: str, when: datetime, *, interface: str = "query_stations_info", **counts: int) -> SyncRun:
    run = factories.SyncRunFactory(
        operator=Operator.objects.get(pk=operator_id), interface=interface, status="succeeded", **counts
    )
    SyncRun.objects.filter(pk=run.pk).update(started=when)
    return run


@pytest.fixture
def rejections(db) -> None:
    factories.operator(OP)
    factories.operator(OTHER)
    _rejected(OP, _at(2024, 4, 30, 23, 59), ["enum"])  # before the period
    _rejected(OP, _at(2024, 5, 1, 10, 0), ["district"])
    _rejected(OP, _at(2024, 5, 1, 23, 30), ["district", "unique"])  # 15:30 UTC: still 1 May in Beijing
    _rejected(OP, _at(2024, 5, 2, 0, 10), ["enum"], interface="query_station_status")  # 1 May in UTC
    _rejected(OP, _at(2024, 5, 3, 12, 0), [])
    _rejected(OTHER, _at(2024, 5, 1, 12, 0), ["power"])


D1, D2, D3 = date(2024, 5, 1), date(2024, 5, 2), date(2024, 5, 3)


def test_quality_report_counts_each_rule_per_beijing_day(rejections) -> None:
    report = quality_report(OP, since=D1, until=D3)
    assert report.periods == (D1, D2, D3)
    assert report.records == {D1: 2, D2: 1, D3: 1}
    assert report.total_records == 4
    assert report.by_rule == {D1: {"district": 2, "unique": 1}, D2: {"enum": 1}, D3: {"unknown": 1}}
    assert report.totals == {"district": 2, "unique": 1, "enum": 1, "unknown": 1}
    assert report.rules == ("district", "enum", "unique", "unknown")  # most broken first, then by code
    assert report.rows() == [(D1, 2, [2, 0, 1, 0]), (D2, 1, [0, 1, 0, 0]), (D3, 1, [0, 0, 0, 1])]
    assert report.rule_columns[0] == ("district", "坐标与所属区县不符", 2)


def test_quality_report_by_operator(rejections) -> None:
    everyone = quality_report_by_operator(None, since=D1, until=D3)
    assert set(everyone) == {OP, OTHER}  # those with rejections in the span
    both = quality_report_by_operator([OP, OTHER, "NOBODY000"], since=D1, until=D3)
    assert both[OTHER].totals == {"power": 1}
    assert both["NOBODY000"].total_records == 0 and both["NOBODY000"].periods == (D1, D2, D3)


def test_quality_report_bounds_buckets_and_interface(rejections) -> None:
    # Open bounds: every record, periods only where there is data.
    assert quality_report(OP).records == {date(2024, 4, 30): 1, D1: 2, D2: 1, D3: 1}
    # A datetime `until` is excluded: the 00:10 record on 2 May is left out.
    assert quality_report(OP, since=D1, until=_at(2024, 5, 2, 0, 10)).total_records == 2
    assert quality_report(OP, since=D1, until=D3, interface="query_stations_info").totals.get("enum") is None
    week = quality_report(OP, since=D1, until=D3, bucket="week")
    assert week.periods == (date(2024, 4, 29),) and week.records == {date(2024, 4, 29): 4}
    month = quality_report(OP, since=date(2024, 4, 1), until=D3, bucket="month")
    assert month.periods == (date(2024, 4, 1), D1) and month.records == {date(2024, 4, 1): 1, D1: 4}
    with pytest.raises(ValueError, match="bucket"):
        quality_report(OP, bucket="hour")  # type: ignore[arg-type]


@pytest.fixture
def runs(db) -> None:
    factories.operator(OP)
    factories.operator(OTHER)
    _run(OP, _at(2024, 5, 1, 8, 0), created_count=100, updated_count=50, unchanged_count=9849, rejected_count=1)
    _run(OP, _at(2024, 5, 2, 8, 0), unchanged_count=9998, rejected_count=2)
    _run(OP, _at(2024, 4, 30, 8, 0), unchanged_count=10, rejected_count=10)  # before the period
    _run(OP, _at(2024, 5, 1, 9, 0), interface="query_station_status", updated_count=5, rejected_count=500)
    _run(OTHER, _at(2024, 5, 1, 9, 0), created_count=2, rejected_count=1)


def test_correctness_exactly_at_the_target(runs) -> None:
    figure = correctness(OP, D1, D1)
    assert (figure.received, figure.accepted, figure.rejected) == (10000, 9999, 1)
    assert figure.percent == Decimal("99.9900")
    assert figure.meets is True


def test_correctness_just_below_the_target(runs) -> None:
    figure = correctness(OP, D1, D2)
    assert (figure.received, figure.accepted, figure.rejected) == (20000, 19997, 3)
    assert figure.percent == Decimal("99.9850")
    assert figure.meets is False


def test_correctness_is_cut_not_rounded_and_empty_without_records(runs) -> None:
    figures = correctness_by_operator([OTHER, "NOBODY000"], D1, D3)
    assert figures[OTHER].percent == Decimal("66.6666")  # 2 / 3
    assert figures[OTHER].meets is False
    assert figures["NOBODY000"] == Correctness("NOBODY000", 0, 0)
    assert figures["NOBODY000"].percent is None and figures["NOBODY000"].meets is None
    assert Correctness(OP, accepted=99_989_999, rejected=10_001).percent == Decimal("99.9899")  # 99.98999…
    assert Correctness(OP, accepted=99_989_999, rejected=10_001).meets is False
    assert set(correctness_by_operator(None, D1, D1)) == {OP, OTHER}


# -- the admin page --------------------------------------------------------------------------------------------------

REPORT = "admin:interconnect_rejectedrecord_quality"
CHANGELIST = "admin:interconnect_rejectedrecord_changelist"


@pytest.fixture
def today_data(directory) -> dict[str, Any]:
    """Today's rejections and crawls for both operators of the `directory` fixture."""
    from django.utils import timezone

    now = timezone.now()
    a, b = directory["a"].pk, directory["b"].pk
    _rejected(a, now, ["district"])
    _rejected(a, now, ["power", "voltage"])
    _rejected(b, now, ["enum"])
    _run(a, now, unchanged_count=9999, rejected_count=1)
    _run(b, now, unchanged_count=98, rejected_count=2)
    return directory


def _text(response) -> str:
    return unescape(re.sub(r"\s+", " ", response.content.decode()))


def test_regulator_sees_every_operator_with_its_correctness(client, regulator, today_data) -> None:
    client.force_login(regulator)
    response = client.get(reverse(REPORT))
    assert response.status_code == 200
    html = _text(response)
    a, b = today_data["a"], today_data["b"]
    assert a.operator_name in html and b.operator_name in html
    assert "99.9900%" in html and "98.0000%" in html
    assert "达标" in html and "未达标" in html
    assert "坐标与所属区县不符" in html and "取值不在枚举内" in html


def test_operator_manager_sees_only_their_operator(client, manager_a, today_data) -> None:
    client.force_login(manager_a)
    html = _text(client.get(reverse(REPORT)))
    assert today_data["a"].operator_name in html
    assert today_data["b"].operator_name not in html
    assert "取值不在枚举内" not in html  # b's rule
    # Asking for the other operator explicitly is refused with a message, not shown.
    response = client.get(reverse(REPORT), {"operator": today_data["b"].pk})
    assert response.status_code == 200
    html = _text(response)
    assert today_data["b"].operator_name not in html
    assert "不在您的查看范围内" in html


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"since": "2024-13-45"}, "无法识别"),
        ({"until": "yesterday"}, "无法识别"),
        ({"until": "0001-01-01"}, "无法识别"),
        ({"since": "9999-12-31"}, "无法识别"),
        ({"since": "2024-05-10", "until": "2024-05-01"}, "开始日期晚于结束日期"),
        ({"since": "2000-01-01", "until": "2024-05-01"}, "最长366天"),
        ({"bucket": "hour"}, "统计粒度无效"),
    ],
)
def test_bad_parameters_give_a_message_not_an_error_page(client, regulator, today_data, params, message) -> None:
    client.force_login(regulator)
    response = client.get(reverse(REPORT), params)
    assert response.status_code == 200
    assert message in _text(response)


def test_a_chosen_period_and_bucket(client, regulator, today_data) -> None:
    _rejected(today_data["a"].pk, _at(2024, 5, 8, 9, 0), ["scale"])
    client.force_login(regulator)
    response = client.get(reverse(REPORT), {"since": "2024-05-01", "until": "2024-05-31", "bucket": "week"})
    assert response.status_code == 200
    html = _text(response)
    assert "2024-05-01 至 2024-05-31" in html
    assert "2024-04-29" in html and "2024-05-27" in html  # the Mondays of the first and last weeks
    assert "小数位数不符" in html
    assert today_data["b"].operator_name + "：拒收记录" not in html  # no rejections in May: no table
    assert "无数据" in html  # nothing was crawled in May 2024


def test_links_lead_to_the_filtered_changelist(client, regulator, today_data) -> None:
    client.force_login(regulator)
    changelist = client.get(reverse(CHANGELIST))
    assert changelist.status_code == 200
    assert reverse(REPORT) in changelist.content.decode()
    report = client.get(reverse(REPORT), {"operator": today_data["a"].pk})
    section = next(s for s in report.context["sections"] if s["operator"] == today_data["a"])
    by_rule = {code: url for code, _, _, url in section["rule_columns"]}
    listed = client.get(by_rule["power"])
    assert listed.status_code == 200
    assert listed.context["cl"].result_count == 1
    assert client.get(section["url"]).context["cl"].result_count == 2
    everything = client.get(report.context["changelist_url"])
    assert everything.context["cl"].result_count == 3


def test_the_rule_filter_matches_whole_codes(client, regulator, directory) -> None:
    from django.utils import timezone

    _rejected(directory["a"].pk, timezone.now(), ["voltage_order"])
    _rejected(directory["a"].pk, timezone.now(), ["voltage", "power"])
    client.force_login(regulator)
    assert client.get(reverse(CHANGELIST), {"rule": "voltage"}).context["cl"].result_count == 1
    assert client.get(reverse(CHANGELIST), {"rule": "voltage_order"}).context["cl"].result_count == 1


def test_staff_without_the_view_permission_get_403_and_anonymous_users_the_login(
    client, django_user_model, directory
) -> None:
    assert client.get(reverse(REPORT)).status_code == 302
    clerk = django_user_model.objects.create_user(username="clerk", password="pw-for-tests-only", is_staff=True)
    client.force_login(clerk)
    assert client.get(reverse(REPORT)).status_code == 403
