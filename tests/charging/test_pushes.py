"""The three session pushes through the portal's server: the spec's exact answers, 4004 for a seq the portal never
started, repeats and old samples that change nothing, never backwards; the payment commits with the order or not."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.charging.choices import EventSource, Outcome
from apps.charging.models import ChargingSession, SessionEvent
from apps.drivers.choices import EntryKind
from apps.drivers.models import WalletEntry
from apps.drivers.selectors import balance_of
from apps.drivers.services import driver_register, wallet_hold, wallet_top_up
from apps.orders.choices import StartChargeSeqStat as S
from apps.orders.models import ChargeOrder
from apps.protocol import Ret
from apps.protocol.names import Interface
from tests import factories
from tests.caller import OPERATOR_ID
from tests.orders.support import PORTAL, directory, order, seq

pytestmark = pytest.mark.django_db


@pytest.fixture
def live(caller, settings):
    # no broker here: the timers are tested through session_watch
    settings.HLHT_ENQUEUE = "apps.core.jobs.discard_enqueue"
    caller.login()
    connector = directory()
    driver = driver_register(phone="13812345678")
    wallet_top_up(driver_id=driver.pk, amount=Decimal("300"), key="PAY-1")
    number = seq(PORTAL)
    wallet_hold(driver_id=driver.pk, amount=Decimal("100"), seq=number, minimum=Decimal("10"))
    session = factories.ChargingSessionFactory(driver=driver, connector=connector, start_charge_seq=number,
                                               requested_at=timezone.now())  # fmt: skip
    return caller, session


def _start(session, stat=2, **extra):
    return {"StartChargeSeq": session.start_charge_seq, "StartChargeSeqStat": stat, "ConnectorID": "C1",
            "StartTime": "2026-12-01 09:30:00", **extra}  # fmt: skip


def _status(session, sampled: str, kwh: str, stat=2):
    return {"StartChargeSeq": session.start_charge_seq, "StartChargeSeqStat": stat, "ConnectorID": "C1",
            "ConnectorStatus": 3, "CurrentA": 100, "VoltageA": 400, "Soc": 55.5,
            "StartTime": "2026-12-01 09:30:00", "EndTime": sampled, "TotalPower": Decimal(kwh), "ElecMoney": 1,
            "SeviceMoney": 1, "TotalMoney": 2}  # fmt: skip


def test_the_start_result_is_answered_exactly_and_a_repeat_changes_nothing(live):
    caller, session = live
    answer = caller.call(Interface.NOTIFICATION_START_CHARGE_RESULT, _start(session, IdentCode="123456"))
    assert answer.ret == Ret.OK
    assert answer.data == {"StartChargeSeq": session.start_charge_seq, "SuccStat": 0, "FailReason": 0}
    again = caller.call(Interface.NOTIFICATION_START_CHARGE_RESULT, _start(session, IdentCode="123456"))
    assert again.data == answer.data
    session.refresh_from_db()
    assert (session.state, session.ident_code) == (S.CHARGING, "123456")
    assert SessionEvent.objects.filter(session=session).count() == 1


@pytest.mark.parametrize(
    "interface", [Interface.NOTIFICATION_START_CHARGE_RESULT, Interface.NOTIFICATION_EQUIP_CHARGE_STATUS,
                  Interface.NOTIFICATION_STOP_CHARGE_RESULT],
)  # fmt: skip
def test_a_seq_the_portal_never_started_is_4004_naming_it(live, interface):
    caller, session = live
    stranger = ChargingSession(start_charge_seq=seq(OPERATOR_ID))
    payload = {
        Interface.NOTIFICATION_START_CHARGE_RESULT: _start(stranger),
        Interface.NOTIFICATION_EQUIP_CHARGE_STATUS: _status(stranger, "2026-12-01 09:40:00", "1.00"),
        Interface.NOTIFICATION_STOP_CHARGE_RESULT: {"StartChargeSeq": stranger.start_charge_seq,
                                                    "StartChargeSeqStat": 4, "ConnectorID": "C1", "SuccStat": 0,
                                                    "FailReason": 0},
    }[interface]  # fmt: skip
    answer = caller.call(interface, payload)
    assert answer.ret == Ret.BUSINESS and "StartChargeSeq" in answer.envelope.msg


def test_another_operators_push_about_the_session_is_4004(live, client):
    from apps.interconnect.services import operator_provision
    from tests.caller import Caller, keyset

    _, session = live
    other = operator_provision(operator_id="MA59CU773", name="另一家", tel="400")
    intruder = Caller(client=client, operator_id="MA59CU773", keys=keyset(other["inbound"]))
    intruder.login()
    assert intruder.call(Interface.NOTIFICATION_START_CHARGE_RESULT, _start(session)).ret == Ret.BUSINESS
    session.refresh_from_db()
    assert session.state == S.STARTING


def test_status_pushes_keep_the_newest_sample_and_never_go_backwards(live):
    caller, session = live
    caller.call(Interface.NOTIFICATION_START_CHARGE_RESULT, _start(session))
    newer = caller.call(Interface.NOTIFICATION_EQUIP_CHARGE_STATUS, _status(session, "2026-12-01 09:50:00", "12.00"))
    assert newer.data == {"StartChargeSeq": session.start_charge_seq, "SuccStat": 0}
    caller.call(Interface.NOTIFICATION_EQUIP_CHARGE_STATUS, _status(session, "2026-12-01 09:40:00", "6.00", stat=1))
    session.refresh_from_db()
    assert session.total_power == Decimal("12.00") and session.state == S.CHARGING
    assert session.soc == Decimal("55.5") and session.last_status_at is not None


def test_a_failed_start_ends_the_session_and_gives_the_hold_back(live):
    caller, session = live
    assert balance_of(session.driver_id) == Decimal("200.00")
    caller.call(Interface.NOTIFICATION_START_CHARGE_RESULT, _start(session, stat=4))
    session.refresh_from_db()
    assert (session.state, session.outcome) == (S.FINISHED, Outcome.START_FAILED)
    assert balance_of(session.driver_id) == Decimal("300.00")


def test_the_order_ends_the_session_and_charges_once(live):
    caller, session = live
    caller.call(Interface.NOTIFICATION_START_CHARGE_RESULT, _start(session))
    payload = order(number=session.start_charge_seq)
    first = caller.call(Interface.NOTIFICATION_CHARGE_ORDER_INFO, payload)
    assert first.data["ConfirmResult"] == 0
    caller.call(Interface.NOTIFICATION_CHARGE_ORDER_INFO, payload)  # a repeat
    session.refresh_from_db()
    total = ChargeOrder.objects.get(start_charge_seq=session.start_charge_seq).total_money
    assert session.state == S.FINISHED and session.order.total_money == total
    assert list(WalletEntry.objects.filter(kind=EntryKind.CHARGE).values_list("amount", flat=True)) == [-total]
    assert balance_of(session.driver_id) == Decimal("300.00") - total
    assert SessionEvent.objects.filter(session=session, source=EventSource.ORDER).count() == 1


def test_an_order_whose_charge_fails_is_not_stored_and_its_retry_charges_once(live, monkeypatch):
    """A worker dying between the order and the charge: both are one transaction, so neither is kept, and the
    operator's retry stores the order and charges it once."""
    import apps.charging.services.payment as services

    caller, session = live
    payload = order(number=session.start_charge_seq)
    real = services.order_charge

    def dies(**kwargs):
        real(**kwargs)  # the charge is written …
        raise SystemExit("worker killed")  # … and the process dies before the transaction commits

    monkeypatch.setattr(services, "order_charge", dies)
    with pytest.raises(SystemExit):
        caller.call(Interface.NOTIFICATION_CHARGE_ORDER_INFO, payload)
    assert not ChargeOrder.objects.filter(start_charge_seq=session.start_charge_seq).exists()
    assert not WalletEntry.objects.filter(kind=EntryKind.CHARGE).exists()
    monkeypatch.setattr(services, "order_charge", real)
    assert caller.call(Interface.NOTIFICATION_CHARGE_ORDER_INFO, payload).data["ConfirmResult"] == 0
    assert WalletEntry.objects.filter(kind=EntryKind.CHARGE).count() == 1


