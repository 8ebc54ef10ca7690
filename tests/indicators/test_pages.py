"""The indicator pages per role: the explorer, a value's trace, the scorecard board and a station's sheet, the
operator's panel and home — a regulator sees the city, an operator's manager only their own figures (and the city's
total), in a bounded number of queries."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from apps.core.roles import OPERATOR_MANAGER, REGULATOR
from apps.indicators.annual import annual_compute
from apps.indicators.models import Indicator
from apps.indicators.scorecard import scorecards_compute
from apps.indicators.services import period_start
from tests import factories

from .conftest import DAY, at
from .test_annual import _two_operators

EXPLORER = "/admin/indicators/indicatorexplorer/"
BOARD = "/admin/indicators/scorecardboard/"
OFFLINE_AVAIL = round(100 * (86400 - 90 * 60) / 86400, 6)  # ST2: C3 offline exactly 90 minutes


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def two(city, roles, django_user_model):
    """Operators A (ST1, 朝阳区) and B (ST2, 海淀区) with a day computed, the quarter's scorecard and the year's
    assessment; a regulator, and A's manager."""
    _two_operators(city)
    scorecards_compute(DAY, now=at(12, day=11))
    annual_compute(2024, now=at(12, day=11))
    factories.IndicatorFactory(
        operator=city["op"], code="DQ_RULE", level="operator", target="123456789:station.district", period="day",
        start=DAY, numerator=2, denominator=10, value=20.0,
        details={"rule": "station.district", "interface": "query_stations_info", "severity": "error",
                 "samples": ["ST1", "ST9"]},
    )  # fmt: skip
    regulator = django_user_model.objects.create_user(username="reg", password="pw-for-tests-only", is_staff=True)
    regulator.groups.add(Group.objects.get(name=REGULATOR))
    manager = django_user_model.objects.create_user(username="mgr", password="pw-for-tests-only", is_staff=True)
    manager.groups.add(Group.objects.get(name=OPERATOR_MANAGER))
    factories.OperatorAccountFactory(user=manager, operator=city["op"])
    return {"regulator": _client(regulator), "manager": _client(manager), **city}


def _row(code: str, level: str, target: str, period: str = "day") -> Indicator:
    return Indicator.objects.get(code=code, level=level, target=target, period=period, start=period_start(period, DAY))


def test_the_regulator_explores_the_city_by_district_trend_and_ranking(two, django_assert_max_num_queries):
    with django_assert_max_num_queries(14):
        response = two["regulator"].get(EXPLORER, {"code": "AVAIL", "level": "station", "period": "day",
                                                   "start": "2024-01-10"})  # fmt: skip
    assert response.status_code == 200
    chart = response.context["chart"]
    assert {d["name"]: d["value"] for d in chart["map"]} == {"朝阳区": 100.0, "海淀区": OFFLINE_AVAIL}
    city = _row("AVAIL", "city", "110000")
    assert chart["trend"]["starts"] == ["2024-01-10"] and chart["trend"]["series"][0]["data"] == [city.value]
    assert city.value == round(100 * (3 * 86400 - 5400) / (3 * 86400), 6)  # Σ numerators ÷ Σ denominators
    ranking = response.context["data"]["ranking"]
    assert [(r["operator"], r["target"], r["value"]) for r in ranking] == [
        ("123456789", "ST1", 100.0), ("987654321", "ST2", OFFLINE_AVAIL)
    ]  # fmt: skip
    st2 = _row("AVAIL", "station", "987654321:ST2")
    assert f"trace/{st2.pk}/" in ranking[1]["trace"]
    # A regulator may narrow to one operator: the map becomes its stations per district, the trend gains its line.
    response = two["regulator"].get(EXPLORER, {"code": "AVAIL", "level": "station", "operator": "987654321"})
    chart = response.context["chart"]
    assert chart["map"][0]["name"] == "海淀区" and len(chart["map"]) == 1
    assert [s["name"] for s in chart["trend"]["series"]] == ["全市", "987654321"]


