"""Every operator-side interface over real HTTP, with the strict envelope checks the portal itself applies."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from apps.protocol import (
    CST,
    KeySet,
    PermanentError,
    build_request,
    format_datetime,
    format_timestamp,
    now,
    sign_request,
    verify_response,
)
from apps.simulator import handlers
from apps.simulator.directory import CHARGING, OFFLINE
from apps.simulator.simulator import Simulator

from .support import OUTBOUND, exchange, portal_client, serial, token_for, usable

Sims = Callable[..., Simulator]


# -- query_token ------------------------------------------------------------------------------------------------------


def test_query_token_issues_a_random_token_for_the_right_secret(sims: Sims) -> None:
    sim = sims()
    raw = exchange(sim, "query_token", {"OperatorID": "MA01HLHT0", "OperatorSecret": OUTBOUND.operator_secret})
    assert raw.status == 200 and raw.envelope.ret == 0
    assert raw.data is not None
    assert raw.data["SuccStat"] == 0 and raw.data["FailReason"] == 0
    assert raw.data["TokenAvailableTime"] == 7200
    assert len(raw.data["AccessToken"]) >= 32
    again = exchange(sim, "query_token", {"OperatorID": "MA01HLHT0", "OperatorSecret": OUTBOUND.operator_secret})
    assert again.data is not None and again.data["AccessToken"] != raw.data["AccessToken"]


def test_query_token_refuses_wrong_secret_and_other_operator(sims: Sims) -> None:
    sim = sims()
    wrong = exchange(sim, "query_token", {"OperatorID": "MA01HLHT0", "OperatorSecret": "not-the-secret"})
    assert wrong.envelope.ret == 0 and wrong.data is not None
    assert (wrong.data["SuccStat"], wrong.data["FailReason"], wrong.data["AccessToken"]) == (1, 2, "")
    other = exchange(sim, "query_token", {"OperatorID": "OTHER0001", "OperatorSecret": OUTBOUND.operator_secret})
    assert other.data is not None and (other.data["SuccStat"], other.data["FailReason"]) == (1, 1)


def test_token_ttl_is_configurable(sims: Sims) -> None:
    sim = sims(token_ttl=600)
    raw = exchange(sim, "query_token", {"OperatorID": "MA01HLHT0", "OperatorSecret": OUTBOUND.operator_secret})
    assert raw.data is not None and raw.data["TokenAvailableTime"] == 600


# -- strict envelope checks --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["OperatorID", "Data", "TimeStamp", "Seq", "Sig"])
@pytest.mark.parametrize("blank", [False, True])
def test_missing_or_blank_envelope_field_is_4003_naming_it(sims: Sims, field: str, blank: bool) -> None:
    sim = sims()
    body = build_request("MA01HLHT0", {"StationIDs": ["x"]}, OUTBOUND).to_dict()
    if blank:
        body[field] = " "
    else:
        del body[field]
    raw = exchange(sim, "query_station_status", {}, body=body, token=token_for(sim))
    assert raw.status == 200 and raw.content_type.startswith("application/json")
    assert raw.envelope.ret == 4003 and field in raw.envelope.msg
    if field == "OperatorID":
        assert raw.envelope.sig == ""  # caller unknown: nothing to sign with
    else:
        verify_response(raw.envelope, OUTBOUND)  # the caller claims to be the portal: the refusal is signed


def test_unknown_caller_gets_unsigned_4003(sims: Sims) -> None:
    sim = sims()
    raw = exchange(sim, "query_token", {"OperatorID": "STRANGER1", "OperatorSecret": "x"}, operator_id="STRANGER1")
    assert raw.envelope.ret == 4003 and "STRANGER1" in raw.envelope.msg
    assert raw.envelope.sig == "" and raw.envelope.data == ""


def test_signature_mismatch_is_4001(sims: Sims) -> None:
    sim = sims()
    forged = KeySet(OUTBOUND.operator_secret, OUTBOUND.data_secret, OUTBOUND.data_secret_iv, "another-sig-key")
    raw = exchange(sim, "query_token", {"OperatorID": "MA01HLHT0", "OperatorSecret": "x"}, keys=forged)
    assert raw.envelope.ret == 4001
    verify_response(raw.envelope, OUTBOUND)


@pytest.mark.parametrize("authorization", [None, "", "Bearer", "Bearer not-a-token", "Basic abc", "deadbeef"])
def test_missing_or_bad_token_is_4002(sims: Sims, authorization: str | None) -> None:
    sim = sims()
    token_for(sim)
    raw = exchange(sim, "query_station_status", {"StationIDs": ["x"]}, authorization=authorization)
    assert raw.envelope.ret == 4002


def test_undecryptable_data_is_4003(sims: Sims) -> None:
    sim = sims()
    stamp, seq = format_timestamp(now()), "0001"
    data = base64.b64encode(b"0123456789abcdef" * 2).decode()  # whole blocks, but garbage under our key
    body = {
        "OperatorID": "MA01HLHT0",
        "Data": data,
        "TimeStamp": stamp,
        "Seq": seq,
        "Sig": sign_request(OUTBOUND.sig_secret, "MA01HLHT0", data, stamp, seq),
    }
    raw = exchange(sim, "query_station_status", {}, body=body, token=token_for(sim))
    assert raw.envelope.ret == 4003


def test_non_json_body_and_get_are_4003_envelopes_never_html(sims: Sims) -> None:
    sim = sims()
    for raw in (
        exchange(sim, "query_token", {}, body=b"<xml/>"),
        exchange(sim, "query_token", {}, body=b"", method="GET"),
    ):
        assert raw.status == 200 and raw.content_type.startswith("application/json")
        assert raw.envelope.ret == 4003


def test_unknown_interface_is_4003(sims: Sims) -> None:
    sim = sims()
    raw = exchange(sim, "query_everything", {}, token=token_for(sim))
    assert raw.envelope.ret == 4003 and "query_everything" in raw.envelope.msg
    verify_response(raw.envelope, OUTBOUND)


def test_timestamp_outside_window_is_4003(sims: Sims) -> None:
    sim = sims()
    stale = format_timestamp(now() - timedelta(seconds=400))
    raw = exchange(sim, "query_token", {"OperatorID": "MA01HLHT0"}, timestamp=stale, seq="0001")
    assert raw.envelope.ret == 4003 and "TimeStamp" in raw.envelope.msg


@pytest.mark.parametrize("sig_first", [False, True])
def test_a_sig_first_platform_answers_4001_for_a_field_changed_after_signing(sims: Sims, sig_first: bool) -> None:
    sim = sims(sig_first=sig_first)
    body = build_request("MA01HLHT0", {"OperatorID": "MA01HLHT0", "OperatorSecret": "x"}, OUTBOUND).to_dict()
    body["TimeStamp"] = "2024-13-45"
    stale_sig = exchange(sim, "query_token", {}, body=body).envelope
    assert stale_sig.ret == (4001 if sig_first else 4003)
    verify_response(stale_sig, OUTBOUND)
    body["Sig"] = sign_request(OUTBOUND.sig_secret, body["OperatorID"], body["Data"], body["TimeStamp"], body["Seq"])
    resigned = exchange(sim, "query_token", {}, body=body).envelope
    assert resigned.ret == 4003 and "TimeStamp" in resigned.msg


def test_exact_replay_is_rejected(sims: Sims) -> None:
    sim = sims()
    body = build_request("MA01HLHT0", {"OperatorID": "MA01HLHT0", "OperatorSecret": "x"}, OUTBOUND).to_dict()
    assert exchange(sim, "query_token", {}, body=body).envelope.ret == 0
    replay = exchange(sim, "query_token", {}, body=body)
    assert replay.envelope.ret == 4003 and "重复" in replay.envelope.msg


@pytest.mark.parametrize(
    ("interface", "payload", "field"),
    [
        ("query_stations_info", {"PageSize": 101}, "PageSize"),
        ("query_stations_info", {"PageNo": 0}, "PageNo"),
        ("query_stations_info", {"PageNo": "1"}, "PageNo"),
        ("query_stations_info", {"LastQueryTime": "2024-5-1 1:2:3"}, "LastQueryTime"),
        ("query_station_status", {}, "StationIDs"),
        ("query_station_status", {"StationIDs": [f"S{i}" for i in range(51)]}, "StationIDs"),
        ("query_station_stats", {"StationID": "x", "StartTime": "2024-05-02", "EndTime": "2024-05-01"}, "EndTime"),
        ("query_station_stats", {"StationID": "x", "StartTime": "20240501", "EndTime": "2024-05-01"}, "StartTime"),
        ("query_equip_auth", {"EquipAuthSeq": "short", "ConnectorID": "1"}, "EquipAuthSeq"),
        ("query_equip_business_policy", {"EquipBizSeq": serial(1)}, "ConnectorID"),
        ("query_start_charge", {"StartChargeSeq": serial(1), "ConnectorID": "1"}, "QRCode"),
        ("query_equip_charge_status", {"StartChargeSeq": 42}, "StartChargeSeq"),
        ("query_stop_charge", {"StartChargeSeq": serial(1), "ConnectorID": "x" * 27}, "ConnectorID"),
    ],
)
def test_invalid_business_field_is_4004_naming_it(sims: Sims, interface: str, payload: dict, field: str) -> None:
    sim = sims()
    raw = exchange(sim, interface, payload, token=token_for(sim))
    assert raw.envelope.ret == 4004, raw.envelope.msg
    assert field in raw.envelope.msg
    verify_response(raw.envelope, OUTBOUND)


def test_unexpected_error_is_signed_500(sims: Sims, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: object) -> dict:
        raise RuntimeError("bug")

    monkeypatch.setitem(handlers.INTERFACES, "query_station_status", boom)
    sim = sims()
    raw = exchange(sim, "query_station_status", {"StationIDs": ["x"]}, token=token_for(sim))
    assert raw.envelope.ret == 500 and "bug" not in raw.envelope.msg
    verify_response(raw.envelope, OUTBOUND)


# -- query_stations_info -----------------------------------------------------------------------------------------------


def test_paging_follows_the_standard(sims: Sims) -> None:
    sim = sims(stations=23)
    with portal_client(sim) as client:
        default = client.call("query_stations_info", {})
        assert (default["PageNo"], default["PageCount"], default["ItemSize"]) == (1, 3, 23)
        assert len(default["StationInfos"]) == 10  # PageSize defaults to 10
        seen: list[str] = []
        for page_no in (1, 2, 3):
            page = client.call("query_stations_info", {"PageNo": page_no, "PageSize": 10})
            assert page["PageNo"] == page_no
            seen += [s["StationID"] for s in page["StationInfos"]]
        assert len(seen) == len(set(seen)) == 23
        beyond = client.call("query_stations_info", {"PageNo": 7, "PageSize": 10})
        assert (beyond["PageNo"], beyond["PageCount"], beyond["ItemSize"], beyond["StationInfos"]) == (7, 3, 23, [])
        whole = client.call("query_stations_info", {"PageSize": 100})
        assert whole["PageCount"] == 1 and len(whole["StationInfos"]) == 23


def test_last_query_time_returns_only_stations_changed_after_it(sims: Sims) -> None:
    sim = sims(stations=30)
    directory = sim.directory
    with portal_client(sim) as client:

        def increment(since: float) -> set[str]:
            payload = {"LastQueryTime": format_datetime(datetime.fromtimestamp(since, CST))}
            page = client.call("query_stations_info", payload | {"PageSize": 100})
            assert page["ItemSize"] == len(page["StationInfos"])
            return {s["StationID"] for s in page["StationInfos"]}

        start = sim.clock.time()
        assert increment(start) == set()
        assert len(client.call("query_stations_info", {"LastQueryTime": "", "PageSize": 100})["StationInfos"]) == 30

        sim.advance(60)
        a, c = directory.stations[3], directory.stations[7]
        with sim.lock:
            directory.derate_connector(next(a.connectors), 20.0, int(sim.clock.time()))
        assert increment(start) == {a.sid}

        sim.advance(60)
        mark = sim.clock.time() - 1
        b = next(st for st in directory.stations[8:] if sum(1 for _ in st.connectors) < 20)
        with sim.lock:
            assert directory.add_connector(b, int(sim.clock.time())) is not None
            directory.rename_station(c, int(sim.clock.time()))
            new = directory.add_station(int(sim.clock.time()))
        assert increment(mark) == {b.sid, c.sid, new.sid}
        assert increment(start) == {a.sid, b.sid, c.sid, new.sid}
        assert increment(sim.clock.time()) == set()  # strictly later than LastQueryTime

        with sim.lock:
            directory.remove_station(a, int(sim.clock.time()))
        assert a.sid not in increment(start)
        assert client.call("query_stations_info", {"PageSize": 100})["ItemSize"] == 30  # 30 - a + new


def test_connector_status_changes_do_not_count_as_directory_changes(sims: Sims) -> None:
    sim = sims()
    sim.advance(10)
    sim.set_connector_status(usable(sim)[0], CHARGING)
    with portal_client(sim) as client:
        since = format_datetime(sim.clock.now() - timedelta(seconds=5))
        assert client.call("query_stations_info", {"LastQueryTime": since})["ItemSize"] == 0


# -- query_station_status / query_station_stats ------------------------------------------------------------------------


def test_query_station_status_lists_every_connector_of_known_stations(sims: Sims) -> None:
    sim = sims(stations=60)
    ids = [st.sid for st in sim.directory.stations[:50]]
    with portal_client(sim) as client:
        answer = client.call("query_station_status", {"StationIDs": [*ids[:49], "NOSUCHSTATION"]})
    assert answer["Total"] == 49 == len(answer["StationStatusInfos"])
    for info, station in zip(answer["StationStatusInfos"], sim.directory.stations, strict=False):
        assert info["StationID"] == station.sid
        assert [c["ConnectorID"] for c in info["ConnectorStatusInfos"]] == [c.id for c in station.connectors]
        for status in info["ConnectorStatusInfos"]:
            assert set(status) == {"ConnectorID", "Status", "ParkStatus", "LockStatus"}


def test_query_station_stats_sums_exactly_at_one_decimal(sims: Sims) -> None:
    sim = sims(stations=5)
    station = sim.directory.stations[0]
    with portal_client(sim) as client:
        stats = client.call(
            "query_station_stats", {"StationID": station.sid, "StartTime": "2024-04-01", "EndTime": "2024-04-30"}
        )["StationStats"]
        missing = exchange(
            sim,
            "query_station_stats",
            {"StationID": "NOSUCH", "StartTime": "2024-04-01", "EndTime": "2024-04-01"},
            token=token_for(sim),
        )
    assert missing.envelope.ret == 4004 and "StationID" in missing.envelope.msg
    assert (stats["StationID"], stats["StartTime"], stats["EndTime"]) == (station.sid, "2024-04-01", "2024-04-30")
    equipment_sum = sum(e["EquipmentElectricity"] for e in stats["EquipmentStatsInfos"])
    assert stats["StationElectricity"] == equipment_sum
    for equipment in stats["EquipmentStatsInfos"]:
        assert equipment["EquipmentElectricity"] == sum(
            c["ConnectorElectricity"] for c in equipment["ConnectorStatsInfos"]
        )
        for connector in equipment["ConnectorStatsInfos"]:
            assert connector["ConnectorElectricity"].as_tuple().exponent == -1
    assert stats["StationElectricity"] > 0  # history before the simulator started is synthesised


# -- query_equip_auth / query_equip_business_policy --------------------------------------------------------------------


def test_query_equip_auth_outcomes(sims: Sims) -> None:
    sim = sims()
    idle, busy, down = usable(sim, 3)
    sim.set_connector_status(busy, CHARGING)
    sim.set_connector_status(down, OFFLINE)
    with portal_client(sim) as client:

        def auth(cid: str) -> tuple[int, int]:
            answer = client.call("query_equip_auth", {"EquipAuthSeq": serial(5), "ConnectorID": cid})
            assert answer["EquipAuthSeq"] == serial(5) and answer["ConnectorID"] == cid
            return answer["SuccStat"], answer["FailReason"]

        assert auth(idle) == (0, 0)
        assert auth(down) == (1, 2)
        assert auth(busy) == (1, 4)
        assert auth("99999999999999999") == (1, 3)


def test_query_equip_business_policy_returns_the_beijing_tou_tariff(sims: Sims) -> None:
    sim = sims()
    with portal_client(sim) as client:
        answer = client.call("query_equip_business_policy", {"EquipBizSeq": serial(9), "ConnectorID": usable(sim)[0]})
        unknown = client.call("query_equip_business_policy", {"EquipBizSeq": serial(9), "ConnectorID": "1"})
    assert (answer["SuccStat"], answer["FailReason"], answer["SumPeriod"]) == (0, 0, 7)
    starts = [p["StartTime"] for p in answer["PolicyInfos"]]
    assert starts == ["000000", "070000", "100000", "150000", "180000", "210000", "230000"]
    prices = [p["ElecPrice"] for p in answer["PolicyInfos"]]
    valley, flat, peak = prices[0], prices[1], prices[2]
    assert valley < flat < peak and prices[6] == valley and prices[3] == prices[5] == flat and prices[4] == peak
    for policy in answer["PolicyInfos"]:
        assert policy["ElecPrice"].as_tuple().exponent == -4 and policy["SevicePrice"].as_tuple().exponent == -4
    assert (unknown["SuccStat"], unknown["FailReason"], unknown["SumPeriod"], unknown["PolicyInfos"]) == (1, 1, 0, [])


# -- query_start_charge / query_equip_charge_status / query_stop_charge ------------------------------------------------


def test_start_charge_refusals_and_idempotency(sims: Sims) -> None:
    sim = sims()
    cids = usable(sim, 3)
    sim.set_connector_status(cids[1], OFFLINE)
    with portal_client(sim) as client:

        def start(seq: str, cid: str) -> tuple[int, int, int]:
            answer = client.call("query_start_charge", {"StartChargeSeq": seq, "ConnectorID": cid, "QRCode": ""})
            assert answer["StartChargeSeq"] == seq and answer["ConnectorID"] == cid
            return answer["StartChargeSeqStat"], answer["SuccStat"], answer["FailReason"]

        assert start(serial(1), cids[0]) == (1, 0, 0)
        assert start(serial(1), cids[0]) == (1, 0, 0)  # the same command again does not start twice
        assert len(sim.sessions) == 1
        assert start(serial(2), cids[0]) == (5, 1, 3)  # connector in use
        assert start(serial(3), cids[1]) == (5, 1, 2)  # offline
        assert start(serial(4), "11010500000000000") == (5, 1, 1)  # no such connector
        assert start(serial(1), cids[2]) == (5, 1, 4)  # a StartChargeSeq already used elsewhere


def test_charge_status_and_stop_answers(sims: Sims) -> None:
    sim = sims()
    cid = usable(sim)[0]
    with portal_client(sim) as client:
        client.call("query_start_charge", {"StartChargeSeq": serial(1), "ConnectorID": cid, "QRCode": "abc"})
        early_stop = client.call("query_stop_charge", {"StartChargeSeq": serial(1), "ConnectorID": cid})
        assert (early_stop["SuccStat"], early_stop["FailReason"], early_stop["StartChargeSeqStat"]) == (1, 5, 1)
        sim.advance(120)
        status = client.call("query_equip_charge_status", {"StartChargeSeq": serial(1)})
        assert status["StartChargeSeqStat"] == 2 and status["ConnectorStatus"] == 3
        assert status["TotalPower"] > 0 and status["TotalMoney"] == status["ElecMoney"] + status["SeviceMoney"]
        assert status["SumPeriod"] == len(status["ChargeDetails"]) >= 1
        stop = client.call("query_stop_charge", {"StartChargeSeq": serial(1), "ConnectorID": cid})
        assert (stop["SuccStat"], stop["FailReason"], stop["StartChargeSeqStat"]) == (0, 0, 3)
        sim.advance(15)
        done = client.call("query_equip_charge_status", {"StartChargeSeq": serial(1)})
        assert done["StartChargeSeqStat"] == 4 and done["CurrentA"] == Decimal("0.0")
        again = client.call("query_stop_charge", {"StartChargeSeq": serial(1), "ConnectorID": cid})
        assert (again["SuccStat"], again["FailReason"], again["StartChargeSeqStat"]) == (1, 3, 4)
        unknown = client.call("query_stop_charge", {"StartChargeSeq": serial(77), "ConnectorID": cid})
        assert (unknown["SuccStat"], unknown["FailReason"]) == (1, 4)
        with pytest.raises(PermanentError) as missing:
            client.call("query_equip_charge_status", {"StartChargeSeq": serial(77)})
        assert missing.value.ret == 4004


def test_answers_are_compact_utf8_json(sims: Sims) -> None:
    sim = sims()
    raw = exchange(sim, "query_token", {"OperatorID": "MA01HLHT0", "OperatorSecret": OUTBOUND.operator_secret})
    assert set(json.loads(raw.envelope.to_json())) == {"Ret", "Msg", "Data", "Sig"}
    assert raw.envelope.sig == raw.envelope.sig.upper()
