"""A demo on the real clock: sessions last minutes (a driver's until stopped), orders are dated when they happened
(never ahead of the simulator's now, never ending before they start), and the world changes from its first minute."""

from __future__ import annotations

from collections.abc import Callable

from apps.protocol import parse_datetime
from apps.simulator.config import SimulatorConfig
from apps.simulator.simulator import MIN_PORTAL_SESSION, MIN_SESSION, Simulator

from .support import INBOUND, OUTBOUND, SIM_ID, Receiver, portal_client, serial, settle, usable

Factory = Callable[..., Simulator]


def test_walk_in_sessions_last_minutes_and_are_dated_in_the_past(pushing: Factory, receiver: Receiver) -> None:
    sim = pushing(walkin_rate=6.0, stations=30)
    settle(sim, 4 * 3600)
    now = sim.clock.now()
    orders = receiver.payloads("notification_charge_order_info_for_bonus")
    assert len(orders) >= 20
    for order in orders:
        start, end = parse_datetime(order["StartTime"]), parse_datetime(order["EndTime"])
        assert start <= end <= now, order["StartChargeSeq"]
        # Sessions found charging at start-up began before it; every one of them lasts minutes, none seconds.
        assert (end - start).total_seconds() >= MIN_SESSION - 1, order["StartChargeSeq"]
        assert order["ChargeLast"] >= MIN_SESSION - 1


def test_a_driver_s_session_runs_until_stopped(pushing: Factory, receiver: Receiver) -> None:
    """The README's walk-through: start, watch for a while, stop — the session is still charging when stopped."""
    sim = pushing()
    cid = usable(sim)[0]
    seq = serial(11)
    with portal_client(sim) as client:
        client.call("query_start_charge", {"StartChargeSeq": seq, "ConnectorID": cid, "QRCode": ""})
        settle(sim, MIN_PORTAL_SESSION - 60)  # the driver reads the README at leisure
        status = client.call("query_equip_charge_status", {"StartChargeSeq": seq})
        assert status["StartChargeSeqStat"] == 2  # 充电中
        assert receiver.payloads("notification_charge_order_info") == []
        client.call("query_stop_charge", {"StartChargeSeq": seq, "ConnectorID": cid})
        settle(sim, 120)
    (order,) = receiver.payloads("notification_charge_order_info")
    assert order["StopReason"] == 1  # stopped by the platform at the driver's request, not by itself
    start, end = parse_datetime(order["StartTime"]), parse_datetime(order["EndTime"])
    assert MIN_PORTAL_SESSION - 120 <= (end - start).total_seconds() <= MIN_PORTAL_SESSION + 60


def test_the_real_clock_is_the_default() -> None:
    config = SimulatorConfig(operator_id=SIM_ID, inbound=INBOUND, outbound=OUTBOUND, push=False)
    assert config.speed == 1.0
    sim = Simulator(config)
    # Speed 1: the simulated world is the wall clock, not a world begun hours ago.
    assert abs(sim.clock.time() - sim.wall().timestamp()) < 2


def test_the_world_changes_in_its_first_minute(sims: Factory) -> None:
    sim = sims(stations=200, seed=11, walkin_rate=3.0, incident_rate=0.02)  # the live demo's rates
    before = {c.id: c.status for c in sim.directory.connectors}
    sim.advance(60)
    changed = sum(1 for c in sim.directory.connectors if c.status != before[c.id])
    assert changed >= 2
