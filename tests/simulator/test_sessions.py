"""Sessions and pushes over real HTTP to a portal stand-in: start → status → stop → order + bonus, retries, walk-ins."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from itertools import pairwise
from typing import Any

from apps.protocol import CST, parse_datetime
from apps.simulator.pushes import BONUS_RETRIES, GENERIC_RETRIES, ORDER_RETRIES
from apps.simulator.simulator import Simulator

from .support import INBOUND2, OUTBOUND2, SIM2_ID, SIM_ID, START, Receiver, portal_client, serial, settle, usable

Factory = Callable[..., Simulator]


def attempts(sim: Simulator, interface: str) -> list[tuple[float, str]]:
    """(simulated time, outcome) of every attempt the simulator made at one interface."""
    assert sim.pusher is not None
    return [(r.sim_time, r.outcome) for r in sim.pusher.history() if r.interface == interface]


def gaps(moments: list[float]) -> list[int]:
    """Whole seconds between successive moments."""
    return [round(b - a) for a, b in pairwise(moments)]


def assert_order_consistent(order: dict[str, Any]) -> None:
    assert len(order["StartChargeSeq"]) == 27
    assert order["TotalMoney"] == order["TotalElecMoney"] + order["TotalSeviceMoney"]
    assert order["SumPeriod"] == len(order["ChargeDetails"]) >= 1
    assert sum(d["DetailPower"] for d in order["ChargeDetails"]) == order["TotalPower"]
    assert sum(d["DetailElecMoney"] for d in order["ChargeDetails"]) == order["TotalElecMoney"]
    assert sum(d["DetailSeviceMoney"] for d in order["ChargeDetails"]) == order["TotalSeviceMoney"]
    for name in ("TotalPower", "TotalElecMoney", "TotalSeviceMoney", "TotalMoney"):
        assert order[name].as_tuple().exponent == -2, name
    assert order["ChargeDetails"][0]["DetailStartTime"] == order["StartTime"]
    assert order["ChargeDetails"][-1]["DetailEndTime"] == order["EndTime"]
    assert parse_datetime(order["StartTime"]) <= parse_datetime(order["EndTime"])


def test_portal_started_session_pushes_everything_in_order(pushing: Factory, receiver: Receiver) -> None:
    sim = pushing()
    cid = usable(sim)[0]
    seq = serial(1)
    with portal_client(sim) as client:
        accepted = client.call("query_start_charge", {"StartChargeSeq": seq, "ConnectorID": cid, "QRCode": ""})
        assert (accepted["SuccStat"], accepted["StartChargeSeqStat"]) == (0, 1)
        commanded = sim.clock.time()
        settle(sim, 50)
        (start,) = receiver.payloads("notification_start_charge_result")
        assert start["StartChargeSeq"] == seq and start["StartChargeSeqStat"] == 2 and start["ConnectorID"] == cid
        assert len(start["IdentCode"]) == 6
        started = parse_datetime(start["StartTime"]).timestamp()
        assert commanded < started <= commanded + 50  # Beijing: the start result within 50 s
        settle(sim, 120)
        statuses = receiver.payloads("notification_equip_charge_status")
        assert len(statuses) == 3  # every 50 s while charging
        times = [parse_datetime(s["EndTime"]).timestamp() for s in statuses]
        assert gaps(times) == [50, 50]
        assert all(s["ChargeModel"] == 1 and s["StartChargeSeqStat"] == 2 for s in statuses)
        powers = [s["TotalPower"] for s in statuses]
        assert powers == sorted(powers) and powers[0] > 0
        client.call("query_stop_charge", {"StartChargeSeq": seq, "ConnectorID": cid})
        stop_commanded = sim.clock.time()
        settle(sim, 200)
    (stop,) = receiver.payloads("notification_stop_charge_result")
    assert (stop["StartChargeSeqStat"], stop["SuccStat"], stop["FailReason"]) == (4, 0, 0)
    (order,) = receiver.payloads("notification_charge_order_info")
    (bonus,) = receiver.payloads("notification_charge_order_info_for_bonus")
    assert parse_datetime(order["EndTime"]).timestamp() <= stop_commanded + 50  # stopped within 50 s
    assert order["StopReason"] == 1 and order["StartChargeSeq"] == seq
    assert_order_consistent(order)
    assert {k: bonus[k] for k in order} == order
    assert bonus["ChargeModel"] == 1 and bonus["StationID"] == cid[:12] and bonus["EquipmentID"] == cid[:15]
    assert bonus["MeterValueEnd"] - bonus["MeterValueStart"] == bonus["TotalPower"]
    assert bonus["ChargeLast"] == round(parse_datetime(order["EndTime"]).timestamp() - started)
    # Connector statuses: plugged at the command, charging at the start, plugged after the stop.
    mine = [p["ConnectorStatusInfo"]["Status"] for p in receiver.payloads("notification_stationStatus")]
    assert mine == [2, 3, 2]
    sequence = [r.interface for r in receiver.pushes() if r.interface != "notification_stationStatus"]
    assert sequence.index("notification_start_charge_result") < sequence.index("notification_equip_charge_status")
    assert sequence.index("notification_stop_charge_result") < sequence.index("notification_charge_order_info")
    assert sequence.index("notification_charge_order_info") < sequence.index("notification_charge_order_info_for_bonus")
    assert sim.pusher is not None
    push_times = {r.interface: r.sim_time for r in sim.pusher.history() if r.outcome == "delivered"}
    end = parse_datetime(order["EndTime"]).timestamp()
    assert push_times["notification_charge_order_info"] - end <= 30  # order within 30 s
    assert push_times["notification_charge_order_info_for_bonus"] - end <= 150  # bonus order within 150 s


def test_session_ends_by_itself_when_the_battery_is_full(pushing: Factory, receiver: Receiver) -> None:
    sim = pushing()
    cid = usable(sim)[0]
    with portal_client(sim) as client:
        client.call("query_start_charge", {"StartChargeSeq": serial(2), "ConnectorID": cid, "QRCode": ""})
    settle(sim, 12 * 3600)
    (order,) = receiver.payloads("notification_charge_order_info")
    assert order["StopReason"] == 2  # BMS: full
    assert_order_consistent(order)
    assert len(receiver.payloads("notification_stop_charge_result")) == 1
    statuses = [p["ConnectorStatusInfo"]["Status"] for p in receiver.payloads("notification_stationStatus")]
    assert statuses == [2, 3, 2, 1]  # unplugged in the end


def test_order_details_split_at_tariff_periods(pushing: Factory, receiver: Receiver) -> None:
    sim = pushing(start=datetime(2024, 5, 20, 9, 40, tzinfo=CST))
    ac = next(
        c.id for c in sim.directory.connectors if not c.is_dc and c.station.in_service and c.status == 1
    )  # AC: slow enough to cross 10:00
    with portal_client(sim) as client:
        client.call("query_start_charge", {"StartChargeSeq": serial(3), "ConnectorID": ac, "QRCode": ""})
        settle(sim, 40 * 60)
        client.call("query_stop_charge", {"StartChargeSeq": serial(3), "ConnectorID": ac})
        settle(sim, 60)
    (order,) = receiver.payloads("notification_charge_order_info")
    assert_order_consistent(order)
    assert order["SumPeriod"] == 2
    flat, peak = order["ChargeDetails"]
    assert flat["DetailEndTime"] == "2024-05-20 10:00:00" == peak["DetailStartTime"]
    assert peak["ElecPrice"] > flat["ElecPrice"]


def test_order_push_retries_on_the_chengdu_beijing_schedule(pushing: Factory, receiver: Receiver) -> None:
    sim = pushing()
    cid = usable(sim)[0]
    receiver.script("notification_charge_order_info", *([500] * 5))
    with portal_client(sim) as client:
        client.call("query_start_charge", {"StartChargeSeq": serial(4), "ConnectorID": cid, "QRCode": ""})
        settle(sim, 60)
        client.call("query_stop_charge", {"StartChargeSeq": serial(4), "ConnectorID": cid})
    settle(sim, 3 * 3600)
    tries = attempts(sim, "notification_charge_order_info")
    assert [outcome for _, outcome in tries] == ["retry"] * 5 + ["delivered"]
    assert gaps([t for t, _ in tries]) == list(ORDER_RETRIES[:5])
    assert len(receiver.pushes("notification_charge_order_info", ok_only=False)) == 6


def test_order_push_gives_up_after_the_schedule_and_dispute_ends_it(pushing: Factory, receiver: Receiver) -> None:
    sim = pushing()
    first, second = usable(sim, 2)
    receiver.script("notification_charge_order_info", *([-1] * (len(ORDER_RETRIES) + 1)))
    with portal_client(sim) as client:
        client.call("query_start_charge", {"StartChargeSeq": serial(5), "ConnectorID": first, "QRCode": ""})
        settle(sim, 30)
        client.call("query_stop_charge", {"StartChargeSeq": serial(5), "ConnectorID": first})
        settle(sim, 6 * 3600)
        tries = attempts(sim, "notification_charge_order_info")
        assert len(tries) == len(ORDER_RETRIES) + 1 and tries[-1][1] == "gave_up"
        receiver.clear()
        receiver.script("notification_charge_order_info", {"ConfirmResult": 1})  # a definitive dispute
        client.call("query_start_charge", {"StartChargeSeq": serial(6), "ConnectorID": second, "QRCode": ""})
        settle(sim, 30)
        client.call("query_stop_charge", {"StartChargeSeq": serial(6), "ConnectorID": second})
    settle(sim, 3600)
    assert len(receiver.pushes("notification_charge_order_info")) == 1


def test_bonus_push_retries_until_confirm_result_zero(pushing: Factory, receiver: Receiver) -> None:
    sim = pushing()
    cid = usable(sim)[0]
    receiver.script("notification_charge_order_info_for_bonus", {"ConfirmResult": 1}, {"ConfirmResult": 2}, 500)
    with portal_client(sim) as client:
        client.call("query_start_charge", {"StartChargeSeq": serial(7), "ConnectorID": cid, "QRCode": ""})
        settle(sim, 30)
        client.call("query_stop_charge", {"StartChargeSeq": serial(7), "ConnectorID": cid})
    settle(sim, 2 * 3600)
    tries = attempts(sim, "notification_charge_order_info_for_bonus")
    assert [o for _, o in tries] == ["retry", "retry", "retry", "delivered"]
    assert gaps([t for t, _ in tries]) == list(BONUS_RETRIES[:3])
    assert BONUS_RETRIES[:3] == (150, 300, 450) and BONUS_RETRIES[11:13] == (1800, 3600)


def test_status_push_retries_on_failure_but_not_on_status_1(pushing: Factory, receiver: Receiver) -> None:
    sim = pushing()
    first, second = usable(sim, 2)
    receiver.script("notification_stationStatus", {"Status": 1})
    sim.set_connector_status(first, 255)
    settle(sim, 600)
    assert [o for _, o in attempts(sim, "notification_stationStatus")] == ["delivered"]
    receiver.script("notification_stationStatus", 500, 500)
    sim.set_connector_status(second, 255)
    settle(sim, 600)
    tries = attempts(sim, "notification_stationStatus")[1:]
    assert [o for _, o in tries] == ["retry", "retry", "delivered"]
    assert gaps([t for t, _ in tries]) == list(GENERIC_RETRIES[:2])


def test_walk_in_sessions_produce_bonus_orders_only(pushing: Factory, receiver: Receiver) -> None:
    sim = pushing(walkin_rate=4.0)
    settle(sim, 3 * 3600)
    bonuses = receiver.payloads("notification_charge_order_info_for_bonus")
    assert len(bonuses) >= 5
    assert receiver.payloads("notification_charge_order_info") == []  # those are for portal-started sessions
    for bonus in bonuses:
        assert bonus["ChargeModel"] in (2, 3)
        assert bonus["StartChargeSeq"].startswith(SIM_ID) and len(bonus["StartChargeSeq"]) == 27
        assert bonus["StopReason"] in (0, 2, 3, 4)
        assert_order_consistent(bonus)
    assert len({b["StartChargeSeq"] for b in bonuses}) == len(bonuses)
    statuses = {p["ConnectorStatusInfo"]["Status"] for p in receiver.payloads("notification_stationStatus")}
    assert {1, 2, 3} <= statuses
    with portal_client(sim) as client:  # the energy shows up in the stats of the day the orders ended
        station_id = bonuses[0]["StationID"]
        day = bonuses[0]["EndTime"][:10]
        stats = client.call("query_station_stats", {"StationID": station_id, "StartTime": day, "EndTime": day})
    energy = sum(b["TotalPower"] for b in bonuses if b["StationID"] == station_id and b["EndTime"][:10] == day)
    assert abs(stats["StationStats"]["StationElectricity"] - energy) <= Decimal("0.05") * len(bonuses)


def test_daily_check_charge_orders_covers_yesterdays_portal_orders(pushing: Factory, receiver: Receiver) -> None:
    sim = pushing(start=datetime(2024, 5, 20, 22, 0, tzinfo=CST), walkin_rate=0.5)
    with portal_client(sim) as client:
        for n in (8, 9):
            cid = usable(sim)[0]  # chosen just before: walk-in drivers take connectors meanwhile
            client.call("query_start_charge", {"StartChargeSeq": serial(n), "ConnectorID": cid, "QRCode": ""})
            settle(sim, 600)
            client.call("query_stop_charge", {"StartChargeSeq": serial(n), "ConnectorID": cid})
            settle(sim, 60)
    settle(sim, (datetime(2024, 5, 21, 1, 0, 1, tzinfo=CST).timestamp() - sim.clock.time()))
    (check,) = receiver.payloads("check_charge_orders")
    assert (check["StartTime"], check["EndTime"]) == ("2024-05-20 00:00:00", "2024-05-20 23:59:59")
    assert check["CheckOrderSeq"].startswith(SIM_ID) and len(check["CheckOrderSeq"]) == 27
    orders = {o["StartChargeSeq"]: o for o in receiver.payloads("notification_charge_order_info")}
    assert check["OrderCount"] == len(check["ChargeOrders"]) == 2
    assert {o["StartChargeSeq"] for o in check["ChargeOrders"]} == set(orders) == {serial(8), serial(9)}
    assert check["TotalOrderPower"] == sum(o["TotalPower"] for o in orders.values())
    assert check["TotalOrderPower"].as_tuple().exponent == -4
    assert check["TotalOrderMoney"] == sum(o["TotalMoney"] for o in orders.values())
    walk_ins = [b for b in receiver.payloads("notification_charge_order_info_for_bonus") if b["ChargeModel"] != 1]
    assert walk_ins  # they exist, but reconciliation covers only sessions started through the portal
    settle(sim, 24 * 3600)
    second_check = receiver.payloads("check_charge_orders")[1]
    assert second_check["StartTime"] == "2024-05-21 00:00:00" and second_check["OrderCount"] == 0


def test_a_reconciliation_of_the_day_so_far_keeps_its_orders_for_the_daily_one_and_acks_are_recorded(
    pushing: Factory, receiver: Receiver
) -> None:
    sim = pushing(start=datetime(2024, 5, 20, 22, 0, tzinfo=CST), reconcile_every=900.0)
    with portal_client(sim) as client:
        cid = usable(sim)[0]
        client.call("query_start_charge", {"StartChargeSeq": serial(7), "ConnectorID": cid, "QRCode": ""})
        settle(sim, 600)
        client.call("query_stop_charge", {"StartChargeSeq": serial(7), "ConnectorID": cid})
        settle(sim, 60)
    settle(sim, 900)  # the next reconciliation of the day so far lists the order …
    listed = [c for c in receiver.payloads("check_charge_orders") if c["OrderCount"]]
    assert listed and {o["StartChargeSeq"] for o in listed[-1]["ChargeOrders"]} == {serial(7)}
    settle(sim, datetime(2024, 5, 21, 1, 0, 1, tzinfo=CST).timestamp() - sim.clock.time())
    daily = [c for c in receiver.payloads("check_charge_orders") if c["StartTime"] == "2024-05-20 00:00:00"][-1]
    assert daily["OrderCount"] == 1  # … and the daily run (01:00 the next day) still does
    # Every push the portal answered Ret 0 is recorded with what names it (the soak compares them with its rows).
    assert sim.pusher is not None
    assert sim.pusher.acks["notification_charge_order_info"] == [serial(7)]
    assert serial(7) in sim.pusher.acks["notification_start_charge_result"]


def test_statuses_follow_the_time_of_day(sims: Factory) -> None:
    def busy_share(hour: int) -> float:
        sim = sims(stations=400, walkin_rate=3.0, incident_rate=0.02, start=START.replace(hour=hour))
        connectors = [c for c in sim.directory.connectors if c.station.in_service]
        return sum(c.status in (2, 3) for c in connectors) / len(connectors)

    night, dawn = busy_share(23), busy_share(5)
    assert night > dawn + 0.1
    sim = sims(stations=100, walkin_rate=3.0, incident_rate=0.5)
    before = [c.status for c in sim.directory.connectors]
    sim.advance(6 * 3600)
    after = [c.status for c in sim.directory.connectors]
    changed = sum(a != b for a, b in zip(before, after, strict=True))
    assert changed > len(before) * 0.1
    assert {0, 1, 2, 3, 255} <= set(after)


def test_two_simulators_push_side_by_side_with_their_own_keys(pushing: Factory, receiver: Receiver) -> None:
    one = pushing()
    two = pushing(operator_id=SIM2_ID, inbound=INBOUND2, outbound=OUTBOUND2, seed=2)
    one.set_connector_status(usable(one)[0], 255)
    two.set_connector_status(usable(two)[0], 255)
    settle(one)
    settle(two)
    senders = sorted(r.operator_id for r in receiver.pushes("notification_stationStatus"))
    assert senders == sorted([SIM_ID, SIM2_ID])
    assert receiver.token_calls == {SIM_ID: 1, SIM2_ID: 1}
    with portal_client(two, OUTBOUND2) as client:
        assert client.call("query_stations_info", {})["StationInfos"][0]["OperatorID"] == SIM2_ID
    assert one.base_url != two.base_url
