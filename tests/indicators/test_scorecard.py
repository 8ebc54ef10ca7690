"""The reward scorecard: two stations ranked and graded with a known reward, through GET /api/scorecards/."""

from __future__ import annotations

from decimal import Decimal

from apps.indicators.models import RewardScheme
from apps.indicators.scorecard import scorecards_compute
from apps.indicators.services import indicators_compute_day
from apps.stations.models import Connector
from tests import factories

from .conftest import DAY, at, order, status


def test_two_stations_ranked_and_graded_with_a_known_reward(city, api):
    # ST1 (C1 + C2, 120 kW): 30 kWh at 1.50 元/kWh, one change pushed on time and one only pulled (50 %).
    # ST2 (C3, 60 kW): 30 kWh at 1.00 元/kWh, its one change pushed on time (100 %).
    st2 = factories.station(city["op"], "ST2")
    c3 = factories.connector(factories.equipment(st2, "EQ2"), "C3")
    Connector.objects.filter(pk=c3.pk).update(created=at(0, day=1))
    for conn in (city["c1"], city["c2"], c3):
        status(conn, at(23, day=9), 1)
    status(city["c1"], at(8), 3, "push", arrived=at(8, 0, 10))
    status(city["c1"], at(9), 1, "pull")
    status(c3, at(8), 3, "push", arrived=at(8, 0, 10))
    order(city["c1"], at(12), at(12, 45), kwh="30.00", money="45.00")
    order(c3, at(12), at(12, 45), kwh="30.00", money="30.00")
    indicators_compute_day(DAY, now=at(12, day=11))
    scorecards_compute(DAY, now=at(12, day=11))
    cards = {c["StationID"]: c for c in api.get("/api/scorecards/", {"quarter": "2024Q1"}).json()["results"]}
    first, second = cards["ST2"], cards["ST1"]
    assert first["values"] == {"PRICE_AVG": 1.0, "T_STATUS": 100.0, "UTIL_E": round(100 * 30 / 1440, 6)}
    assert second["values"] == {"PRICE_AVG": 1.5, "T_STATUS": 50.0, "UTIL_E": round(100 * 30 / 2880, 6)}
    assert first["scores"] == {"PRICE_AVG": 100.0, "T_STATUS": 100.0, "UTIL_E": 100.0}
    assert second["scores"] == {"PRICE_AVG": 0.0, "T_STATUS": 0.0, "UTIL_E": 0.0}
    # Ranked by total; grades by rank quartile of two stations: the first is A, the second C (⌈0.75 × 2⌉ = 2).
    assert [(first["total"], first["rank"], first["grade"]), (second["total"], second["rank"], second["grade"])] == [
        (100.0, 1, "A"), (0.0, 2, "C")
    ]  # fmt: skip
    # A: ¥0.20 per kWh of 30 kWh; the cap (60 kW × 1,500 kWh × 91/366 of 2024) does not bind.
    assert (first["energy_kwh"], first["reward_yuan"], first["cap_kwh"]) == (30.0, 6.0, round(60 * 1500 * 91 / 366, 3))
    assert second["reward_yuan"] == 0.0
    assert not first["frozen"]
    assert api.get("/api/scorecards/", {"quarter": "2024Q1", "grade": "A"}).json()["count"] == 1
    assert api.get("/api/scorecards/", {"quarter": "2024-1"}).status_code == 400

    # A new version from 2024 caps at 1 kWh per kW per year: 60 × 91/366 = 14.918 kWh rewarded at ¥0.20.
    RewardScheme.objects.create(name="2024 版", valid_from=DAY.replace(month=1, day=1), cap_kwh_per_kw_year=1)
    scorecards_compute(DAY, now=at(12, day=11))
    rows = api.get("/api/scorecards/", {"quarter": "2024Q1", "station": "ST2"}).json()["results"]
    assert sorted((r["scheme"], r["reward_yuan"]) for r in rows) == [
        ("2024 版", float((Decimal("0.20") * Decimal(str(round(60 * 91 / 366, 3)))).quantize(Decimal("0.01")))),
        ("北京市运营考核奖励（公开部分）", 6.0),
    ]


def test_a_quarter_is_frozen_after_it_ends(city, api):
    status(city["c1"], at(23, day=9), 1)
    status(city["c1"], at(8), 3, "push", arrived=at(8, 0, 10))
    order(city["c1"], at(12), at(12, 45))
    indicators_compute_day(DAY, now=at(12, day=11))
    assert scorecards_compute(DAY) == 1  # computed in 2026: the quarter has long ended, frozen at once
    card = api.get("/api/scorecards/", {"quarter": "2024Q1"}).json()["results"][0]
    assert card["frozen"] and card["eligible"] and card["grade"] == "A"
    assert scorecards_compute(DAY) == 0  # a frozen quarter never changes