def test_a_session_stuck_past_its_time_is_closed_and_flagged(live, settings):
    from apps.charging.services import session_watch

    _, session = live
    settings.HLHT_SESSION_STUCK_HOURS = 1
    assert session_watch(session.pk, now=session.requested_at + timedelta(minutes=59)) is not None
    assert session_watch(session.pk, now=session.requested_at + timedelta(minutes=61)) is None
    session.refresh_from_db()
    assert (session.state, session.outcome, session.review) == (S.FINISHED, Outcome.STUCK, True)
    assert balance_of(session.driver_id) == Decimal("300.00")


def test_a_stop_result_ends_the_session(live):
    caller, session = live
    caller.call(Interface.NOTIFICATION_START_CHARGE_RESULT, _start(session))
    answer = caller.call(Interface.NOTIFICATION_STOP_CHARGE_RESULT, {
        "StartChargeSeq": session.start_charge_seq, "StartChargeSeqStat": 4, "ConnectorID": "C1", "SuccStat": 0,
        "FailReason": 0})  # fmt: skip
    assert answer.data == {"StartChargeSeq": session.start_charge_seq, "SuccStat": 0, "FailReason": 0}
    session.refresh_from_db()
    assert (session.state, session.outcome) == (S.FINISHED, Outcome.COMPLETED)


