"""Indicators through GET /api/indicators/: hand-checkable histories of one day (2024-01-10), each value exact."""

from __future__ import annotations

from decimal import Decimal

from django.core.management import call_command
from django.db import connection
from rest_framework.test import APIClient

from apps.core.roles import OPERATOR_MANAGER
from apps.indicators.models import MaintenanceWindow
from apps.indicators.services import indicators_compute_day
from apps.interconnect.models import SyncRun
from apps.operators.models import OperatorAccount
from apps.orders.models import OrderFinding
from apps.settlement.models import ReconciliationRun
from apps.stations.models import Connector, DirectoryChange
from tests import factories

from .conftest import DAY, DAY_SECONDS, at, order, status, sweeps


def one(api, **query) -> dict:
    rows = api.get("/api/indicators/", {"start": DAY.isoformat(), "period": "day", **query}).json()["results"]
    assert len(rows) == 1, rows
    return rows[0]


def test_a_connector_offline_for_exactly_90_minutes(city, api):
    status(city["c1"], at(23, day=9), 1)
    status(city["c1"], at(10), 0)
    status(city["c1"], at(11, 30), 1)
    status(city["c2"], at(23, day=9), 1)
    indicators_compute_day(DAY)
    avail = one(api, code="AVAIL", level="connector", connector="C1")
    pk = avail.pop("id")
    assert avail == {
        "code": "AVAIL", "level": "connector", "target": "123456789:C1", "period": "day", "start": "2024-01-10",
        "value": 93.75, "numerator": 81000.0, "denominator": 86400.0,
        "details": {"t_free": 81000.0, "t_occupied": 0.0, "t_charging": 0.0, "t_out": 5400.0, "t_unknown": 0.0,
                    "t_excluded": 0.0, "t_period": 86400.0},
    }  # fmt: skip
    assert one(api, code="UPTIME", level="connector", connector="C1")["value"] == 93.75
    # Its trace: the connector's timeline of the day, recomputed from the history.
    trace = api.get(f"/api/indicators/{pk}/trace/").json()
    assert trace["connectors"] == [{
        "ConnectorID": "C1",
        "durations": avail["details"],
        "timeline": [
            {"from": "2024-01-10T00:00:00+08:00", "to": "2024-01-10T10:00:00+08:00", "state": "free", "Status": 1},
            {"from": "2024-01-10T10:00:00+08:00", "to": "2024-01-10T11:30:00+08:00", "state": "out", "Status": 0},
            {"from": "2024-01-10T11:30:00+08:00", "to": "2024-01-11T00:00:00+08:00", "state": "free", "Status": 1},
        ],
    }]  # fmt: skip
    # The station is Σ numerators ÷ Σ denominators of its two connectors: (81000 + 86400) ÷ 172800.
    station = one(api, code="AVAIL", level="station", station="ST1")
    assert (station["value"], station["numerator"], station["denominator"]) == (96.875, 167400.0, 172800.0)
    for level, extra in (("operator", {"operator": "123456789"}), ("district", {"district": "110105"}), ("city", {})):
        assert one(api, code="AVAIL", level=level, **extra)["value"] == 96.875


def test_a_gap_inside_and_outside_a_maintenance_window(city, api):
    status(city["c1"], at(23, day=9), 1)
    # No sweep answered between 11:55 and 14:00: unknown from 12:05 (11:55 + 2 × 5 min) to 14:00.
    SyncRun.objects.filter(finished__gt=at(11, 55), finished__lt=at(14)).delete()
    indicators_compute_day(DAY)
    avail = one(api, code="AVAIL", level="connector", connector="C1")
    assert avail["details"]["t_unknown"] == 6900.0
    assert (avail["numerator"], avail["denominator"]) == (DAY_SECONDS - 6900, DAY_SECONDS)
    # Declared the day before, a window over 13:00–15:00 takes its part of the gap (and of the free time) out.
    window = MaintenanceWindow.objects.create(
        operator=city["op"], station=city["st"], start=at(13), end=at(15), reason="更换充电模块"
    )
    MaintenanceWindow.objects.filter(pk=window.pk).update(created=at(9, day=9))
    indicators_compute_day(DAY)
    avail = one(api, code="AVAIL", level="connector", connector="C1")
    assert (avail["details"]["t_unknown"], avail["details"]["t_excluded"]) == (3300.0, 7200.0)
    assert (avail["numerator"], avail["denominator"]) == (75900.0, 79200.0)
    assert avail["value"] == round(100 * 75900 / 79200, 6)


