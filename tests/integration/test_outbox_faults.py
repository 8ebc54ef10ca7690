"""A worker SIGKILLed while its roaming start is on the wire: the command is not lost, and it is not sent blindly
again — the next sender asks the operator (query_equip_charge_status) first and takes its word."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from apps.charging.choices import CommandKind, CommandState
from apps.charging.models import OutboundCommand
from apps.charging.services import command_send, session_start, session_stop
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
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def sim(live_server, settings):
    settings.HLHT_ENQUEUE = "apps.core.jobs.discard_enqueue"
    operator_provision(operator_id=SIM_ID, name="模拟运营商", keys=keys_file())
    simulator = make_sim(start=datetime.now(CST), push=False, stations=4, seed=5, walkin_rate=0.0)
    Operator.objects.filter(pk=SIM_ID).update(endpoint_url=simulator.base_url)
    assert stations_info_pull(operator=Operator.objects.get(pk=SIM_ID), full=True).status == "succeeded"
    yield simulator
    simulator.stop()


def _sender(command_id: int) -> subprocess.Popen:
    """Another worker process sending the command, on the same (test) database."""
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    code = (
        "import django; django.setup(); from apps.charging.services import command_send; "
        f"print(command_send({command_id}))"
    )
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "hlht_portal.settings"}
    env |= {"HLHT_CLIENT_READ_TIMEOUT": "120", "HLHT_ALLOW_PRIVATE_ENDPOINTS": "1"}  # as the tests' settings
    return subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a second process needs a database it can reach")
def test_a_start_whose_sender_was_killed_mid_call_is_confirmed_by_query_not_sent_twice(sim, monkeypatch):
    received: list[str] = []
    start = handlers.INTERFACES[Interface.QUERY_START_CHARGE]

    def counted(platform, envelope, payload):
        received.append(payload["StartChargeSeq"])
        return start(platform, envelope, payload)

    monkeypatch.setitem(handlers.INTERFACES, Interface.QUERY_START_CHARGE, counted)
    driver = driver_register(phone="13812340000")
    wallet_top_up(driver_id=driver.pk, amount=Decimal("100"), key="PAY-kill")
    session = session_start(driver_id=driver.pk, operator_id=SIM_ID, connector_id=usable(sim, 1)[0])
    _authenticated(session)
    command = OutboundCommand.objects.get(session=session, kind=CommandKind.START)

    # The platform carries the start out at once and answers a minute later; the worker is killed in between.
    sim.faults = Faults.parse("late_answer:60")
    worker = _sender(command.pk)
    deadline = time.monotonic() + 60
    while session.start_charge_seq not in sim.sessions and time.monotonic() < deadline:
        time.sleep(0.1)
    assert session.start_charge_seq in sim.sessions, OutboundCommand.objects.get(pk=command.pk).last_error
    os.kill(worker.pid, signal.SIGKILL)
    assert worker.wait(timeout=30) == -signal.SIGKILL
    command.refresh_from_db()
    assert command.state == CommandState.PENDING
    # The attempt was written before the call went out: its outcome is unknown, and it says so.
    assert [(t.ok, t.finished) for t in command.tries.all()] == [(None, None)]

    # The killed worker's lease runs out (time moved on rather than waited for); the sweep's sender takes it.
    sim.faults = Faults.parse("")
    OutboundCommand.objects.filter(pk=command.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    assert command_send(command.pk) == CommandState.DONE
    command.refresh_from_db()
    assert command.answer["ConfirmedBy"] == "query" and command.answer["SuccStat"] == 0
    assert received == [session.start_charge_seq]  # the start went out once
    assert [t.ok for t in command.tries.all()] == [None, True]


@pytest.fixture
def pushing(live_server, settings):
    """A platform that pushes its start and stop results to the portal (over real HTTP)."""
    settings.HLHT_ENQUEUE = "apps.core.jobs.discard_enqueue"
    operator_provision(operator_id=SIM_ID, name="模拟运营商", keys=keys_file())
    simulator = make_sim(start=datetime.now(CST), push=True, portal_url=f"{live_server.url}/evcs/v1/", stations=4,
                         seed=5, walkin_rate=0.0)  # fmt: skip
    Operator.objects.filter(pk=SIM_ID).update(endpoint_url=simulator.base_url)
    assert stations_info_pull(operator=Operator.objects.get(pk=SIM_ID), full=True).status == "succeeded"
    yield simulator
    simulator.stop()


def _authenticated(session) -> None:
    """The outbox's first command of a start: query_equip_auth, whose answer queues the start itself."""
    auth = OutboundCommand.objects.get(session=session, kind=CommandKind.AUTH)
    assert command_send(auth.pk) == CommandState.DONE


def _started(sim, phone: str):
    driver = driver_register(phone=phone)
    wallet_top_up(driver_id=driver.pk, amount=Decimal("100"), key=f"PAY-{phone}")
    session = session_start(driver_id=driver.pk, operator_id=SIM_ID, connector_id=usable(sim, 1)[0])
    _authenticated(session)
    start = OutboundCommand.objects.get(session=session, kind=CommandKind.START)
    assert command_send(start.pk) == CommandState.DONE
    return driver, session


def test_a_stop_pressed_while_the_session_is_starting_is_sent_again_once_it_has_started(pushing):
    # Before: the platform's refusal (FailReason 5, 启动中) ended the stop command; the portal showed 停止中 while
    # the car charged on, and the driver paid for the whole session.
    driver, session = _started(pushing, "13812340001")
    session_stop(driver_id=driver.pk, seq=session.start_charge_seq)
    stop = OutboundCommand.objects.get(session=session, kind=CommandKind.STOP)
    assert command_send(stop.pk) == CommandState.PENDING
    stop.refresh_from_db()
    assert "尚未启动" in stop.last_error and stop.next_attempt_at is not None
    # The pile starts; its start result reaches the portal, which makes the stop due at once.
    pushing.advance(20)
    assert pushing.flush(20)
    stop.refresh_from_db()
    assert stop.next_attempt_at is None
    assert command_send(stop.pk) == CommandState.DONE
    stop.refresh_from_db()
    assert stop.answer["SuccStat"] == 0
    pushing.advance(20)
    assert pushing.flush(20)
    assert pushing.sessions.get(session.start_charge_seq) is None  # stopped on the platform


def test_a_stop_the_platform_cannot_take_for_long_is_kept_flagged_for_review_and_delivered_when_it_returns(
    pushing, settings
):
    # Before: after HLHT_COMMAND_ATTEMPTS transient failures (about ten minutes) the stop failed for good.
    driver, session = _started(pushing, "13812340002")
    pushing.advance(20)
    assert pushing.flush(20)
    session_stop(driver_id=driver.pk, seq=session.start_charge_seq)
    stop = OutboundCommand.objects.get(session=session, kind=CommandKind.STOP)
    pushing.faults = Faults.parse("busy:1.0")  # every business call answered Ret -1 (系统繁忙)
    for _ in range(settings.HLHT_COMMAND_ATTEMPTS + 2):
        assert command_send(stop.pk) == CommandState.PENDING
        OutboundCommand.objects.filter(pk=stop.pk).update(next_attempt_at=None)  # its backoff, passed
    session.refresh_from_db()
    assert session.review and session.review_reason == "停止命令未送达运营商"
    pushing.faults = Faults.parse("")
    assert command_send(stop.pk) == CommandState.DONE
