"""An operator platform that answers a roaming start too late or with garbage, over real HTTP to a simulated
platform: the start may have been carried out, so it is neither failed (a driver told "failed" while the car
charges) nor sent again blindly (a second start) — the next attempt asks the platform (query_equip_charge_status)
and takes its word."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from apps.charging.choices import CommandKind, CommandState
from apps.charging.models import OutboundCommand
from apps.charging.services import command_send, session_start
from apps.drivers.selectors import hold_of
from apps.drivers.services import driver_register, wallet_top_up
from apps.interconnect.services import operator_provision
from apps.operators.models import Operator
from apps.protocol import CST
from apps.protocol.names import Interface
from apps.simulator import handlers
from apps.simulator.faults import Faults
from apps.stations.pulls import stations_info_pull
from tests.simulator.support import SIM_ID, keys_file, make_sim, usable

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def sim(live_server, settings):
    settings.HLHT_ENQUEUE = "apps.core.jobs.discard_enqueue"
    settings.HLHT_CLIENT_READ_TIMEOUT = 1.5
    operator_provision(operator_id=SIM_ID, name="模拟运营商", keys=keys_file())
    simulator = make_sim(start=datetime.now(CST), push=False, stations=4, seed=5, walkin_rate=0.0)
    Operator.objects.filter(pk=SIM_ID).update(endpoint_url=simulator.base_url)
    assert stations_info_pull(operator=Operator.objects.get(pk=SIM_ID), full=True).status == "succeeded"
    yield simulator
    simulator.stop()


@pytest.mark.parametrize(
    "fault",
    [
        "bad_sig:1.0",  # Before: failed at once (PermanentError) while the platform had started the session.
        "late_answer:3",  # Before: sent again blindly after the read timeout: the platform got the start twice.
    ],
)
def test_a_start_answered_late_or_with_garbage_is_confirmed_by_query_neither_failed_nor_sent_twice(
    sim, monkeypatch, fault
):
    received: list[str] = []
    start = handlers.INTERFACES[Interface.QUERY_START_CHARGE]

    def counted(platform, envelope, payload):
        received.append(payload["StartChargeSeq"])
        return start(platform, envelope, payload)

    monkeypatch.setitem(handlers.INTERFACES, Interface.QUERY_START_CHARGE, counted)
    driver = driver_register(phone="13812340200")
    wallet_top_up(driver_id=driver.pk, amount=Decimal("100"), key="PAY-garbage")
    session = session_start(driver_id=driver.pk, operator_id=SIM_ID, connector_id=usable(sim, 1)[0])
    command = OutboundCommand.objects.get(session=session, kind=CommandKind.START)

    sim.faults = Faults.parse(fault)
    assert command_send(command.pk) == CommandState.PENDING  # not failed: the platform may have started it
    assert session.start_charge_seq in sim.sessions  # and it did
    session.refresh_from_db()
    assert session.state == 1 and hold_of(driver.pk, session.start_charge_seq) == Decimal("100")

    sim.faults = Faults.parse("")
    OutboundCommand.objects.filter(pk=command.pk).update(next_attempt_at=None)  # its backoff, passed
    assert command_send(command.pk) == CommandState.DONE
    command.refresh_from_db()
    assert command.answer["ConfirmedBy"] == "query" and command.answer["SuccStat"] == 0
    assert received == [session.start_charge_seq]  # carried out once
    assert [t.ok for t in command.tries.all()] == [False, True]