def test_orders_pushed_29_and_31_seconds_after_their_end(city, api):
    on_time = order(city["c1"], at(12), at(12, 45), pushed_after=29)
    late = order(city["c1"], at(13), at(13, 45), pushed_after=31)
    bonus = order(city["c2"], at(14), at(14, 30), pushed_after=149, interface="bonus")
    indicators_compute_day(DAY)
    row = one(api, code="T_ORDER", level="operator", operator="123456789")
    assert (row["value"], row["numerator"], row["denominator"]) == (50.0, 1.0, 2.0)
    assert row["details"]["late"] == [{"StartChargeSeq": late.start_charge_seq, "delay_s": 31.0}]
    assert on_time.start_charge_seq not in str(row["details"])
    assert one(api, code="T_BONUS", level="operator")["value"] == 100.0
    assert bonus.pk


def test_a_status_change_the_pull_saw_and_no_push_announced(city, api):
    status(city["c1"], at(23, day=9), 1)
    status(city["c1"], at(8), 3, "push", arrived=at(8, 0, 20))  # on time (20 s)
    status(city["c1"], at(9), 1, "push", arrived=at(9, 2))  # late: 120 s > HLHT_PUSH_GRACE (60 s)
    status(city["c1"], at(10), 0, "pull")  # seen by the pull only: a missed push
    indicators_compute_day(DAY)
    row = one(api, code="T_STATUS", level="operator")
    assert (row["numerator"], row["denominator"]) == (1.0, 3.0)
    assert row["value"] == round(100 / 3, 6)
    assert row["details"]["missed"] == [{"ConnectorID": "C1", "Status": 0, "time": "2024-01-10T10:00:00+08:00"}]
    assert row["details"]["late"] == [
        {"ConnectorID": "C1", "Status": 1, "time": "2024-01-10T09:00:00+08:00", "delay_s": 120.0}
    ]


def test_an_order_running_while_the_status_said_free_and_charging_with_no_order(city, api):
    status(city["c1"], at(23, day=9), 1)
    status(city["c2"], at(23, day=9), 1)
    status(city["c2"], at(14), 3)
    status(city["c2"], at(15), 1)
    order(city["c1"], at(12), at(12, 45), kwh="30.00", money="45.00")
    order(city["c1"], at(16), at(16, 1), kwh="0.20", money="1.00")  # 60 s, 0.2 kWh: not a successful session
    indicators_compute_day(DAY)
    false_free = one(api, code="FALSE_FREE", level="connector", connector="C1")
    assert (false_free["numerator"], false_free["denominator"]) == (2760.0, DAY_SECONDS)  # 45 min + 1 min
    false_busy = one(api, code="FALSE_BUSY", level="connector", connector="C2")
    assert (false_busy["value"], false_busy["numerator"], false_busy["denominator"]) == (100.0, 3600.0, 3600.0)
    util_t = one(api, code="UTIL_T", level="connector", connector="C2")
    assert (util_t["numerator"], util_t["denominator"]) == (3600.0, DAY_SECONDS)
    # 30.2 kWh on a 60 kW connector over 24 h available: 30.2 ÷ 1440.
    util_e = one(api, code="UTIL_E", level="connector", connector="C1")
    assert (util_e["numerator"], util_e["denominator"]) == (30.2, 1440.0)
    # Its trace names the two orders behind the energy.
    orders = api.get(f"/api/indicators/{util_e['id']}/trace/").json()["orders"]
    assert [(o["EndTime"], o["TotalPower"]) for o in orders] == [
        ("2024-01-10T12:45:00+08:00", 30.0),
        ("2024-01-10T16:01:00+08:00", 0.2),
    ]
    sessions = one(api, code="SESS_OK", level="connector", connector="C1")
    assert (sessions["value"], sessions["numerator"], sessions["denominator"]) == (50.0, 1.0, 2.0)
    price = one(api, code="PRICE_AVG", level="station", station="ST1")
    assert (price["numerator"], price["denominator"], price["value"]) == (46.0, 30.2, round(46 / 30.2, 6))
    assert price["details"]["elec_price"] == round(23 / 30.2, 4)
    assert one(api, code="PRICE_INDEX", level="district", district="110105")["value"] == round(46 / 30.2, 6)


