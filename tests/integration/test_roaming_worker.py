"""The outbox and the timers run on a real Celery worker and broker: the start is sent by a task scheduled on commit,
and when the operator's start result never comes, the timer polls and the poll recovers the session."""

from __future__ import annotations

import time
from datetime import datetime
from decimal import Decimal

import pytest

from apps.charging.choices import CommandKind, CommandState
from apps.charging.models import ChargingSession, OutboundCommand
from apps.charging.services import session_start
from apps.drivers.services import driver_register, wallet_top_up
from apps.interconnect.services import operator_provision
from apps.operators.models import Operator
from apps.orders.choices import StartChargeSeqStat as S
from apps.protocol import CST
from apps.stations.pulls import stations_info_pull
from tests.simulator.support import SIM_ID, keys_file, make_sim, usable

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _until(check, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, check.__doc__
        time.sleep(0.1)


def test_the_worker_sends_the_start_and_the_timer_polls_for_a_lost_start_result(worker, live_server, settings):
    settings.HLHT_START_RESULT_WAIT = 1.0  # seconds, not the rules' 50, so the test is quick
    settings.HLHT_POLL_MIN_INTERVAL = 1.0
    operator_provision(operator_id=SIM_ID, name="模拟运营商", keys=keys_file())
    sim = make_sim(start=datetime.now(CST), push=True, portal_url=f"{live_server.url}/evcs/v1/", stations=4, seed=5,
                   faults="lost_start_result:1.0", walkin_rate=0.0)  # fmt: skip
    try:
        Operator.objects.filter(pk=SIM_ID).update(endpoint_url=sim.base_url)
        assert stations_info_pull(operator=Operator.objects.get(pk=SIM_ID), full=True).status == "succeeded"
        driver = driver_register(phone="13812345678")
        wallet_top_up(driver_id=driver.pk, amount=Decimal("50"), key="PAY-1")
        session = session_start(driver_id=driver.pk, operator_id=SIM_ID, connector_id=usable(sim, 1)[0])

        def start_sent():
            """the worker sent the start command"""
            return OutboundCommand.objects.filter(session=session, kind=CommandKind.START,
                                                  state=CommandState.DONE).exists()  # fmt: skip

        _until(start_sent)
        sim.advance(20)  # the pile starts; its start result is lost
        assert sim.flush(10)

        def recovered():
            """the timer's poll found the session charging"""
            return ChargingSession.objects.filter(pk=session.pk, state=S.CHARGING).exists()

        _until(recovered)
        polls = OutboundCommand.objects.filter(session=session, kind=CommandKind.POLL)
        assert polls.filter(state=CommandState.DONE).exists()
        assert any(name == "apps.charging.tasks.session_watch_task" for name, _, _ in worker)
    finally:
        sim.stop()
