"""An operator platform that answers too late, with garbage, or not at all, over real HTTP to a simulated platform.

A roaming start so answered may have been carried out: it is neither failed (a driver told "failed" while the car
charges) nor sent again blindly (a second start) — the next attempt asks the platform (query_equip_charge_status)
and takes its word. Pulls from such a platform fail and say why (retryable or not), the workbench's health flags the
operator once no status data has come for the stale window, and the first sweep after it returns makes it whole."""

from __future__ import annotations

import datetime as dt
import socket
from datetime import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.charging.choices import CommandKind, CommandState
from apps.charging.models import OutboundCommand
from apps.charging.services import command_send, session_start
from apps.core.conf import conf
from apps.drivers.selectors import hold_of
from apps.drivers.services import driver_register, wallet_top_up
from apps.interconnect.choices import RunStatus
from apps.interconnect.services import operator_provision
from apps.operators.choices import OperatorStatus
from apps.operators.models import Operator
from apps.protocol import CST
from apps.protocol.names import Interface
from apps.simulator import handlers
from apps.simulator.faults import Faults
from apps.stations.models import Connector, ConnectorStatus, ConnectorStatusHistory
from apps.stations.pulls import station_status_pull, stations_info_pull
from apps.supervision.health import with_health
from tests.simulator.support import SIM_ID, keys_file, make_sim, usable

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


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
    # The authentication goes first, by the outbox (a healthy platform); its yes queues the start.
    auth = OutboundCommand.objects.get(session=session, kind=CommandKind.AUTH)
    assert command_send(auth.pk) == CommandState.DONE
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


def test_a_platform_answering_garbage_slow_or_down_fails_its_sweeps_is_flagged_and_is_whole_when_it_returns(sim):
    Operator.objects.filter(pk=SIM_ID).update(status=OperatorStatus.ACTIVE)
    operator = Operator.objects.get(pk=SIM_ID)
    health = with_health(Operator.objects.filter(pk=SIM_ID))
    assert station_status_pull(operator=operator).status == RunStatus.SUCCEEDED
    fresh = health.get()
    assert not fresh.is_stale

    sim.faults = Faults.parse("bad_sig:1.0")  # garbage: an answer whose Sig is wrong
    garbage = station_status_pull(operator=operator)
    sim.faults = Faults.parse("slow:3")  # slower than the read timeout (1.5 s here)
    slow = station_status_pull(operator=operator)
    sim.faults = Faults.parse("")
    with socket.socket() as probe:  # down: a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}/evcs/v1/"
    Operator.objects.filter(pk=SIM_ID).update(endpoint_url=dead)
    down = station_status_pull(operator=Operator.objects.get(pk=SIM_ID))
    # Each run failed and says why; one that may pass if tried again is marked so (Celery retries it with backoff).
    assert [(r.status, r.retryable) for r in (garbage, slow, down)] == [
        (RunStatus.FAILED, False),
        (RunStatus.FAILED, True),
        (RunStatus.FAILED, True),
    ]
    assert "Sig" in garbage.error and "timed out" in slow.error.lower()
    # Failed pulls are no data: once the stale window has passed without any, the workbench flags the operator.
    later = timezone.now() + dt.timedelta(minutes=conf().supervision.stale_minutes + 1)
    flagged = with_health(Operator.objects.filter(pk=SIM_ID), now=later).get()
    assert flagged.is_stale and flagged.last_query_station_status == fresh.last_query_station_status

    # It returns: the next sweep brings every connector's status, none twice, and the flag clears.
    Operator.objects.filter(pk=SIM_ID).update(endpoint_url=sim.base_url)
    assert station_status_pull(operator=Operator.objects.get(pk=SIM_ID)).status == RunStatus.SUCCEEDED
    connectors = Connector.objects.filter(operator_id=SIM_ID)
    assert ConnectorStatus.objects.filter(connector__in=connectors).count() == connectors.count()
    history = ConnectorStatusHistory.objects.filter(connector__in=connectors)
    assert history.count() == history.values("connector_id", "status_time", "status").distinct().count()
    assert not health.get().is_stale
