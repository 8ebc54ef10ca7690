"""Realistic, spec-valid and deterministic data: stations, equipment, connectors, tariffs, orders and stats."""

from __future__ import annotations

import re
import sys
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import Any

import pytest

from apps.protocol import CST, parse_date
from apps.simulator.clock import SimClock
from apps.simulator.simulator import Simulator
from apps.simulator.tariff import FLAT, PEAK, TARIFFS, VALLEY, band_at, bill, segments, split_energy

from .support import AREA_CODES, START, make_config, portal_client

Factory = Callable[..., Simulator]


def crawl(sim: Simulator, **payload: Any) -> list[dict[str, Any]]:
    stations: list[dict[str, Any]] = []
    with portal_client(sim) as client:
        page_no, count = 1, 1
        while page_no <= count:
            page = client.call("query_stations_info", {"PageNo": page_no, "PageSize": 100, **payload})
            stations += page["StationInfos"]
            count = page["PageCount"]
            page_no += 1
    return stations


def scale(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)
    return -exponent


def check_text(obj: dict[str, Any], name: str, limit: int, *, required: bool = True) -> None:
    if not required and name not in obj:
        return
    assert isinstance(obj[name], str), name
    assert len(obj[name]) <= limit, (name, obj[name])
    if required:
        assert obj[name].strip(), name


def check_station(info: dict[str, Any], operator_id: str) -> None:
    """Every rule of public-information.md §2.2–2.4 that the data can break."""
    for name, limit in (("StationID", 20), ("StationName", 50), ("Address", 50), ("ServiceTel", 30)):
        check_text(info, name, limit)
    for name, limit in (("StationTel", 30), ("SiteGuide", 100), ("MatchCars", 100), ("ParkInfo", 100)):
        check_text(info, name, limit, required=False)
    for name, limit in (("BusineHours", 100), ("ElectricityFee", 256), ("ServiceFee", 100), ("ParkFee", 100)):
        check_text(info, name, limit, required=False)
    assert info["OperatorID"] == operator_id
    assert re.fullmatch(r"[0-9A-Z]{9}", info["EquipmentOwnerID"])
    assert info["CountryCode"] == "CN" and info["AreaCode"] in AREA_CODES
    assert info["StationType"] in (1, 50, 100, 101, 102, 103, 255)
    assert info["StationStatus"] in (0, 1, 5, 6, 50)
    assert info["Construction"] in (*range(1, 12), 255)
    assert isinstance(info["ParkNums"], int) and info["ParkNums"] >= 0
    assert info["Payment"] in ("刷卡", "线上", "现金") and info["SupportOrder"] in (0, 1)
    assert all(isinstance(p, str) and p.startswith("https://") for p in info["Pictures"])
    points = [(info["StationLng"], info["StationLat"])]
    points += [(e["EquipmentLng"], e["EquipmentLat"]) for e in info["EquipmentInfos"]]
    for lng, lat in points:
        assert scale(lng) == scale(lat) == 6
        assert Decimal("115.4") <= lng <= Decimal("117.5") and Decimal("39.4") <= lat <= Decimal("41.1")
    connectors = 0
    for equipment in info["EquipmentInfos"]:
        check_text(equipment, "EquipmentID", 23)
        check_text(equipment, "ManufacturerName", 30, required=False)
        check_text(equipment, "EquipmentModel", 20, required=False)
        check_text(equipment, "EquipmentName", 30, required=False)
        assert re.fullmatch(r"[0-9A-Z]{9}", equipment["ManufacturerID"])
        parse_date(equipment["ProductionDate"])
        assert equipment["EquipmentType"] in (1, 2) and scale(equipment["Power"]) == 1
        assert equipment["Power"] == sum(c["Power"] for c in equipment["ConnectorInfos"])
        if equipment["EquipmentType"] == 1:
            assert Decimal(60) <= equipment["Power"] <= Decimal(360)
        for connector in equipment["ConnectorInfos"]:
            connectors += 1
            check_text(connector, "ConnectorID", 26)
            check_text(connector, "ConnectorName", 30, required=False)
            check_text(connector, "ParkNo", 10, required=False)
            assert connector["ConnectorID"].startswith(equipment["EquipmentID"])
            assert scale(connector["Power"]) == 1 and connector["NationalStandard"] in (1, 2)
            assert connector["VoltageLowerLimits"] <= connector["VoltageUpperLimits"]
            assert isinstance(connector["Current"], int) and connector["Current"] > 0
            if equipment["EquipmentType"] == 1:
                assert connector["ConnectorType"] == 4
            else:
                assert connector["ConnectorType"] in (2, 3) and connector["Power"] == Decimal("7.0")
                assert connector["VoltageUpperLimits"] == connector["VoltageLowerLimits"] == 220
    assert 1 <= connectors <= 20