def test_station_saturation_and_full_use_peaks(city, api):
    status(city["c1"], at(23, day=9), 1)
    status(city["c2"], at(23, day=9), 1)
    status(city["c1"], at(14), 3)
    status(city["c1"], at(15, 30), 1)
    status(city["c2"], at(14, 30), 2)
    status(city["c2"], at(16), 1)
    indicators_compute_day(DAY)
    sat = one(api, code="SAT", level="station", station="ST1")
    assert (sat["numerator"], sat["denominator"]) == (3600.0, DAY_SECONDS)  # both busy 14:30–15:30
    assert one(api, code="PU_LEN", level="station")["value"] == 60.0
    peak = one(api, code="PU_MAX", level="station")
    assert (peak["value"], peak["details"]["hour"]) == (30.0, 14)  # 14:30–15:00 and 15:00–15:30: 30 min each


def test_tariff_mismatch_and_reconciliation_on_time(city, api):
    status(city["c1"], at(23, day=9), 1)
    checked = order(city["c1"], at(12), at(12, 45))
    order(city["c1"], at(13), at(13, 45))
    report = checked.reports.get()
    OrderFinding.objects.create(order=checked, report=report, category="price", rule="price_money", message="价")
    ReconciliationRun.objects.create(
        operator=city["op"], check_order_seq=f"{city['op'].operator_id}202401110100000001", start_time=at(0),
        end_time=at(23, 59, 59), order_count=2, total_order_power=Decimal(60), total_order_money=Decimal(90),
        received_at=at(2, 30, day=11),
    )  # fmt: skip
    indicators_compute_day(DAY)
    mismatch = one(api, code="TARIFF_MISMATCH", level="operator")
    assert (mismatch["value"], mismatch["details"]["orders"]) == (50.0, [checked.start_charge_seq])
    assert one(api, code="T_RECON", level="operator")["value"] == 100.0


def test_roll_up_is_sum_over_sum_and_the_command_computes_a_day(city, api):
    # Day 10: C1 93.75 % (offline 90 min), C2 100 %. Day 11: both 100 %. The week (from Monday 2024-01-08):
    # (81000 + 86400 + 86400 + 86400) ÷ 345600 = 98.4375 %, not the mean of daily percentages of the station.
    status(city["c1"], at(23, day=9), 1)
    status(city["c1"], at(10), 0)
    status(city["c1"], at(11, 30), 1)
    status(city["c2"], at(23, day=9), 1)
    sweeps(city["op"], at(0, day=11), at(0, day=12))
    call_command("hlht_indicators", "--date", "2024-01-10", stdout=open("/dev/null", "w"))  # noqa: SIM115
    call_command("hlht_indicators", "--date", "2024-01-11", stdout=open("/dev/null", "w"))  # noqa: SIM115
    rows = api.get("/api/indicators/", {"code": "AVAIL", "level": "station", "period": "week"}).json()["results"]
    assert [(r["start"], r["value"], r["numerator"], r["denominator"]) for r in rows] == [
        ("2024-01-08", 98.4375, 340200.0, 345600.0)
    ]
    assert rows[0]["details"]["days"] == 2
    # A connector's week keeps its durations summed (PostgreSQL: one INSERT … SELECT; SQLite: in Python).
    week = api.get("/api/indicators/", {"code": "AVAIL", "level": "connector", "connector": "C1",
                                        "period": "week"}).json()["results"][0]  # fmt: skip
    assert week["details"] == {"days": 2, "t_free": 167400.0, "t_occupied": 0.0, "t_charging": 0.0, "t_out": 5400.0,
                               "t_unknown": 0.0, "t_excluded": 0.0, "t_period": 172800.0}  # fmt: skip
    assert (week["value"], week["numerator"], week["denominator"]) == (96.875, 167400.0, 172800.0)
    days = api.get("/api/indicators/", {"code": "AVAIL", "level": "city", "period": "day",
                                        "start_after": "2024-01-10", "start_before": "2024-01-11"}).json()  # fmt: skip
    assert [(r["start"], r["value"]) for r in days["results"]] == [("2024-01-11", 100.0), ("2024-01-10", 96.875)]
    quarter = api.get("/api/indicators/", {"code": "AVAIL", "level": "city", "period": "quarter"}).json()["results"]
    assert [(r["start"], r["value"]) for r in quarter] == [("2024-01-01", 98.4375)]