def _stop_push(session, succ=0, reason=0):
    return {"StartChargeSeq": session.start_charge_seq, "StartChargeSeqStat": 4 if succ == 0 else 3,
            "ConnectorID": "C1", "SuccStat": succ, "FailReason": reason}  # fmt: skip


def test_an_ended_session_gives_the_hold_back_before_any_order_and_the_order_still_charges_once(live):
    caller, session = live
    caller.call(Interface.NOTIFICATION_START_CHARGE_RESULT, _start(session))
    caller.call(Interface.NOTIFICATION_STOP_CHARGE_RESULT, _stop_push(session))
    assert balance_of(session.driver_id) == Decimal("300.00")  # an operator that never sends the order freezes nothing
    caller.call(Interface.NOTIFICATION_CHARGE_ORDER_INFO, order(number=session.start_charge_seq))
    total = ChargeOrder.objects.get(start_charge_seq=session.start_charge_seq).total_money
    assert balance_of(session.driver_id) == Decimal("300.00") - total
    assert WalletEntry.objects.filter(kind=EntryKind.RELEASE).count() == 1


def test_how_a_session_ended_is_not_rewritten_by_a_late_push(live):
    caller, session = live
    caller.call(Interface.NOTIFICATION_START_CHARGE_RESULT, _start(session))
    caller.call(Interface.NOTIFICATION_STOP_CHARGE_RESULT, _stop_push(session))
    caller.call(Interface.NOTIFICATION_START_CHARGE_RESULT, _start(session, stat=4))  # late, and says "failed"
    session.refresh_from_db()
    assert (session.state, session.outcome) == (S.FINISHED, Outcome.COMPLETED)
    assert not session.driver.notifications.filter(title="充电未成功").exists()


def test_a_start_result_after_the_driver_pressed_stop_still_records_the_start(live):
    from apps.charging.services import session_stop

    caller, session = live
    session_stop(driver_id=session.driver_id, seq=session.start_charge_seq)
    caller.call(Interface.NOTIFICATION_START_CHARGE_RESULT, _start(session, IdentCode="777"))
    session.refresh_from_db()
    assert session.state == S.STOPPING and session.started_at is not None and session.ident_code == "777"


