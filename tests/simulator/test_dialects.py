"""Dialects: the simulator speaks the deviations the portal's per-operator flags accept, so the flags meet them."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from apps.protocol import Dialect, open_response
from apps.simulator.config import parse_dialect
from apps.simulator.simulator import Simulator

from .support import OUTBOUND, SIM_ID, Receiver, exchange, portal_client, serial, settle, token_for, usable

Factory = Callable[..., Simulator]


def push_status(sim: Simulator) -> None:
    sim.set_connector_status(usable(sim)[0], 255)
    settle(sim)


def test_dialect_names_parse() -> None:
    assert parse_dialect("lowercase_sig, service_spelling") == Dialect(lowercase_sig=True, service_spelling=True)
    assert parse_dialect("") == Dialect()
    with pytest.raises(ValueError, match="no_such_flag"):
        parse_dialect("no_such_flag")


def test_lowercase_sig_in_answers_and_pushes(pushing: Factory, receiver: Receiver) -> None:
    sim = pushing(dialect=Dialect(lowercase_sig=True))
    raw = exchange(sim, "query_token", {"OperatorID": "MA01HLHT0", "OperatorSecret": OUTBOUND.operator_secret})
    assert raw.envelope.sig == raw.envelope.sig.lower() != raw.envelope.sig.upper()
    with portal_client(sim) as client:  # verification is case-insensitive, as the standard's practice requires
        assert client.call("query_stations_info", {})["ItemSize"] == 20
    push_status(sim)
    (push,) = receiver.pushes("notification_stationStatus")
    assert push.envelope["Sig"] == push.envelope["Sig"].lower()


def test_bare_token_needs_the_flag_on_the_other_side(pushing: Factory, receiver: Receiver) -> None:
    sim = pushing(dialect=Dialect(bare_token=True))
    push_status(sim)
    refused = receiver.pushes("notification_stationStatus", ok_only=False)
    assert [r.ret for r in refused] == [4002, 4002]  # the codec re-authenticates once and resends, in vain
    assert not refused[0].headers["Authorization"].startswith("Bearer")
    receiver.speak(SIM_ID, Dialect(bare_token=True))
    settle(sim, 60)  # the generic retry a minute later
    (accepted,) = receiver.pushes("notification_stationStatus")
    assert accepted.payload is not None and accepted.payload["ConnectorStatusInfo"]["Status"] == 255
    token = token_for(sim)
    assert exchange(sim, "query_station_status", {"StationIDs": ["x"]}, authorization=token).envelope.ret == 0


def test_millisecond_timestamp_needs_the_flag_on_the_other_side(pushing: Factory, receiver: Receiver) -> None:
    sim = pushing(dialect=Dialect(millisecond_timestamp=True))
    push_status(sim)
    assert [r.ret for r in receiver.received] == [4003]  # even query_token: its TimeStamp is 13 digits
    assert len(receiver.received[0].envelope["TimeStamp"]) == 13
    receiver.speak(SIM_ID, Dialect(millisecond_timestamp=True))
    settle(sim, 60)
    (push,) = receiver.pushes("notification_stationStatus")
    stamp = push.envelope["TimeStamp"]
    assert len(stamp) == 13 and stamp.isdigit()  # and the Sig, verified by the receiver, covers it as sent


def test_service_spelling_in_answers(sims: Factory) -> None:
    sim = sims(dialect=Dialect(service_spelling=True))
    cid = usable(sim)[0]
    raw = exchange(
        sim, "query_equip_business_policy", {"EquipBizSeq": serial(1), "ConnectorID": cid}, token=token_for(sim)
    )
    assert raw.data is not None
    assert "ServicePrice" in raw.data["PolicyInfos"][0] and "SevicePrice" not in raw.data["PolicyInfos"][0]
    with portal_client(sim, dialect=Dialect(service_spelling=True)) as client:
        client.call("query_start_charge", {"StartChargeSeq": serial(2), "ConnectorID": cid, "QRCode": ""})
        sim.advance(120)
        status = exchange(sim, "query_equip_charge_status", {"StartChargeSeq": serial(2)}, token=token_for(sim))
        assert status.data is not None
        assert {"ElectMoney", "ServiceMoney"} <= set(status.data) and "SeviceMoney" not in status.data
        assert "DetailServiceMoney" in status.data["ChargeDetails"][0]
        normalised = client.call("query_equip_charge_status", {"StartChargeSeq": serial(2)})
        assert {"ElecMoney", "SeviceMoney"} <= set(normalised)  # the codec maps them back under the flag


def test_service_spelling_in_pushes(pushing: Factory, receiver: Receiver) -> None:
    sim = pushing(dialect=Dialect(service_spelling=True))
    cid = usable(sim)[0]
    with portal_client(sim) as client:
        client.call("query_start_charge", {"StartChargeSeq": serial(3), "ConnectorID": cid, "QRCode": ""})
        settle(sim, 120)
        client.call("query_stop_charge", {"StartChargeSeq": serial(3), "ConnectorID": cid})
    settle(sim, 200)
    (order,) = receiver.payloads("notification_charge_order_info")  # a strict receiver keeps the variant keys
    assert "TotalServiceMoney" in order and "TotalSeviceMoney" not in order
    assert "DetailServiceMoney" in order["ChargeDetails"][0]
    snapshot = receiver.payloads("notification_equip_charge_status")[0]
    assert "ServiceMoney" in snapshot and "ElectMoney" in snapshot


def test_standard_dialect_sends_the_standard_form(pushing: Factory, receiver: Receiver) -> None:
    sim = pushing()
    push_status(sim)
    (push,) = receiver.pushes("notification_stationStatus")
    assert push.headers["Authorization"].startswith("Bearer ")
    assert len(push.envelope["TimeStamp"]) == 14 and push.envelope["Sig"] == push.envelope["Sig"].upper()
    raw = exchange(sim, "query_token", {"OperatorID": "MA01HLHT0", "OperatorSecret": OUTBOUND.operator_secret})
    assert open_response(raw.envelope, OUTBOUND) is not None and raw.envelope.sig == raw.envelope.sig.upper()