def test_scope_an_operator_manager_sees_only_their_operator(city, api, django_user_model):
    other = factories.operator("MA59CU773")
    st = factories.station(other, "STB", area_code="110108")
    factories.connector(factories.equipment(st, "EQB"), "CB")
    Connector.objects.filter(connector_id="CB").update(created=at(0, day=1))
    status(city["c1"], at(23, day=9), 1)
    indicators_compute_day(DAY)
    manager = django_user_model.objects.create_user(username="mgr", password="pw-for-tests-only", is_staff=True)
    manager.groups.add(django_user_model.groups.rel.model.objects.get(name=OPERATOR_MANAGER))
    OperatorAccount.objects.create(user=manager, operator=other)
    client = APIClient()
    client.force_authenticate(manager)
    seen = client.get("/api/indicators/", {"page_size": 500}).json()["results"]
    assert seen and {r["target"].split(":")[0] for r in seen if r["level"] in ("connector", "station")} == {"MA59CU773"}
    assert {r["level"] for r in seen} <= {"connector", "station", "operator"}
    assert all(r["target"] == "MA59CU773" for r in seen if r["level"] == "operator")
    assert api.get("/api/indicators/", {"level": "city", "code": "AVAIL", "period": "day"}).json()["count"] == 1
    assert api.get("/api/indicators/", {"level": "nonsense"}).status_code == 400


def test_tariff_drift_a_policy_change_without_the_published_fees_changing_within_a_day(city, api):
    from apps.pricing.services import policy_observe

    def tariff(conn, when, elec):
        infos = [{"StartTime": "000000", "ElecPrice": Decimal(elec), "SevicePrice": Decimal("0.8000")}]
        policy_observe(connector=conn, infos=infos, observed_at=when)

    status(city["c1"], at(23, day=9), 1)
    for conn in (city["c1"], city["c2"]):
        tariff(conn, at(8, day=9), "1.0000")  # first versions: not changes
    tariff(city["c1"], at(12), "1.2000")  # a change, the station's published fees never follow: drift
    tariff(city["c1"], at(12, 5), "1.2000")  # the same tariff again: no new version, nothing counted
    other = factories.station(city["op"], "ST2")
    moved = factories.connector(factories.equipment(other, "EQ2"), "C3")
    tariff(moved, at(8, day=9), "1.0000")
    tariff(moved, at(12), "1.3000")  # a change the directory follows three hours later: not drift
    change = DirectoryChange.objects.create(
        operator=city["op"], station_id="ST2", kind="station", object_id="ST2", action="updated",
        changes={"electricity_fee": ["1.0", "1.3"]},
    )  # fmt: skip
    DirectoryChange.objects.filter(pk=change.pk).update(created=at(15))
    indicators_compute_day(DAY)
    drift = one(api, code="TARIFF_DRIFT", level="operator")
    assert (drift["value"], drift["numerator"], drift["denominator"]) == (50.0, 1.0, 2.0)
    assert drift["details"]["connectors"] == [{"StationID": "ST1", "ConnectorID": "C1"}]


def test_start_and_stop_results_and_charging_pushes_against_50_seconds(city, api):
    from apps.charging.models import ChargingSession, CommandAttempt, OutboundCommand
    from apps.drivers.services import driver_register
    from apps.interconnect.models import Exchange

    status(city["c1"], at(23, day=9), 1)
    driver = driver_register(phone="13812345678")

    def session(seq, begun, ended):
        return ChargingSession.objects.create(
            driver=driver, operator=city["op"], connector=city["c1"], start_charge_seq=seq, requested_at=begun,
            started_at=begun, ended_at=ended, state=4,
        )  # fmt: skip

    def answered(sess, kind, moment):
        command = OutboundCommand.objects.create(session=sess, kind=kind, state="done")
        attempt = CommandAttempt.objects.create(command=command, ok=True)
        CommandAttempt.objects.filter(pk=attempt.pk).update(at=moment)

    def pushed(interface, seq, moment):
        row = Exchange.objects.create(
            operator=city["op"], interface=interface, direction="in", request={"StartChargeSeq": seq}
        )
        Exchange.objects.filter(pk=row.pk).update(created=moment)

    first = session("MA01HLHT0202401100800000001", at(8), at(8, 3))
    second = session("MA01HLHT0202401100900000001", at(9), at(9, 2))
    answered(first, "start", at(7, 59, 50))
    pushed("notification_start_charge_result", first.start_charge_seq, at(8, 0, 40))  # 50 s: on time
    answered(second, "start", at(8, 59, 50))
    pushed("notification_start_charge_result", second.start_charge_seq, at(9, 0, 41))  # 51 s: late
    answered(first, "stop", at(8, 3))  # no stop result ever: missed
    # The first session charges 08:00–08:03 with pushes at 08:00:50 and 08:02:30: gaps 50, 100 and 30 s.
    pushed("notification_equip_charge_status", first.start_charge_seq, at(8, 0, 50))
    pushed("notification_equip_charge_status", first.start_charge_seq, at(8, 2, 30))
    indicators_compute_day(DAY)
    start = one(api, code="T_START", level="operator")
    assert (start["value"], start["numerator"], start["denominator"]) == (50.0, 1.0, 2.0)
    assert start["details"]["late"] == [{"StartChargeSeq": second.start_charge_seq, "delay_s": 51.0}]
    stop = one(api, code="T_STOP", level="operator")
    assert (stop["value"], stop["details"]["late"]) == (0.0, [{"StartChargeSeq": first.start_charge_seq,
                                                               "delay_s": None}])  # fmt: skip
    charging = one(api, code="T_CHARGING", level="operator")
    # The first session: 2 of 3 gaps within 50 s; the second (09:00–09:02, no push): one gap of 120 s.
    assert (charging["numerator"], charging["denominator"]) == (2.0, 4.0)