def test_a_refused_or_undelivered_stop_is_sent_again_when_the_driver_presses_stop(live):
    from apps.charging.choices import CommandKind, CommandState
    from apps.charging.models import OutboundCommand
    from apps.charging.services import session_stop

    _, session = live
    session_stop(driver_id=session.driver_id, seq=session.start_charge_seq)
    stop = OutboundCommand.objects.get(session=session, kind=CommandKind.STOP)
    session_stop(driver_id=session.driver_id, seq=session.start_charge_seq)  # under way: nothing new
    assert OutboundCommand.objects.filter(session=session, kind=CommandKind.STOP).count() == 1
    OutboundCommand.objects.filter(pk=stop.pk).update(state=CommandState.DONE, answer={"SuccStat": 1, "FailReason": 5})
    session_stop(driver_id=session.driver_id, seq=session.start_charge_seq)
    stop.refresh_from_db()
    assert stop.state == CommandState.PENDING  # the same command, to be sent again
    OutboundCommand.objects.filter(pk=stop.pk).update(state=CommandState.FAILED)
    session_stop(driver_id=session.driver_id, seq=session.start_charge_seq)
    stop.refresh_from_db()
    assert stop.state == CommandState.PENDING
    assert OutboundCommand.objects.filter(session=session, kind=CommandKind.STOP).count() == 1


def test_only_the_latest_timer_of_a_session_runs(live):
    from apps.charging.services import schedule_watch
    from apps.charging.tasks import session_watch_task

    _, session = live
    schedule_watch(session, 50)
    first = session.watch_at.isoformat()
    schedule_watch(session, 10)
    second = session.watch_at.isoformat()
    assert session_watch_task(session.pk, first) == "superseded"
    assert session_watch_task(session.pk, second) != "superseded"


def test_a_result_is_written_only_by_the_worker_that_still_holds_the_command(live, monkeypatch):
    """The lease ran out during a slow call and another worker took the command: the first one's result is dropped."""
    import apps.charging.services.outbox as services
    from apps.charging.choices import CommandKind, CommandState
    from apps.charging.models import OutboundCommand

    _, session = live
    command = factories.OutboundCommandFactory(session=session, kind=CommandKind.POLL)

    def slow_then_gone(operator):
        OutboundCommand.objects.filter(pk=command.pk).update(lease_until=timezone.now() + timedelta(minutes=5))
        raise services.NotConfigured("无接口地址")  # a permanent error, which would mark the command failed

    monkeypatch.setattr(services, "operator_client", slow_then_gone)
    assert services.command_send(command.pk) == "superseded"
    command.refresh_from_db()
    assert command.state == CommandState.PENDING
    # Its attempt is journalled as what it was (written before the call, completed after), the state left alone.
    assert [(t.ok, t.finished is not None) for t in command.tries.all()] == [(False, True)]


# -- the charge is bounded by what the session could cost (issue 21 item 2) -------------------------------------------


def _order_asking(session, money: str, **extra):
    """The session's order asking `money` 元 in all, its own figures consistent (only the total is out of reason)."""
    payload = order(number=session.start_charge_seq, **extra)
    payload["TotalMoney"] = Decimal(money)
    payload["TotalElecMoney"] = Decimal(money) - payload["TotalSeviceMoney"]
    payload.pop("ChargeDetails"), payload.pop("SumPeriod")
    return payload