def test_a_connector_ranking_of_a_quarter_sums_the_connectors_quarter_when_asked(two):
    # The connectors' quarter rows are not written nightly (PostgreSQL): the explorer's connector ranking sums them
    # (here one day: the quarter's figures are the day's), within the chosen operator only.
    response = two["regulator"].get(EXPLORER, {"code": "AVAIL", "level": "connector", "period": "quarter",
                                               "start": "2024-01-01", "operator": "987654321"})  # fmt: skip
    assert response.status_code == 200
    ranking = response.context["data"]["ranking"]
    assert [(r["operator"], r["target"], r["value"]) for r in ranking] == [("987654321", "C3", OFFLINE_AVAIL)]
    c3 = _row("AVAIL", "connector", "987654321:C3", "quarter")
    assert (c3.numerator, c3.denominator, c3.details["days"]) == (86400.0 - 5400, 86400.0, 1)
    if connection.vendor == "postgresql":  # SQLite stores every level's periods with the nightly roll-up
        assert not Indicator.objects.filter(level="connector", period="quarter", operator_id="123456789").exists()


def test_a_city_wide_connector_ranking_of_a_quarter_asks_for_an_operator_first(two):
    response = two["regulator"].get(EXPLORER, {"code": "AVAIL", "level": "connector", "period": "quarter",
                                               "start": "2024-01-01"})  # fmt: skip
    assert response.status_code == 200
    if connection.vendor == "postgresql":
        assert response.context["data"]["ranking"] == []
        assert "请指定运营商" in response.content.decode()
        assert not Indicator.objects.filter(level="connector", period="quarter").exists()


def test_a_manager_sees_only_their_own_figures_against_the_citys(two, django_assert_max_num_queries):
    with django_assert_max_num_queries(16):
        response = two["manager"].get(EXPLORER, {"code": "AVAIL", "level": "station", "period": "day"})
    assert response.status_code == 200
    chart = response.context["chart"]
    assert [(d["name"], d["value"]) for d in chart["map"]] == [("朝阳区", 100.0)]
    assert [(r["operator"], r["target"]) for r in response.context["data"]["ranking"]] == [("123456789", "ST1")]
    assert chart["city"] == _row("AVAIL", "city", "110000").value  # the city's total, beside their own line
    assert [s["name"] for s in chart["trend"]["series"]] == ["全市", "123456789"]
    assert chart["trend"]["series"][0]["traces"] == [None]  # the city's row is not theirs to open
    body = response.content.decode()
    assert "987654321" not in body and "ST2" not in body
    # Asking for another operator changes nothing: a manager's operator is always their own.
    assert "987654321" not in two["manager"].get(EXPLORER, {"operator": "987654321"}).content.decode()
    # Another operator's row, or the district's, cannot be traced by them.
    for row in (_row("AVAIL", "station", "987654321:ST2"), _row("AVAIL", "district", "110105")):
        assert two["manager"].get(f"{EXPLORER}trace/{row.pk}/").status_code == 404
    assert two["regulator"].get(f"{EXPLORER}trace/{row.pk}/").status_code == 200


def test_a_value_opens_its_trace_the_timeline_of_that_connector_and_day(two):
    c3 = _row("AVAIL", "connector", "987654321:C3")
    response = two["regulator"].get(f"{EXPLORER}trace/{c3.pk}/")
    assert response.status_code == 200
    (connector,) = response.context["trace"]["connectors"]
    offline = [p for p in connector["timeline"] if p["Status"] == 0]
    assert [(p["from"], p["to"]) for p in offline] == [(at(10).isoformat(), at(11, 30).isoformat())]
    assert connector["durations"]["t_out"] == 5400