def test_data_quality_per_operator_and_rule(city, api):
    from apps.interconnect.models import Exchange, RejectedRecord

    status(city["c1"], at(23, day=9), 1)
    run = SyncRun.objects.create(operator=city["op"], interface="query_stations_info", status="succeeded",
                                 created_count=8, updated_count=1, rejected_count=1)  # fmt: skip
    SyncRun.objects.filter(pk=run.pk).update(started=at(3))
    bad = RejectedRecord.objects.create(
        operator=city["op"], run=run, interface="query_stations_info", record_key="BAD1",
        rules=["area_code", "required"], reasons=["x", "y"],
    )  # fmt: skip
    RejectedRecord.objects.filter(pk=bad.pk).update(created=at(3))
    found = order(city["c1"], at(12), at(12, 45))
    order(city["c1"], at(13), at(13, 45))
    for minute in (45, 46):
        row = Exchange.objects.create(operator=city["op"], interface="notification_charge_order_info", direction="in")
        Exchange.objects.filter(pk=row.pk).update(created=at(13, minute))
    OrderFinding.objects.create(order=found, report=found.reports.get(), category="price", rule="price_money",
                                message="价")  # fmt: skip
    indicators_compute_day(DAY)
    # 10 station records pulled + 2 order pushes checked; 1 station record and 1 order failing.
    overall = one(api, code="DQ", level="operator")
    assert (overall["numerator"], overall["denominator"], overall["value"]) == (10.0, 12.0, round(1000 / 12, 6))
    rules = {
        r["target"]: r for r in api.get("/api/indicators/", {"code": "DQ_RULE", "period": "day"}).json()["results"]
    }
    assert set(rules) == {"123456789:area_code", "123456789:required", "123456789:price_money"}
    area = rules["123456789:area_code"]
    assert (area["numerator"], area["denominator"], area["value"]) == (1.0, 10.0, 10.0)
    assert area["details"] == {"rule": "area_code", "interface": "query_stations_info", "severity": "error",
                               "samples": ["BAD1"]}  # fmt: skip
    price = rules["123456789:price_money"]
    assert (price["numerator"], price["denominator"], price["details"]["severity"]) == (1.0, 2.0, "warning")
    assert price["details"]["samples"] == [found.start_charge_seq]


def test_every_connectors_week_city_wide_must_be_narrowed_first(city, api):
    # PostgreSQL sums connectors' weeks, months and quarters when asked: a city-wide person names an operator,
    # a station or a connector first, and the answer says which field (a city's would hold a web worker for minutes).
    status(city["c1"], at(23, day=9), 1)
    call_command("hlht_indicators", "--date", "2024-01-10", stdout=open("/dev/null", "w"))  # noqa: SIM115
    wide = api.get("/api/indicators/", {"code": "AVAIL", "level": "connector", "period": "week"})
    narrowed = api.get("/api/indicators/", {"code": "AVAIL", "level": "connector", "period": "week",
                                            "operator": "123456789"})  # fmt: skip
    assert narrowed.status_code == 200
    assert [r["target"] for r in narrowed.json()["results"]] == ["123456789:C1", "123456789:C2"]
    if connection.vendor == "postgresql":
        assert wide.status_code == 400
        assert list(wide.json()) == ["operator"] and "运营商" in wide.json()["operator"][0]
    else:  # SQLite stores every level's periods nightly: nothing to sum on request
        assert wide.status_code == 200 and len(wide.json()["results"]) == 2
    # A day's connector rows are stored nightly: no narrowing needed.
    assert api.get("/api/indicators/", {"code": "AVAIL", "level": "connector", "period": "day"}).status_code == 200