def test_an_order_of_ten_billion_takes_nothing_keeps_the_hold_and_later_orders_still_pay(live):
    from apps.orders.models import OrderFinding

    caller, session = live
    answer = caller.call(Interface.NOTIFICATION_CHARGE_ORDER_INFO, _order_asking(session, "9999999999.99"))
    assert answer.ret == Ret.OK and answer.data["ConfirmResult"] == 1  # received, and disputed
    finding = OrderFinding.objects.get(rule="charge_over_bound")
    assert finding.disputes and finding.path == "TotalMoney"
    session.refresh_from_db()
    assert session.state == S.FINISHED and session.review and "charge_over_bound" in session.review_reason
    assert balance_of(session.driver_id) == Decimal("200.00")  # the hold still held, nothing charged
    assert not WalletEntry.objects.filter(kind=EntryKind.CHARGE).exists()

    # The driver's next session pays as usual: the ledger was never driven out of its columns.
    number = seq(PORTAL)
    wallet_hold(driver_id=session.driver_id, amount=Decimal("100"), seq=number, minimum=Decimal("10"))
    factories.ChargingSessionFactory(driver=session.driver, connector=session.connector, start_charge_seq=number,
                                     requested_at=timezone.now())  # fmt: skip
    second = order(number=number)
    assert caller.call(Interface.NOTIFICATION_CHARGE_ORDER_INFO, second).data["ConfirmResult"] == 0
    assert balance_of(session.driver_id) == Decimal("200.00") - second["TotalMoney"]


def test_an_order_within_the_hold_but_beyond_energy_times_the_declared_price_is_not_taken(live):
    caller, session = live
    # 30 kWh at the dearest declared price (1.1802 + 0.8000) with 5 % margin is 62.39 元; 90 is within the 100 held.
    answer = caller.call(Interface.NOTIFICATION_CHARGE_ORDER_INFO, _order_asking(session, "90.00"))
    assert answer.data["ConfirmResult"] == 1
    assert balance_of(session.driver_id) == Decimal("200.00")
    session.refresh_from_db()
    assert session.review


def test_a_person_settles_an_order_held_for_review_by_an_explicit_call(live):
    from apps.charging.services import Refused, order_charge_review

    caller, session = live
    caller.call(Interface.NOTIFICATION_CHARGE_ORDER_INFO, _order_asking(session, "90.00"))
    with pytest.raises(Refused):
        order_charge_review(seq=session.start_charge_seq, amount=Decimal("91.00"), by="auditor", note="核实")
    order_charge_review(seq=session.start_charge_seq, amount=Decimal("60.00"), by="auditor", note="按电量核定")
    assert balance_of(session.driver_id) == Decimal("240.00")  # the hold back, 60 taken
    entry = WalletEntry.objects.get(kind=EntryKind.CHARGE)
    assert (entry.created_by, entry.amount) == ("auditor", Decimal("-60.00"))
    session.refresh_from_db()
    assert not session.review


def test_the_ledger_refuses_an_amount_its_columns_cannot_hold(live):
    from apps.core.exceptions import Conflict

    _, session = live
    wallet_top_up(driver_id=session.driver_id, amount=Decimal("9999999000"), key="BIG")
    with pytest.raises(Conflict):
        wallet_top_up(driver_id=session.driver_id, amount=Decimal("9999999000"), key="BIGGER")


def test_a_charging_sample_from_an_operator_clock_running_ahead_does_not_hide_the_true_ones(live):
    """A sample stamped three hours ahead is taken at its arrival (with the rule code in the session's events), so the
    next true sample, a minute later, is still the newest."""
    from apps.protocol import format_datetime

    caller, session = live
    now = timezone.localtime()
    ahead = _status(session, format_datetime(now + timedelta(hours=3)), "5.00")
    assert caller.call(Interface.NOTIFICATION_EQUIP_CHARGE_STATUS, ahead).ret == Ret.OK
    session.refresh_from_db()
    assert session.sampled_at <= timezone.now()
    assert SessionEvent.objects.filter(session=session, note__startswith="time_in_future: EndTime").exists()
    true = _status(session, format_datetime(now + timedelta(minutes=1)), "6.00")
    caller.call(Interface.NOTIFICATION_EQUIP_CHARGE_STATUS, true)
    session.refresh_from_db()
    assert session.total_power == Decimal("6.00")