def test_the_scorecard_board_ranks_grades_exports_and_opens_a_sheet(two, django_assert_max_num_queries):
    with django_assert_max_num_queries(16):
        response = two["regulator"].get(BOARD, {"quarter": "2024Q1"})
    assert response.status_code == 200
    assert response.context["distribution"] == {"A": 1, "B": 0, "C": 1, "D": 0, "不参与": 0}
    rows = list(response.context["page"].object_list)
    # ST2 is cheaper (1.00 against 1.50 yuan/kWh), pushed every change and used its 60 kW more: A; ST1: C.
    assert [(r.station.station_id, r.rank, r.grade) for r in rows] == [("ST2", 1, "A"), ("ST1", 2, "C")]
    assert [c for c, _ in response.context["criteria"]] == ["PRICE_AVG", "T_STATUS", "UTIL_E"]
    csv = two["regulator"].get(BOARD, {"quarter": "2024Q1", "export": "csv"})
    text = csv.content.decode("utf-8-sig")
    assert csv["Content-Disposition"].endswith('scorecard-2024Q1.csv"') and "ST1" in text and "ST2" in text
    assert two["regulator"].get(BOARD, {"quarter": "2024Q1", "export": "xlsx"}).content[:2] == b"PK"
    sheet = two["regulator"].get(f"{BOARD}sheet/{rows[0].pk}/")
    assert sheet.status_code == 200 and sheet.context["card"].pk == rows[0].pk
    assert {c["code"] for c in sheet.context["criteria"] if c["trace"]} == {"T_STATUS"} | {
        c["code"] for c in sheet.context["criteria"] if c["value"] is not None
    }
    annual = two["regulator"].get(BOARD, {"tab": "annual", "year": "2024"})
    assert [(r.station.station_id, r.grade) for r in annual.context["page"].object_list] == [("ST1", "A"), ("ST2", "C")]


def test_a_manager_sees_and_exports_only_their_stations_cards(two):
    response = two["manager"].get(BOARD, {"quarter": "2024Q1"})
    assert [r.station.station_id for r in response.context["page"].object_list] == ["ST1"]
    assert "ST2" not in two["manager"].get(BOARD, {"quarter": "2024Q1", "export": "csv"}).content.decode("utf-8-sig")
    other = two["regulator"].get(BOARD, {"quarter": "2024Q1"}).context["page"].object_list
    st2 = next(r for r in other if r.station.station_id == "ST2")
    assert two["manager"].get(f"{BOARD}sheet/{st2.pk}/").status_code == 404
    annual = two["manager"].get(BOARD, {"tab": "annual"})
    assert [r.station.station_id for r in annual.context["page"].object_list] == ["ST1"]


def test_the_operator_page_and_home_show_own_figures_the_citys_and_the_inbox(two, django_assert_max_num_queries):
    month = _row("AVAIL", "operator", "123456789", "month")
    with django_assert_max_num_queries(40):
        page = two["manager"].get(f"/admin/operators/operator/{two['op'].pk}/change/")
    body = page.content.decode()
    assert page.status_code == 200 and "监管指标（本运营商与全市）" in body
    assert f"trace/{month.pk}/" in body  # their month's AVAIL, opening its trace
    assert "station.district" in body and "ST9" in body  # the failing rule with its samples
    home = two["manager"].get("/admin/").content.decode()
    assert 'id="operator-indicators"' in home and f"trace/{month.pk}/" in home
    assert "987654321" not in home


def _grow(scheme, n: int) -> None:
    """n stations, each with its day's AVAIL row and its quarter's scorecard."""
    for _ in range(n):
        station = factories.StationFactory()
        factories.IndicatorFactory(
            operator=station.operator, station=station, level="station", start=DAY, area_code=station.area_code,
            target=f"{station.operator_id}:{station.station_id}",
        )  # fmt: skip
        factories.ScorecardFactory(scheme=scheme, station=station)


def test_the_pages_cost_the_same_for_n_and_3n_rows(client, regulator):
    """No N+1: the explorer (its ranking lists every station) and the scorecard board (every card) cost the same
    number of queries for 2 and 6 stations."""
    client.force_login(regulator)
    factories.IndicatorFactory(operator=None, level="city", target="110000", start=DAY)
    scheme = factories.RewardSchemeFactory(valid_from=date(2018, 1, 1))
    pages = [f"{EXPLORER}?code=AVAIL&level=station&period=day", f"{BOARD}?quarter=2024Q1"]
    costs = []
    for n in (2, 4):
        _grow(scheme, n)
        counted = []
        for url in pages:
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(url).status_code == 200
            counted.append(len(ctx.captured_queries))
        costs.append(counted)
    assert costs[0] == costs[1]
    ranking = client.get(pages[0]).context["data"]["ranking"]
    assert len(ranking) == 6 and {row["value"] for row in ranking} == {90.0}
    assert client.get(pages[1]).context["page"].paginator.count == 6