def test_stations_are_spec_valid_and_spread_over_beijing(sims: Factory) -> None:
    sim = sims(stations=500)
    stations = crawl(sim)
    assert len(stations) == 500 and len({s["StationID"] for s in stations}) == 500
    for info in stations:
        check_station(info, sim.config.operator_id)
    districts = Counter(s["AreaCode"] for s in stations)
    assert set(districts) == AREA_CODES
    assert districts["110105"] > districts["110119"]  # Chaoyang has far more chargers than Yanqing
    assert len({s["StationType"] for s in stations}) >= 5 and len({s["Construction"] for s in stations}) >= 10
    kinds = Counter(e["EquipmentType"] for s in stations for e in s["EquipmentInfos"])
    assert kinds[1] > 0 and kinds[2] > 0
    dc_powers = {e["Power"] for s in stations for e in s["EquipmentInfos"] if e["EquipmentType"] == 1}
    assert {Decimal("60.0"), Decimal("120.0"), Decimal("360.0")} <= dc_powers
    counts = Counter(sum(len(e["ConnectorInfos"]) for e in s["EquipmentInfos"]) for s in stations)
    assert min(counts) == 1 and max(counts) == 20
    owners = {s["EquipmentOwnerID"] for s in stations}
    assert sim.config.operator_id in owners and len(owners) == 2  # a few stations run for another owner


def test_same_seed_same_world_other_seed_other_world() -> None:
    def world(seed: int) -> tuple[list[dict[str, Any]], list[tuple[str, int]]]:
        sim = Simulator(make_config(stations=40, seed=seed, walkin_rate=3.0), clock=SimClock(START, speed=0)).start()
        try:
            sim.advance(2 * 3600)
            return crawl(sim), sorted((c.id, c.status) for c in sim.directory.connectors)
        finally:
            sim.stop()

    first, again, other = world(5), world(5), world(6)
    assert first == again
    assert first[0] != other[0] and first[1] != other[1]


def test_scale_stays_compact() -> None:
    sim = Simulator(make_config(stations=2000, walkin_rate=3.0), clock=SimClock(START, speed=0))
    connectors = len(sim.directory.connectors)
    assert 18_000 <= connectors <= 24_000  # ~10 connectors per station: 20 000 stations give ~200 000
    # The per-connector objects use __slots__: no per-instance dict.
    assert not hasattr(sim.directory.connectors[0], "__dict__")
    assert sys.getsizeof(sim.directory.connectors[0]) < 200


# -- tariffs and orders ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("clock", "band"),
    [
        ("06:59:59", VALLEY),
        ("07:00:00", FLAT),
        ("10:00:00", PEAK),
        ("14:59:59", PEAK),
        ("15:00:00", FLAT),
        ("18:00:00", PEAK),
        ("20:59:59", PEAK),
        ("21:00:00", FLAT),
        ("23:00:00", VALLEY),
        ("00:00:00", VALLEY),
    ],
)
def test_beijing_time_of_use_bands(clock: str, band: str) -> None:
    hour, minute, second = map(int, clock.split(":"))
    assert band_at(datetime(2024, 5, 20, hour, minute, second, tzinfo=CST).timestamp()) == band


