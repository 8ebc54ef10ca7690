"""A driver's whole journey over real HTTP between the portal and a simulated operator: start on a connector,
status pushes, stop, the order, the wallet charged once. The outbox is sent by calling its sender as the task does."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from apps.charging.choices import CommandKind, CommandState, Outcome
from apps.charging.models import ChargingSession, OutboundCommand, SessionEvent
from apps.charging.services import Refused, command_send, session_start, session_stop, session_watch
from apps.drivers.choices import EntryKind
from apps.drivers.models import WalletEntry
from apps.drivers.selectors import balance_of
from apps.drivers.services import driver_register, wallet_top_up
from apps.interconnect.services import operator_provision
from apps.operators.models import Operator
from apps.orders.choices import StartChargeSeqStat as S
from apps.protocol import CST
from apps.settlement.models import ReconciliationRun, SettlementAgreement
from apps.settlement.statements import statement_generate
from apps.stations.pulls import stations_info_pull
from tests.simulator.support import SIM_ID, keys_file, make_sim, usable

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(live_server, settings, request):
    # this test sends the outbox itself; the worker test lets Celery do it
    settings.HLHT_ENQUEUE = "apps.core.jobs.discard_enqueue"
    faults = getattr(request, "param", "")
    operator_provision(operator_id=SIM_ID, name="模拟运营商", keys=keys_file())
    # The simulated world an hour behind the wall clock: the tests advance it, and it must not run into the future.
    sim = make_sim(start=datetime.now(CST) - timedelta(hours=1), push=True, portal_url=f"{live_server.url}/evcs/v1/",
                   stations=6, seed=11,
                   faults=faults, walkin_rate=0.0)  # fmt: skip
    Operator.objects.filter(pk=SIM_ID).update(endpoint_url=sim.base_url)
    assert stations_info_pull(operator=Operator.objects.get(pk=SIM_ID), full=True).status == "succeeded"
    driver = driver_register(phone="13812345678", plate="京AD12345")
    wallet_top_up(driver_id=driver.pk, amount=Decimal("200"), key="PAY-1")
    yield sim, driver
    sim.stop()


def _send_pending() -> None:
    """Send each pending command once, and those their answers queue (a start, once its authentication passed)."""
    sent: set[int] = set()
    while fresh := list(
        OutboundCommand.objects.filter(state=CommandState.PENDING).exclude(pk__in=sent).values_list("pk", flat=True)
    ):
        for command_id in fresh:
            command_send(command_id)
            sent.add(command_id)


def _run(sim, seconds: int, step: int = 10) -> None:
    for _ in range(seconds // step):
        sim.advance(step)
        assert sim.flush(20), "pushes did not drain"


def test_start_status_stop_order_and_one_charge(world):
    sim, driver = world
    connector_id = usable(sim, 1)[0]
    session = session_start(driver_id=driver.pk, operator_id=SIM_ID, connector_id=connector_id)
    assert session.state == S.STARTING and len(session.start_charge_seq) == 27
    assert session.start_charge_seq.startswith("MA01HLHT0") and balance_of(driver.pk) == Decimal("100.00")  # held
    _send_pending()
    commands = set(OutboundCommand.objects.filter(session=session).values_list("kind", "state"))
    assert commands == {(CommandKind.AUTH, CommandState.DONE), (CommandKind.START, CommandState.DONE)}

    _run(sim, 30)  # the pile starts within 3–15 s and the result is pushed
    session.refresh_from_db()
    assert session.state == S.CHARGING and session.started_at is not None
    _run(sim, 300)  # charging-status pushes every 50 s
    session.refresh_from_db()
    assert session.total_power and session.total_power > 0 and session.last_status_at is not None

    session_stop(driver_id=driver.pk, seq=session.start_charge_seq)
    session.refresh_from_db()
    assert session.state == S.STOPPING  # the driver sees 停止中 until the operator confirms
    _send_pending()
    _run(sim, 60)  # the stop result, then the order within 30 s
    session.refresh_from_db()
    assert session.state == S.FINISHED and session.outcome == Outcome.COMPLETED
    assert session.order is not None and session.order.total_money > 0
    charges = WalletEntry.objects.filter(driver=driver, kind=EntryKind.CHARGE)
    assert [c.amount for c in charges] == [-session.order.total_money]
    assert balance_of(driver.pk) == Decimal("200.00") - session.order.total_money  # the hold came back
    states = list(SessionEvent.objects.filter(session=session).values_list("to_state", flat=True))
    assert states == [S.STARTING, S.STARTING, S.CHARGING, S.STOPPING, S.FINISHED]  # the second: 设备认证通过 (a note)

    # The day's reconciliation agrees with the portal, and the order is on the operator's statement.
    day = session.order.end_time.astimezone(CST).date()
    sim.check_charge_orders(day)
    assert sim.flush(20)
    # The day's own run: a journey that crosses 01:00 Beijing also meets the simulator's daily run for yesterday.
    runs = ReconciliationRun.objects.filter(operator_id=SIM_ID)
    (run,) = [r for r in runs if r.start_time.astimezone(CST).date() == day]
    assert (run.order_count, run.matched_count, run.dispute_count) == (1, 1, 0)
    SettlementAgreement.objects.create(operator_id=SIM_ID, commission_rate=Decimal("0.05"), effective_from=day)
    statement = statement_generate(operator_id=SIM_ID, day=day)
    assert (statement.order_count, statement.total_money) == (1, session.order.total_money)
    assert statement.net_payable == statement.total_money - statement.commission > 0


@pytest.mark.parametrize("world", ["duplicate_push:1.0,reorder_push:0.5"], indirect=True)
def test_duplicated_and_reordered_pushes_charge_once(world):
    sim, driver = world
    connector_id = usable(sim, 1)[0]
    session = session_start(driver_id=driver.pk, operator_id=SIM_ID, connector_id=connector_id)
    _send_pending()
    _run(sim, 400)
    session_stop(driver_id=driver.pk, seq=session.start_charge_seq)
    _send_pending()
    _run(sim, 120)
    session.refresh_from_db()
    assert session.state == S.FINISHED and session.order is not None
    assert WalletEntry.objects.filter(driver=driver, kind=EntryKind.CHARGE).count() == 1
    assert balance_of(driver.pk) == Decimal("200.00") - session.order.total_money


@pytest.mark.parametrize("world", ["start_failure:1.0"], indirect=True)
def test_a_start_that_fails_gives_the_hold_back(world):
    sim, driver = world
    session = session_start(driver_id=driver.pk, operator_id=SIM_ID, connector_id=usable(sim, 1)[0])
    _send_pending()
    _run(sim, 60)
    session.refresh_from_db()
    assert session.state == S.FINISHED and session.outcome == Outcome.START_FAILED
    assert balance_of(driver.pk) == Decimal("200.00")
    assert driver.notifications.filter(title="充电未成功").exists()


@pytest.mark.parametrize("world", ["lost_start_result:1.0"], indirect=True)
def test_a_lost_start_result_is_recovered_by_polling(world):
    sim, driver = world
    session = session_start(driver_id=driver.pk, operator_id=SIM_ID, connector_id=usable(sim, 1)[0])
    _send_pending()
    _run(sim, 30)  # the pile started, but its start result never came
    session.refresh_from_db()
    assert session.state == S.STARTING
    assert session_watch(session.pk, now=session.requested_at + timedelta(seconds=20)) is not None
    assert not OutboundCommand.objects.filter(session=session, kind=CommandKind.POLL).exists()  # not due yet
    session_watch(session.pk, now=session.requested_at + timedelta(seconds=51))
    _send_pending()
    session.refresh_from_db()
    assert session.state == S.CHARGING and session.last_poll_at is not None
    # Never polled more often than every 120 s, however often the timer fires.
    session_watch(session.pk, now=session.last_poll_at + timedelta(seconds=119))
    assert OutboundCommand.objects.filter(session=session, kind=CommandKind.POLL).count() == 1


@pytest.mark.parametrize("world", ["down_during_stop:2,lost_stop_result:1.0"], indirect=True)
def test_the_stop_is_retried_while_the_operator_is_down_and_the_order_ends_a_session_whose_stop_result_is_lost(
    world, settings
):
    settings.HLHT_CLIENT_READ_TIMEOUT = 2
    sim, driver = world
    session = session_start(driver_id=driver.pk, operator_id=SIM_ID, connector_id=usable(sim, 1)[0])
    _send_pending()
    _run(sim, 120)
    session_stop(driver_id=driver.pk, seq=session.start_charge_seq)
    stop = OutboundCommand.objects.get(session=session, kind=CommandKind.STOP)
    for _ in range(3):  # down twice, then answered: each attempt journalled
        OutboundCommand.objects.filter(pk=stop.pk).update(next_attempt_at=None)
        command_send(stop.pk)
    stop.refresh_from_db()
    assert stop.state == CommandState.DONE and stop.attempts == 3
    assert [t.ok for t in stop.tries.all()] == [False, False, True]
    assert all(t.exchange_id for t in stop.tries.all())
    session.refresh_from_db()
    assert session.state == S.STOPPING  # the driver sees 停止中 until the operator confirms
    _run(sim, 30)  # stopped, but the stop result is lost; the order follows within 30 s
    session.refresh_from_db()
    assert session.state == S.FINISHED and session.order is not None
    assert WalletEntry.objects.filter(driver=driver, kind=EntryKind.CHARGE).count() == 1


def test_refusals_say_why(world):
    sim, driver = world
    poor = driver_register(phone="13900000001")
    with pytest.raises(Refused) as caught:
        session_start(driver_id=poor.pk, operator_id=SIM_ID, connector_id=usable(sim, 1)[0])
    assert (caught.value.code, caught.value.status) == ("balance_low", 402)
    with pytest.raises(Refused) as caught:
        session_start(driver_id=driver.pk, operator_id=SIM_ID, connector_id="NOPE")
    assert caught.value.code == "connector_unknown" and caught.value.status == 404
    Operator.objects.filter(pk=SIM_ID).update(status="suspended")
    with pytest.raises(Refused) as caught:
        session_start(driver_id=driver.pk, operator_id=SIM_ID, connector_id=usable(sim, 1)[0])
    assert caught.value.code == "operator_suspended"
    assert not ChargingSession.objects.exists() and balance_of(driver.pk) == Decimal("200.00")


@pytest.mark.parametrize("world", ["price_mismatch:1.0"], indirect=True)
def test_an_order_above_the_declared_policy_is_flagged_and_charged_as_billed(world):
    """The driver pays what the operator billed (its figures agree with each other); the price finding goes to the
    regulator, and a dispute settled in the driver's favour is refunded by a person (wallet_refund)."""
    from apps.orders.models import OrderFinding
    from apps.pricing.pulls import BusinessPolicyPull

    sim, driver = world
    operator = Operator.objects.get(pk=SIM_ID)
    assert BusinessPolicyPull.handle(operator=operator, full=True).status == "succeeded"
    session = session_start(driver_id=driver.pk, operator_id=SIM_ID, connector_id=usable(sim, 1)[0])
    _send_pending()
    _run(sim, 200)
    session_stop(driver_id=driver.pk, seq=session.start_charge_seq)
    _send_pending()
    _run(sim, 60)
    session.refresh_from_db()
    order = session.order
    assert order is not None and order.confirm_result == 0  # consistent in itself: confirmed, not disputed
    assert OrderFinding.objects.filter(order=order, category="price").exists()
    assert balance_of(driver.pk) == Decimal("200.00") - order.total_money
