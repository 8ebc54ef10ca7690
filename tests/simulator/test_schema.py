"""Everything the simulator emits — answers of every interface and every push — is valid per the shared schema."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from apps.protocol import schema
from apps.simulator.simulator import Simulator

from .support import START, Receiver, portal_client, serial, settle, usable

Factory = Callable[..., Simulator]


def problems(interface: str, payload: dict[str, Any], *, request: bool) -> list[str]:
    request_struct, response_struct = schema.INTERFACES[interface]
    found = schema.validate(payload, request_struct if request else response_struct)
    if interface in ("notification_charge_order_info", "notification_charge_order_info_for_bonus"):
        found += schema.consistency_problems(payload)
    return [str(p) for p in found]


def test_every_answer_is_schema_valid(sims: Factory) -> None:
    sim = sims(stations=120, walkin_rate=3.0, incident_rate=0.5)
    sim.advance(3600)
    cid = usable(sim)[0]
    station_ids = [st.sid for st in sim.directory.stations]
    calls: list[tuple[str, dict[str, Any]]] = [
        ("query_stations_info", {"PageSize": 100}),
        ("query_stations_info", {"PageNo": 2, "PageSize": 100}),
        ("query_stations_info", {"PageNo": 9, "PageSize": 100}),
        ("query_station_status", {"StationIDs": station_ids[:50]}),
        ("query_station_stats", {"StationID": station_ids[0], "StartTime": "2024-04-01", "EndTime": "2024-05-20"}),
        ("query_equip_auth", {"EquipAuthSeq": serial(1), "ConnectorID": cid}),
        ("query_equip_auth", {"EquipAuthSeq": serial(1), "ConnectorID": "99999999999999999"}),
        ("query_equip_business_policy", {"EquipBizSeq": serial(2), "ConnectorID": cid}),
        ("query_equip_business_policy", {"EquipBizSeq": serial(2), "ConnectorID": "1"}),
        ("query_start_charge", {"StartChargeSeq": serial(3), "ConnectorID": cid, "QRCode": ""}),
        ("query_start_charge", {"StartChargeSeq": serial(4), "ConnectorID": "1", "QRCode": ""}),
        ("query_equip_charge_status", {"StartChargeSeq": serial(3)}),
    ]
    with portal_client(sim) as client:
        answers = [(name, client.call(name, payload)) for name, payload in calls]
        sim.advance(300)
        answers.append(
            ("query_equip_charge_status", client.call("query_equip_charge_status", {"StartChargeSeq": serial(3)}))
        )
        stop = {"StartChargeSeq": serial(3), "ConnectorID": cid}
        answers.append(("query_stop_charge", client.call("query_stop_charge", stop)))
        sim.advance(60)
        answers.append(
            ("query_equip_charge_status", client.call("query_equip_charge_status", {"StartChargeSeq": serial(3)}))
        )
        answers.append(("query_stop_charge", client.call("query_stop_charge", stop)))
    found = {f"{name}#{n}": problems(name, answer, request=False) for n, (name, answer) in enumerate(answers)}
    assert {k: v for k, v in found.items() if v} == {}


def test_every_push_is_schema_valid(pushing: Factory, receiver: Receiver) -> None:
    sim = pushing(start=START.replace(hour=23), walkin_rate=3.0, incident_rate=0.5)
    with portal_client(sim) as client:
        for n in range(3):
            cid = usable(sim)[0]
            client.call("query_start_charge", {"StartChargeSeq": serial(n), "ConnectorID": cid, "QRCode": ""})
            settle(sim, 200)
            client.call("query_stop_charge", {"StartChargeSeq": serial(n), "ConnectorID": cid})
    settle(sim, 3 * 3600)  # past 01:00, when the daily reconciliation goes out
    pushes = receiver.pushes()
    kinds = {p.interface for p in pushes}
    assert kinds == set(schema.INTERFACES) - {name for name in schema.INTERFACES if name.startswith("query_")}
    found: dict[str, list[str]] = {}
    for n, push in enumerate(pushes):
        assert push.payload is not None
        if push.interface == "notification_stationStatus":
            issues = [str(p) for p in schema.validate_status_notification(push.payload)]
        else:
            issues = problems(push.interface, push.payload, request=True)
        if issues:
            found[f"{push.interface}#{n}"] = issues
    assert found == {}


def test_the_schema_catches_what_invalid_records_break(sims: Factory) -> None:
    sim = sims(faults="invalid_records:1", stations=8)
    with portal_client(sim) as client:
        stations = client.call("query_stations_info", {"PageSize": 100})["StationInfos"]
    kinds = [sim.directory.invalid_kind(st, 1.0) for st in sim.directory.stations]
    for station, kind in zip(stations, kinds, strict=True):
        flagged = bool(schema.validate(station, schema.STATION_INFO))
        # The schema checks coordinates' type and scale, not geography: a station in Paris is the portal's to catch.
        assert flagged == (kind != "outside_china"), (station["StationID"], kind)