def test_session_across_midnight_is_split_per_period() -> None:
    start = datetime(2024, 5, 20, 22, 30, tzinfo=CST).timestamp()
    end = datetime(2024, 5, 21, 7, 30, tzinfo=CST).timestamp()
    parts = segments(start, end)
    assert [p.band for p in parts] == [FLAT, VALLEY, VALLEY, FLAT]
    priced = bill(TARIFFS[0], start, end, 4321)
    assert len(priced.details) == 4 and sum(d["DetailPower"] for d in priced.details) == Decimal("43.21")
    assert priced.total_money == priced.elec_money + priced.service_money
    assert priced.details[1]["DetailEndTime"] == "2024-05-21 00:00:00"


@pytest.mark.parametrize("total", [0, 1, 7, 999, 123457])
def test_energy_split_adds_up_exactly(total: int) -> None:
    parts = split_energy(total, [1.0, 2.5, 0.3, 7.0])
    assert sum(parts) == total and all(p >= 0 for p in parts)


def test_tariff_texts_fit_their_fields() -> None:
    for tariff in TARIFFS:
        assert len(tariff.describe_electricity()) <= 256 and len(tariff.describe_service()) <= 100
        policies = tariff.policy_infos()
        assert policies[0]["StartTime"] == "000000" and len(policies) <= 32


def test_walk_in_orders_are_consistent(sims: Factory) -> None:
    sim = sims(stations=30, walkin_rate=8.0)
    sim.advance(6 * 3600)
    orders = list(sim.orders)
    assert len(orders) >= 20
    for order in orders:
        assert order["TotalMoney"] == order["TotalElecMoney"] + order["TotalSeviceMoney"]
        assert order["SumPeriod"] == len(order["ChargeDetails"])
        assert sum(d["DetailPower"] for d in order["ChargeDetails"]) == order["TotalPower"]
        assert order["MeterValueEnd"] - order["MeterValueStart"] == order["TotalPower"]
        assert order["ChargeLast"] >= 0 and order["ChargeModel"] in (2, 3)
        assert order["UserName"] and len(order["UserName"]) <= 20
        assert order["ConnectorPower"].as_tuple().exponent == -1
    by_connector: dict[str, list[dict[str, Any]]] = {}
    for order in orders:
        by_connector.setdefault(order["ConnectorID"], []).append(order)
    for series in by_connector.values():  # the meter only moves forward, session after session
        for before, after in pairwise(series):
            assert after["MeterValueStart"] == before["MeterValueEnd"]


def test_a_world_faster_than_real_time_never_runs_past_the_present() -> None:
    """At 60 simulated seconds a second, begun an hour behind: fast until it reaches the wall clock, then in step
    with it — none of its times (orders, samples) can lie in the future."""
    real = [1_000.0]
    wall = datetime.fromtimestamp(2_000_000_000, CST)
    clock = SimClock(
        wall - timedelta(hours=1), 60, monotonic=lambda: real[0], ceiling=lambda: wall.timestamp() + real[0] - 1_000
    )
    assert clock.time() == wall.timestamp() - 3600
    real[0] += 30  # 30 real seconds: 30 simulated minutes
    assert clock.time() == wall.timestamp() - 1800
    real[0] += 60  # it would be 60 min ahead of where the present is: it is at the present instead
    assert clock.time() == wall.timestamp() + 90
    real[0] += 10
    assert clock.time() == wall.timestamp() + 100  # and keeps pace with it

    sim = Simulator(make_config(speed=60, behind=3600), wall=lambda: wall)
    assert wall.timestamp() - 3600 <= sim.clock.time() < wall.timestamp() - 3000
    assert Simulator(make_config(speed=60), wall=lambda: wall).clock.time() <= wall.timestamp()
