"""Each fault mode, switched on for one run, and the effect the portal has to survive."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from apps.protocol import (
    CST,
    ExchangeRecord,
    PermanentError,
    SignatureError,
    TransientError,
    now,
    open_response,
    parse_timestamp,
    verify_response,
)
from apps.simulator.directory import INVALID_KINDS
from apps.simulator.faults import SPECS, Faults, describe
from apps.simulator.simulator import Simulator

from .support import AREA_CODES, OUTBOUND, Receiver, exchange, portal_client, serial, settle, token_for, usable

Factory = Callable[..., Simulator]


def crawl(sim: Simulator) -> list[dict]:
    with portal_client(sim) as client:
        return client.call("query_stations_info", {"PageSize": 100})["StationInfos"]


# -- parsing -----------------------------------------------------------------------------------------------------------


def test_fault_list_parses_names_and_parameters() -> None:
    faults = Faults.parse("busy:0.2, slow , clock_skew:-30,disappearing_station:3")
    assert dict(faults.params) == {"busy": 0.2, "slow": 2.0, "clock_skew": -30.0, "disappearing_station": 3.0}
    assert str(Faults.parse("")) == "none"
    for spec in SPECS:
        assert spec.name in describe()


@pytest.mark.parametrize("text", ["nonsense", "busy:x", "busy:1.5", "disappearing_station:0"])
def test_bad_fault_list_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="fault"):
        Faults.parse(text)


def test_rate_faults_are_repeatable_for_a_seed() -> None:
    def pattern(seed: int) -> list[bool]:
        faults = Faults.parse("busy:0.3", seed=seed)
        return [faults.roll("busy") for _ in range(200)]

    assert pattern(7) == pattern(7) != pattern(8)
    assert 30 < sum(pattern(7)) < 90


# -- answer faults -----------------------------------------------------------------------------------------------------


def test_slow_delays_business_answers_only(sims: Factory) -> None:
    sim = sims(faults="slow:0.5")
    with portal_client(sim) as client:
        began = time.perf_counter()
        client.authenticate()
        assert time.perf_counter() - began < 0.4
        began = time.perf_counter()
        client.call("query_station_status", {"StationIDs": [sim.directory.stations[0].sid]})
        assert time.perf_counter() - began >= 0.5


def test_timeout_holds_the_call_past_the_client_read_timeout(sims: Factory) -> None:
    sim = sims(faults="timeout:1", timeout_hold=1.0)
    with portal_client(sim, read_timeout=0.3) as client, pytest.raises(TransientError, match="Timeout"):
        client.call("query_stations_info", {})


def test_busy_answers_signed_ret_minus_1(sims: Factory) -> None:
    sim = sims(faults="busy:1")
    with portal_client(sim) as client, pytest.raises(TransientError) as caught:
        client.call("query_stations_info", {})
    assert caught.value.ret == -1
    raw = exchange(sim, "query_stations_info", {}, token=token_for(sim))
    assert raw.envelope.ret == -1 and raw.envelope.msg == "系统繁忙，此时请求方稍后重试"
    assert open_response(raw.envelope, OUTBOUND) == {}  # encrypted {} as in vector V-C5


def test_error500_answers_ret_500(sims: Factory) -> None:
    sim = sims(faults="error500:1")
    with portal_client(sim) as client, pytest.raises(TransientError) as caught:
        client.call("query_station_status", {"StationIDs": ["x"]})
    assert caught.value.ret == 500


def test_partial_rates_mix_faults_with_good_answers(sims: Factory) -> None:
    sim = sims(faults="busy:0.3,error500:0.2", seed=3)
    outcomes = []
    with portal_client(sim) as client:
        for _ in range(40):
            try:
                client.call("query_station_status", {"StationIDs": ["x"]})
                outcomes.append(0)
            except TransientError as exc:
                outcomes.append(exc.ret)
    assert {0, -1, 500} == set(outcomes)


def test_bad_sig_corrupts_business_answers(sims: Factory) -> None:
    sim = sims(faults="bad_sig:1")
    with portal_client(sim) as client:
        client.authenticate()  # query_token answers stay valid, so the fault meets the data call
        with pytest.raises(PermanentError, match="bad response Sig"):
            client.call("query_stations_info", {})
    raw = exchange(sim, "query_stations_info", {}, token=token_for(sim))
    with pytest.raises(SignatureError):
        verify_response(raw.envelope, OUTBOUND)


def test_early_token_expiry_forces_a_reauthentication(sims: Factory) -> None:
    shift = [0.0]
    sim = sims(faults="early_token_expiry:5", wall=lambda: now() + timedelta(seconds=shift[0]))
    records: list[ExchangeRecord] = []
    with portal_client(sim, on_exchange=records.append) as client:
        client.call("query_station_status", {"StationIDs": ["x"]})
        shift[0] = 10  # our token died after 5 s
        client.call("query_station_status", {"StationIDs": ["x"]})
    assert records[0].response is not None and records[0].response["TokenAvailableTime"] == 7200  # it claims more
    calls = [(r.interface, r.ret) for r in records]
    assert calls == [
        ("query_token", 0),
        ("query_station_status", 0),
        ("query_station_status", 4002),
        ("query_token", 0),
        ("query_station_status", 0),
    ]


def test_clock_skew_within_the_window_is_tolerated(pushing: Factory, receiver: Receiver) -> None:
    sim = pushing(faults="clock_skew:120")
    sim.set_connector_status(usable(sim)[0], 255)
    settle(sim)
    (push,) = receiver.pushes("notification_stationStatus")
    sent = parse_timestamp(push.envelope["TimeStamp"])
    assert 110 <= (sent - datetime.now(CST)).total_seconds() <= 125
    with portal_client(sim) as client:
        client.call("query_station_status", {"StationIDs": ["x"]})


def test_clock_skew_beyond_the_window_breaks_both_directions(pushing: Factory, receiver: Receiver) -> None:
    sim = pushing(faults="clock_skew:-900")
    sim.set_connector_status(usable(sim)[0], 255)
    settle(sim)
    assert sim.pusher is not None
    assert [r.outcome for r in sim.pusher.history()] == ["retry"]
    assert [r.ret for r in receiver.received] == [4003]  # the portal refuses even our query_token
    raw = exchange(sim, "query_token", {"OperatorID": "MA01HLHT0", "OperatorSecret": OUTBOUND.operator_secret})
    assert raw.envelope.ret == 4003 and "TimeStamp" in raw.envelope.msg


# -- directory faults --------------------------------------------------------------------------------------------------


def test_disappearing_station_vanishes_from_every_interface(sims: Factory) -> None:
    sim = sims(faults="disappearing_station:2")
    assert len(crawl(sim)) == 20
    sim.advance(600)
    gone = sim.disappeared[0]
    stations = crawl(sim)
    assert len(stations) == 19 and gone not in {s["StationID"] for s in stations}
    sim.advance(600)
    sim.advance(3600)
    assert len(crawl(sim)) == 18 and len(sim.disappeared) == 2
    with portal_client(sim) as client:
        assert client.call("query_station_status", {"StationIDs": [gone]})["Total"] == 0
        with pytest.raises(PermanentError):
            client.call("query_station_stats", {"StationID": gone, "StartTime": "2024-05-01", "EndTime": "2024-05-01"})
        cid = f"{gone}00101"
        answer = client.call("query_start_charge", {"StartChargeSeq": serial(1), "ConnectorID": cid, "QRCode": ""})
        assert (answer["SuccStat"], answer["FailReason"]) == (1, 1)


def test_invalid_records_break_one_rule_each_and_stay_stable(sims: Factory) -> None:
    sim = sims(faults="invalid_records:1", stations=12)
    stations = crawl(sim)
    kinds = []
    for info in stations:
        defects = []
        if info["StationType"] not in (1, 50, 100, 101, 102, 103, 255):
            defects.append("bad_enum")
        if len(info["StationName"]) > 50:
            defects.append("long_name")
        if not (3 < info["StationLat"] < 54 and 73 < info["StationLng"] < 136):
            defects.append("outside_china")
        types = {c["ConnectorType"] for e in info["EquipmentInfos"] for c in e["ConnectorInfos"]}
        if not types <= {1, 2, 3, 4, 5, 6}:
            defects.append("bad_connector_type")
        assert len(defects) == 1, (info["StationID"], defects)
        kinds += defects
    assert set(kinds) == set(INVALID_KINDS)
    assert crawl(sim) == stations
    partial = sims(faults="invalid_records:0.3", stations=60, seed=4)
    names = [len(s["StationName"]) > 50 or s["StationType"] == 7 or s["StationLng"] < 73 for s in crawl(partial)]
    assert 0 < sum(names) < 60
    assert all(s["AreaCode"] in AREA_CODES for s in crawl(partial))


# -- push faults -------------------------------------------------------------------------------------------------------


def test_drop_push_loses_pushes_silently(pushing: Factory, receiver: Receiver) -> None:
    sim = pushing(faults="drop_push:1")
    sim.set_connector_status(usable(sim)[0], 255)
    settle(sim, 600)
    assert receiver.pushes() == []
    assert sim.pusher is not None and [r.outcome for r in sim.pusher.history()] == ["dropped"]


def test_duplicate_push_delivers_the_same_message_twice(pushing: Factory, receiver: Receiver) -> None:
    sim = pushing(faults="duplicate_push:1")
    sim.set_connector_status(usable(sim)[0], 255)
    settle(sim)
    first, second = receiver.pushes("notification_stationStatus")
    assert first.payload == second.payload
    assert first.envelope["Sig"] != second.envelope["Sig"]  # two envelopes, not a replayed one


def test_reorder_push_swaps_consecutive_pushes(pushing: Factory, receiver: Receiver) -> None:
    sim = pushing(faults="reorder_push:1")
    cid = usable(sim)[0]
    sim.set_connector_status(cid, 255)
    settle(sim)  # the first push also fetched the token
    receiver.clear()
    with sim.pushes_held():
        sim.set_connector_status(cid, 0)
        sim.set_connector_status(cid, 1)
    settle(sim)
    assert [p["ConnectorStatusInfo"]["Status"] for p in receiver.payloads("notification_stationStatus")] == [1, 0]


def test_start_failure_ends_the_session_without_an_order(pushing: Factory, receiver: Receiver) -> None:
    sim = pushing(faults="start_failure:1")
    cid = usable(sim)[0]
    with portal_client(sim) as client:
        client.call("query_start_charge", {"StartChargeSeq": serial(1), "ConnectorID": cid, "QRCode": ""})
        settle(sim, 600)
        status = client.call("query_equip_charge_status", {"StartChargeSeq": serial(1)})
    (result,) = receiver.payloads("notification_start_charge_result")
    assert result["StartChargeSeqStat"] == 4 and status["StartChargeSeqStat"] == 4
    assert receiver.payloads("notification_charge_order_info") == []
    assert receiver.payloads("notification_charge_order_info_for_bonus") == []
    statuses = [p["ConnectorStatusInfo"]["Status"] for p in receiver.payloads("notification_stationStatus")]
    assert statuses == [2, 1]
