"""The annual assessment (the second scheme): two stations of two operators ranked and graded with a known reward."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from apps.indicators.annual import annual_compute
from apps.indicators.models import AnnualAssessment, AnnualScheme
from apps.indicators.services import indicators_compute_day
from apps.stations.models import Connector
from tests import factories

from .conftest import DAY, at, order, status, sweeps


def _two_operators(city):
    """ST1 (operator A, C1 + C2, 120 kW): one change pushed, one only pulled (coverage 50 %), always available; its
    operator's latest conformance check passed. ST2 (operator B, C3, 60 kW): offline exactly 90 minutes, every
    change pushed (coverage 100 %); its operator's latest check failed (an earlier one passed)."""
    op_b = factories.operator("987654321")
    st2 = factories.station(op_b, "ST2", area_code="110108")
    c3 = factories.connector(factories.equipment(st2, "EQ2"), "C3")
    Connector.objects.filter(pk=c3.pk).update(created=at(0, day=1))
    sweeps(op_b, at(0, day=9), at(0, day=11))
    for conn in (city["c1"], city["c2"], c3):
        status(conn, at(23, day=9), 1)
    status(city["c1"], at(8), 3, "push", arrived=at(8, 0, 10))
    status(city["c1"], at(9), 1, "pull")
    status(c3, at(8), 3, "push", arrived=at(8, 0, 10))
    status(c3, at(10), 0, "push", arrived=at(10, 0, 5))
    status(c3, at(11, 30), 1, "push", arrived=at(11, 30, 5))
    # An order each (the quarterly scorecard's price and energy): 30 kWh at 1.50 and at 1.00 yuan/kWh.
    order(city["c1"], at(12), at(12, 45), kwh="30.00", money="45.00")
    order(c3, at(12), at(12, 45), kwh="30.00", money="30.00")
    factories.ConformanceReportFactory(operator=city["op"], started=at(9, day=2), passed=True)
    factories.ConformanceReportFactory(operator=op_b, started=at(9, day=2), passed=True)
    factories.ConformanceReportFactory(operator=op_b, started=at(9, day=5), passed=False)
    indicators_compute_day(DAY, now=at(12, day=11))
    return st2


def test_two_stations_assessed_for_the_year_with_a_known_reward(city, api):
    st2 = _two_operators(city)
    assert annual_compute(2024, now=at(12, day=11)) == 2
    rows = {a.station.station_id: a for a in AnnualAssessment.objects.select_related("station")}
    first, second = rows["ST1"], rows["ST2"]
    assert first.values == {"CONFORMANCE": 100.0, "PUSH_COVERAGE": 50.0, "AVAIL": 100.0}
    offline = 90 * 60
    assert second.values == {
        "CONFORMANCE": 0.0,
        "PUSH_COVERAGE": 100.0,
        "AVAIL": round(100 * (86400 - offline) / 86400, 6),
    }
    assert first.scores == {"CONFORMANCE": 100.0, "PUSH_COVERAGE": 0.0, "AVAIL": 100.0}
    assert second.scores == {"CONFORMANCE": 0.0, "PUSH_COVERAGE": 100.0, "AVAIL": 0.0}
    assert (first.total, first.rank, first.grade) == (round(200 / 3, 6), 1, "A")
    assert (second.total, second.rank, second.grade) == (round(100 / 3, 6), 2, "C")  # ⌈0.75 × 2⌉ = 2
    # A: ¥106 per kW of 120 kW; under the ¥200,000 cap.
    assert (first.rated_kw, first.reward_yuan) == (120.0, Decimal("12720.00"))
    assert second.reward_yuan == Decimal("0.00") and second.station_id == st2.pk
    assert not first.frozen
    # The same through GET /api/assessments/ (year, operator, station, grade).
    listed = api.get("/api/assessments/", {"year": 2024}).json()["results"]
    assert [(r["StationID"], r["rank"], r["grade"], r["reward_yuan"]) for r in listed] == [
        ("ST1", 1, "A", 12720.0), ("ST2", 2, "C", 0.0)
    ]  # fmt: skip
    assert api.get("/api/assessments/", {"year": 2024, "grade": "C", "operator": "987654321"}).json()["count"] == 1
    assert api.get("/api/assessments/", {"year": 2023}).json()["count"] == 0

    # A version from 2024 caps a station at ¥10,000: computed beside the old one.
    AnnualScheme.objects.create(name="2024 版", valid_from=date(2024, 1, 1), cap_yuan_per_station=10000)
    annual_compute(2024, now=at(12, day=11))
    assert sorted(
        AnnualAssessment.objects.filter(station__station_id="ST1").values_list("scheme__name", "reward_yuan")
    ) == [("2024 版", Decimal("10000.00")), ("北京市年度考核（平台可见部分）", Decimal("12720.00"))]


def test_a_year_is_frozen_after_it_ends_and_a_station_without_conformance_is_not_eligible(city):
    _two_operators(city)
    city["op"].conformance_reports.all().delete()
    assert annual_compute(2024) == 2  # computed in 2026: 2024 has long ended, frozen at once
    st1 = AnnualAssessment.objects.get(station__station_id="ST1")
    assert st1.frozen and not st1.eligible and st1.reasons == ["缺少指标 CONFORMANCE"]
    assert st1.grade == "" and st1.reward_yuan == Decimal("0.00")
    # The other station, alone among the eligible, takes every score (all equal: 100) and grade A.
    st2 = AnnualAssessment.objects.get(station__station_id="ST2")
    assert (st2.total, st2.rank, st2.grade, st2.reward_yuan) == (100.0, 1, "A", Decimal("6360.00"))
    assert annual_compute(2024) == 0  # a frozen year never changes
