"""Writes of roaming charging: start and stop for a driver, the outbox that calls operators, what their pushes and
answers do to a session (along SEQ_STAT_TRANSITIONS only), the timers' decisions, and the payment of the order."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from apps.core.exceptions import HLHTError
from apps.core.jobs import backoff, enqueue
from apps.core.leases import Claim, Lease
from apps.drivers.choices import DriverStatus, PaymentKind
from apps.drivers.models import Driver
from apps.drivers.selectors import balance_of
from apps.drivers.services import notify, order_charge, order_charge_settle, wallet_hold, wallet_release
from apps.interconnect.client import NotConfigured, last_exchange, operator_client
from apps.operators.choices import OperatorStatus
from apps.operators.models import Operator
from apps.orders.choices import SEQ_STAT_TRANSITIONS, StartChargeSeqStat
from apps.orders.models import ChargeOrder
from apps.orders.rules import CHARGE_OVER_BOUND, TIME_IN_FUTURE, charge_bound
from apps.orders.services import clock_skew, tolerances
from apps.pricing.models import PolicyCheck
from apps.pricing.selectors import price_at, version_at, versions_of
from apps.pricing.services import policy_error_key, policy_unreachable_key
from apps.pricing.tasks import connector_policy_ask_task
from apps.protocol import parse_datetime, serial_number
from apps.protocol.errors import ClientError, TransientError
from apps.protocol.names import Interface
from apps.protocol.text import storable
from apps.stations.choices import ConnectorStatus
from apps.stations.models import Connector

from .choices import LIVE_STATES, CommandKind, CommandState, EventSource, Outcome
from .models import ChargingSession, CommandAttempt, OutboundCommand, SessionEvent
from .selectors import portal_session_of

S = StartChargeSeqStat
# A command is claimed for sending with a lease on its row (the claim is the exact `lease_until` written).
COMMAND_LEASE = Lease(until="lease_until")


class Refused(HLHTError):
    """A driver's request the portal will not carry out: `code` for programs, the message for people."""

    def __init__(self, code: str, message: str, *, status: int = 409, fail_reason: int | None = None) -> None:
        super().__init__(message)
        self.code, self.status, self.fail_reason = code, status, fail_reason


# -- the state machine -----------------------------------------------------------------------------------------------


def _move(session: ChargingSession, to: int, source: str, note: str = "", **fields: Any) -> bool:
    """Move `session` to `to` if SEQ_STAT_TRANSITIONS allows it (staying put is allowed), saving only what changed;
    a change of state leaves an event. False (and nothing written) for a move backwards, and for anything once the
    session has finished: how it ended is not rewritten by a late push or poll.

    Reaching 已结束 releases the session's hold at once (an order, if one comes, charges the wallet itself): money is
    never left frozen by an operator that never sends the order."""
    if session.state == S.FINISHED:
        return False
    if to != session.state and to not in SEQ_STAT_TRANSITIONS[session.state]:
        return False
    changed = [name for name, value in fields.items() if getattr(session, name) != value]
    for name in changed:
        setattr(session, name, fields[name])
    before = session.state
    if to != before:
        session.state = to
        changed.append("state")
    if changed:
        session.save(update_fields=[*changed, "updated"])
    if to != before:
        SessionEvent.objects.create(session=session, from_state=before, to_state=to, source=source, note=note[:200])
    if to == S.FINISHED and session.order_id is None:  # with its order, order_charge releases the hold itself
        wallet_release(driver_id=session.driver_id, seq=session.start_charge_seq)
    return True


def _finish(session: ChargingSession, source: str, outcome: str, note: str, *, when: dt.datetime | None = None,
            fail_reason: int | None = None, review: str = "") -> None:  # fmt: skip
    """End a session that did not (or may not have) charged: its hold comes back (`_move`) and the driver is told."""
    fields: dict[str, Any] = {"outcome": outcome, "ended_at": when or timezone.now()}
    if fail_reason is not None:
        fields["fail_reason"] = fail_reason
    if review:
        fields |= {"review": True, "review_reason": review[:200]}
    if not _move(session, S.FINISHED, source, note, **fields):
        return
    notify(driver=session.driver, key=f"session:{session.pk}:end", seq=session.start_charge_seq,
           title="充电已结束" if outcome == Outcome.COMPLETED else "充电未成功", body=note)  # fmt: skip


# -- the driver's requests -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    operator: Operator
    connector: Connector


def target_of(operator_id: str, connector_id: str) -> Target:
    operator = Operator.objects.filter(pk=operator_id).first()
    connector = (
        Connector.objects.filter(operator_id=operator_id, connector_id=connector_id, removed_at__isnull=True)
        .select_related("station")
        .first()
    )
    if operator is None or connector is None:
        raise Refused("connector_unknown", f"充电接口 {connector_id}（运营商 {operator_id}）不存在", status=404)
    return Target(operator, connector)


_REFUSED_STATUS = {
    ConnectorStatus.OFFLINE: ("connector_offline", "充电接口离网"),
    ConnectorStatus.FAULT: ("connector_fault", "充电接口故障"),
    ConnectorStatus.CHARGING: ("connector_busy", "充电接口正在为他人充电"),
    ConnectorStatus.RESERVED: ("connector_busy", "充电接口已被预约"),
}


def _check_can_start(driver: Driver, target: Target) -> None:
    if driver.status != DriverStatus.ACTIVE:
        raise Refused("driver_suspended", "账户已停用", status=403)
    if target.operator.status == OperatorStatus.SUSPENDED or not target.operator.is_connected:
        raise Refused("operator_suspended", f"运营商 {target.operator.operator_id} 已暂停接入")
    status = getattr(target.connector, "current_status", None)
    if status is not None and status.status in _REFUSED_STATUS:
        code, message = _REFUSED_STATUS[status.status]
        raise Refused(code, message)
    if ChargingSession.objects.filter(connector=target.connector, state__in=LIVE_STATES).exists():
        raise Refused("connector_busy", "充电接口已有进行中的充电")
    minimum = Decimal(str(settings.HLHT_DRIVER_MIN_BALANCE))
    balance = balance_of(driver.pk) if driver.payment == PaymentKind.PREPAID else None
    if balance is not None and balance < minimum:
        raise Refused("balance_low", f"余额 {balance} 元低于启动充电所需的 {minimum} 元", status=402)


def session_start(*, driver_id: int, operator_id: str, connector_id: str, qr_code: str = "") -> ChargingSession:
    """Check, authenticate the connector with its operator (query_equip_auth, answered at once), then hold the money
    and put the start command in the outbox, all in one transaction; the command is sent once that commits."""
    driver = Driver.objects.get(pk=driver_id)
    target = target_of(operator_id, connector_id)
    _check_can_start(driver, target)
    auth_seq = serial_number(settings.HLHT_OPERATOR_ID)
    try:
        with operator_client(target.operator) as client:
            answer = client.call(Interface.QUERY_EQUIP_AUTH, {"EquipAuthSeq": auth_seq, "ConnectorID": connector_id})
    except (ClientError, NotConfigured) as exc:
        raise Refused("operator_unreachable", f"无法连接运营商平台：{exc}", status=503) from None
    if answer.get("SuccStat") != 0:
        reason = answer.get("FailReason")
        text = {1: "此设备尚未插枪", 2: "设备检测失败"}.get(reason, f"运营商拒绝（FailReason {reason}）")
        raise Refused("auth_refused", f"设备认证失败：{text}", fail_reason=reason)
    seq = serial_number(settings.HLHT_OPERATOR_ID)
    try:
        with transaction.atomic():
            wallet_hold(driver_id=driver.pk, amount=Decimal(str(settings.HLHT_DRIVER_HOLD)), seq=seq,
                        minimum=Decimal(str(settings.HLHT_DRIVER_MIN_BALANCE)))  # fmt: skip
            session = ChargingSession.objects.create(
                driver=driver, operator=target.operator, connector=target.connector, start_charge_seq=seq,
                equip_auth_seq=auth_seq, qr_code=qr_code[:200], requested_at=timezone.now(),
            )  # fmt: skip
            SessionEvent.objects.create(session=session, from_state=None, to_state=S.STARTING,
                                        source=EventSource.DRIVER, note="用户请求启动充电")  # fmt: skip
            command = OutboundCommand.objects.create(session=session, kind=CommandKind.START)
            _after_commit_send(command.pk)
    except IntegrityError:
        raise Refused("connector_busy", "充电接口已有进行中的充电") from None
    except HLHTError as exc:  # the hold refused: the account or the balance changed since the check
        if str(exc).startswith("driver:"):
            raise Refused("driver_suspended", "账户已停用", status=403) from None
        raise Refused("balance_low", str(exc), status=402) from None
    return session


@transaction.atomic
def session_stop(*, driver_id: int, seq: str) -> ChargingSession:
    """Ask the operator to stop: the driver sees 停止中 until the operator confirms. Pressing stop again while one is
    under way changes nothing; after the operator refused it or it could not be delivered, it is sent again (the same
    command, the same StartChargeSeq)."""
    session = ChargingSession.objects.select_for_update().filter(driver_id=driver_id, start_charge_seq=seq).first()
    if session is None:
        raise Refused("session_unknown", "没有这个充电会话", status=404)
    if session.state == S.FINISHED:
        raise Refused("session_finished", "充电已结束")
    command = OutboundCommand.objects.select_for_update().filter(session=session, kind=CommandKind.STOP).first()
    if command is None:
        _move(session, S.STOPPING, EventSource.DRIVER, "用户请求停止充电", stop_requested_at=timezone.now())
        command = OutboundCommand.objects.create(session=session, kind=CommandKind.STOP)
        _after_commit_send(command.pk)
        return session
    refused_before = command.state == CommandState.DONE and (command.answer or {}).get("SuccStat") not in (0, None)
    if command.state == CommandState.FAILED or refused_before:
        command.state, command.next_attempt_at, command.lease_until = CommandState.PENDING, None, None
        command.save(update_fields=["state", "next_attempt_at", "lease_until", "updated"])
        session.stop_requested_at = timezone.now()
        session.save(update_fields=["stop_requested_at", "updated"])
        SessionEvent.objects.create(session=session, from_state=session.state, to_state=session.state,
                                    source=EventSource.DRIVER, note="用户再次请求停止充电")  # fmt: skip
        _after_commit_send(command.pk)
    return session


# -- the outbox ------------------------------------------------------------------------------------------------------


def _after_commit_send(command_id: int, countdown: float = 0) -> None:
    from .tasks import command_deliver_task  # imported here: the tasks module imports this one

    enqueue(command_deliver_task, command_id, countdown=countdown)


def schedule_watch(session: ChargingSession, countdown: float) -> None:
    """(Re)arm the session's one timer. The latest arming wins: a task from an earlier one finds `watch_at` changed
    and stops, so pushes, answers and polls never pile up chains of timers for one session."""
    due = timezone.now() + dt.timedelta(seconds=countdown)
    session.watch_at = due
    session.save(update_fields=["watch_at", "updated"])
    from .tasks import session_watch_task  # imported here: the tasks module imports this one

    enqueue(session_watch_task, session.pk, due.isoformat(), countdown=countdown)


def _payload(command: OutboundCommand) -> tuple[str, dict[str, Any]]:
    session = command.session
    if command.kind == CommandKind.START:
        return Interface.QUERY_START_CHARGE, {"StartChargeSeq": session.start_charge_seq,
                                               "ConnectorID": session.connector.connector_id,
                                               "QRCode": session.qr_code}  # fmt: skip
    if command.kind == CommandKind.STOP:
        return Interface.QUERY_STOP_CHARGE, {"StartChargeSeq": session.start_charge_seq,
                                              "ConnectorID": session.connector.connector_id}  # fmt: skip
    return Interface.QUERY_EQUIP_CHARGE_STATUS, {"StartChargeSeq": session.start_charge_seq}


def retry_delay(attempts: int) -> float:
    """Seconds before attempt `attempts + 1`: Celery's backoff (5·2ⁿ, capped at HLHT_COMMAND_RETRY_MAX_DELAY, full
    jitter), so many sessions failing after one network blip do not all come back in the same second."""
    return backoff(max(0, attempts - 1), base=5, cap=settings.HLHT_COMMAND_RETRY_MAX_DELAY)


def _claim(command_id: int) -> tuple[OutboundCommand, Claim] | None:
    """Take a pending, due command for sending, or None if it is done, failed, not due, or another worker holds it."""
    now = timezone.now()
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    pending = OutboundCommand.objects.filter(due, pk=command_id, state=CommandState.PENDING)
    # A call may take a token, the call, a re-authentication on 4002 and the resend: four round trips at worst.
    seconds = 4 * (settings.HLHT_CLIENT_CONNECT_TIMEOUT + settings.HLHT_CLIENT_READ_TIMEOUT) + 30
    claim = COMMAND_LEASE.take(pending, seconds=seconds, now=now, updated=now)
    if claim is None:
        return None
    command = OutboundCommand.objects.select_related("session__operator", "session__connector").get(pk=command_id)
    return command, claim


def command_send(command_id: int) -> str:
    """Send one pending command once (the task calls this; a retry is a later call). Returns its state after, or
    "skipped" when it was not this worker's to send.

    The command is claimed with a lease first, so a redelivered task or the sweep never sends it a second time while
    one is under way; the network call is made outside any transaction; its result is written under the row lock.
    """
    claimed = _claim(command_id)
    if claimed is None:
        return "skipped"
    command, claim = claimed  # the result is written only while this worker still holds the claim
    interface, payload = _payload(command)
    exchange, error, answer, transient = None, "", None, False
    try:
        with operator_client(command.session.operator) as client:
            try:
                answer = client.call(interface, payload)
            finally:
                exchange = last_exchange(client)
    except TransientError as exc:
        error, transient = str(exc), True
    except (ClientError, NotConfigured) as exc:
        error = str(exc)
    with transaction.atomic():
        command = OutboundCommand.objects.select_for_update().select_related("session").get(pk=command_id)
        if command.state != CommandState.PENDING or not COMMAND_LEASE.holds(command, claim):
            return "superseded"  # the lease ran out and another worker took the command: its result stands
        command.lease_until = None
        CommandAttempt.objects.create(command=command, exchange=exchange, ok=answer is not None, error=error[:500])
        command.attempts += 1
        if answer is not None:
            command.state, command.answer, command.last_error = CommandState.DONE, storable(answer), ""
            command.save(update_fields=["state", "answer", "last_error", "attempts", "lease_until", "updated"])
            _apply_answer(command, answer)
        elif transient and command.attempts < settings.HLHT_COMMAND_ATTEMPTS:
            delay = retry_delay(command.attempts)
            command.last_error, command.next_attempt_at = error[:500], timezone.now() + dt.timedelta(seconds=delay)
            command.save(update_fields=["last_error", "next_attempt_at", "attempts", "lease_until", "updated"])
            _after_commit_send(command.pk, countdown=delay)
        else:
            command.state, command.last_error = CommandState.FAILED, error[:500]
            command.save(update_fields=["state", "last_error", "attempts", "lease_until", "updated"])
            _command_failed(command)
        return command.state


def _locked_session(session_id: int) -> ChargingSession:
    return ChargingSession.objects.select_for_update().select_related("driver").get(pk=session_id)


def _apply_answer(command: OutboundCommand, answer: dict[str, Any]) -> None:
    session = _locked_session(command.session_id)
    if command.kind == CommandKind.POLL:
        snapshot_apply(session, answer, EventSource.POLL)
        return
    if answer.get("SuccStat") == 0:
        wait = settings.HLHT_START_RESULT_WAIT if command.kind == CommandKind.START else settings.HLHT_STOP_RESULT_WAIT
        schedule_watch(session, wait)  # the result push is due within this; otherwise poll
        return
    reason = answer.get("FailReason")
    if command.kind == CommandKind.START:
        text = {1: "此设备不存在", 2: "此设备离线"}.get(reason, f"FailReason {reason}")
        _finish(session, EventSource.COMMAND, Outcome.START_REFUSED, f"运营商拒绝启动：{text}", fail_reason=reason)
    elif reason == 3:  # 设备已停止充电: the session is over; the stop result or the order will say how it ended
        schedule_watch(session, 0)
    else:
        session.fail_reason = reason
        session.save(update_fields=["fail_reason", "updated"])
        schedule_watch(session, settings.HLHT_STOP_RESULT_WAIT)


def _command_failed(command: OutboundCommand) -> None:
    """Out of attempts, or refused for good: the session's fate is not known; polls (and the order) will tell."""
    session = _locked_session(command.session_id)
    if command.kind == CommandKind.START:
        _move(session, S.UNKNOWN, EventSource.COMMAND, f"启动命令未送达：{command.last_error}"[:200],
              review=True, review_reason="启动命令未送达运营商")  # fmt: skip
    schedule_watch(session, 0)


# -- what operators tell the portal ----------------------------------------------------------------------------------


def session_for_push(operator_id: str, seq: str) -> ChargingSession | None:
    """The portal-started session a push is about (locked), or None: a seq the portal never started."""
    return (
        ChargingSession.objects.select_for_update()
        .select_related("driver")
        .filter(operator_id=operator_id, start_charge_seq=seq)
        .first()
    )


def _operator_time(session: ChargingSession, payload: dict[str, Any], name: str, source: str,
                   now: dt.datetime) -> dt.datetime:  # fmt: skip
    """An operator's time for the session. One later than its arrival by more than the clock window is not believed
    (the operator's clock runs ahead): the arrival stands in for it, and the session's events say so with the rule
    code, so a sample from the future never hides the true ones that follow it."""
    moment = parse_datetime(payload[name])
    if moment <= now + clock_skew():
        return moment
    note = f"{TIME_IN_FUTURE}: {name} {payload[name]} 晚于收到时间，按收到时间记录"
    SessionEvent.objects.create(session=session, from_state=session.state, to_state=session.state, source=source,
                                note=note[:200])  # fmt: skip
    return now


def start_result_apply(session: ChargingSession, payload: dict[str, Any]) -> None:
    """notification_start_charge_result: 2 充电中 started; 4/5 a start that failed. A repeat changes nothing."""
    stat = payload["StartChargeSeqStat"]
    started = _operator_time(session, payload, "StartTime", EventSource.PUSH, timezone.now())
    ident = str(payload.get("IdentCode") or "")[:64]
    if stat in (S.CHARGING, S.STOPPING):
        if _move(session, stat, EventSource.PUSH, "运营商推送启动成功", started_at=started, ident_code=ident):
            schedule_watch(session, settings.HLHT_STATUS_PUSH_WAIT)
        elif session.state != S.FINISHED and session.started_at is None:
            # The driver pressed stop before this arrived (停止中 cannot go back): keep when it started and its code.
            _move(session, session.state, EventSource.PUSH, started_at=started, ident_code=ident)
    elif stat == S.FINISHED and session.started_at is None and session.total_power is None:
        _finish(session, EventSource.PUSH, Outcome.START_FAILED, "运营商推送启动失败")
    elif stat == S.FINISHED:
        _move(session, S.FINISHED, EventSource.PUSH, "运营商推送已结束", ended_at=timezone.now())
    else:  # 1 启动中 again, or 5 未知: nothing learnt; a poll will tell
        schedule_watch(session, settings.HLHT_START_RESULT_WAIT)


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def snapshot_apply(session: ChargingSession, payload: dict[str, Any], source: str) -> None:
    """A charging-status snapshot, pushed or polled. An older sample than the one kept changes only the times."""
    now = timezone.now()
    times = {"last_status_at": now} if source == EventSource.PUSH else {"last_poll_at": now}
    sampled = _operator_time(session, payload, "EndTime", source, now) if payload.get("EndTime") else now
    stat = payload.get("StartChargeSeqStat", session.state)
    fields: dict[str, Any] = dict(times)
    if session.sampled_at is None or sampled >= session.sampled_at:
        fields |= {
            "sampled_at": sampled,
            "connector_status": payload.get("ConnectorStatus"),
            "total_power": _decimal(payload.get("TotalPower")),
            "elec_money": _decimal(payload.get("ElecMoney")),
            "sevice_money": _decimal(payload.get("SeviceMoney")),
            "total_money": _decimal(payload.get("TotalMoney")),
            "soc": _decimal(payload.get("Soc")) or None,
        }
        if session.started_at is None and payload.get("StartTime"):
            fields["started_at"] = _operator_time(session, payload, "StartTime", source, now)
    else:
        stat = session.state  # an older sample says nothing about where the session is now
    if stat == S.FINISHED:
        _move(session, S.FINISHED, source, "运营商报告已结束", outcome=Outcome.COMPLETED, ended_at=sampled, **fields)
    elif not _move(session, stat, source, "运营商报告的状态", **fields):
        _move(session, session.state, source, **fields)  # never backwards, but keep the figures and the times


def stop_result_apply(session: ChargingSession, payload: dict[str, Any]) -> None:
    """notification_stop_charge_result: stopped (or already stopped) ends it; another failure waits for a poll."""
    if payload["SuccStat"] == 0 or payload.get("FailReason") == 3:
        _move(session, S.FINISHED, EventSource.PUSH, "运营商推送停止成功", outcome=Outcome.COMPLETED,
              ended_at=timezone.now())  # fmt: skip
    else:
        session.fail_reason = payload.get("FailReason")
        session.save(update_fields=["fail_reason", "updated"])
        schedule_watch(session, settings.HLHT_STOP_RESULT_WAIT)


# -- timers ----------------------------------------------------------------------------------------------------------


def _older(moment: dt.datetime | None, seconds: float, now: dt.datetime) -> bool:
    return moment is None or (now - moment).total_seconds() >= seconds


def session_watch(session_id: int, *, now: dt.datetime | None = None) -> float | None:
    """What is due for a live session: close it if stuck, or poll it (never more often than every 120 s) when a
    start result, a charging-status push or a stop result is overdue. Returns seconds until the next check, or None
    once the session is over. The poll is queued in the outbox and sent after this commits."""
    now = now or timezone.now()
    with transaction.atomic():
        session = _locked_session(session_id)
        if not session.live:
            return None
        if (now - session.requested_at).total_seconds() > settings.HLHT_SESSION_STUCK_HOURS * 3600:
            _finish(session, EventSource.TIMER, Outcome.STUCK, "会话长时间未结束，已关闭并待复核", when=now,
                    review="超过最长会话时间仍未结束")  # fmt: skip
            return None
        poll_gap = settings.HLHT_POLL_MIN_INTERVAL
        if session.state == S.STARTING:
            overdue = _older(session.requested_at, settings.HLHT_START_RESULT_WAIT, now)
        elif session.state == S.CHARGING:
            overdue = _older(session.last_status_at or session.started_at, settings.HLHT_STATUS_PUSH_WAIT, now)
        elif session.state == S.STOPPING:
            overdue = _older(session.stop_requested_at, settings.HLHT_STOP_RESULT_WAIT, now)
        else:  # 未知
            overdue = True
        if overdue and _older(session.last_poll_at, poll_gap, now):
            session.last_poll_at = now
            session.save(update_fields=["last_poll_at", "updated"])
            command = OutboundCommand.objects.create(session=session, kind=CommandKind.POLL)
            _after_commit_send(command.pk)
        return float(min(poll_gap, settings.HLHT_STATUS_PUSH_WAIT))


# -- payment ---------------------------------------------------------------------------------------------------------


def order_pay(*, order: ChargeOrder, interface: str, revision: int) -> None:
    """The order of a portal-started session arrived (inside the transaction storing it): the session ends, and the
    driver is charged its TotalMoney once (a correction: the difference) — unless that is more than the session
    could cost (`charge_bound`): then nothing is taken, any hold still standing stays, and the session waits for a
    person (`order_charge_review`). The wallet is never debited beyond the bound by an operator's figures."""
    session = session_for_push(order.operator_id, order.start_charge_seq)
    if session is None:
        return
    if session.order_id is None:
        session.order = order
        session.save(update_fields=["order", "updated"])
    if session.live:
        _move(session, S.FINISHED, EventSource.ORDER, "收到充电订单", outcome=Outcome.COMPLETED,
              ended_at=order.end_time or timezone.now())  # fmt: skip
    found = portal_session_of(order.operator_id, order.start_charge_seq)
    versions = versions_of([order.connector_id]).get(order.connector_id, []) if order.connector_id else []
    bound = charge_bound(start=order.start_time, end=order.end_time, energy=order.total_power,
                         ceiling=found.ceiling, versions=versions, tol=tolerances())  # fmt: skip
    if (order.total_money or Decimal(0)) > bound:
        reason = f"{CHARGE_OVER_BOUND}: 订单金额 {order.total_money} 元超过本次充电可能的最高金额 {bound} 元，未扣款"
        session.review, session.review_reason = True, reason[:200]
        session.save(update_fields=["review", "review_reason", "updated"])
        return
    order_charge(driver_id=session.driver_id, order=order, revision=f"{interface}:r{revision}")


@transaction.atomic
def order_charge_review(*, seq: str, amount: Decimal, by: str, note: str) -> None:
    """A person settles a session whose order asked more than it could cost: the driver is charged `amount` (at most
    the order's TotalMoney; 0 charges nothing), the hold comes back, the session leaves review. Who and why are kept
    on the ledger entry."""
    session = (
        ChargingSession.objects.select_for_update(of=("self",))
        .select_related("order")
        .filter(start_charge_seq=seq)
        .first()
    )
    if session is None or session.order is None or not session.review:
        raise Refused("session_not_in_review", "该充电会话没有待复核的订单", status=409)
    if not note.strip():
        raise Refused("note_required", "复核须说明原因", status=400)
    total = session.order.total_money or Decimal(0)
    if not Decimal(0) <= amount <= total:
        raise Refused("amount_out_of_range", f"复核金额应在 0 与订单金额 {total} 元之间", status=400)
    order_charge_settle(driver_id=session.driver_id, order=session.order, amount=amount, by=by, note=note)
    session.review, session.review_reason = False, ""
    session.save(update_fields=["review", "review_reason", "updated"])


# -- the driver's price ----------------------------------------------------------------------------------------------


def connector_policy(connector: Connector) -> dict[str, Any]:
    """The connector's business policy for a driver about to charge, and its price now.

    The operator is asked (query_equip_business_policy, by a task: never inside this request) when the portal has not
    asked within HLHT_DRIVER_POLICY_CACHE seconds; every answer goes into the policy history, a new version only when
    the periods change. Meanwhile the newest known version is shown; `asked_now` says the answer came in while this
    request was served (a quick worker), `error` why the last question failed. An operator that could not be reached
    is not asked again for HLHT_DRIVER_POLICY_BACKOFF seconds.
    """
    now = timezone.now()
    check = PolicyCheck.objects.filter(connector=connector).first()
    live, error = False, ""
    stale = check is None or (now - check.checked_at).total_seconds() > settings.HLHT_DRIVER_POLICY_CACHE
    if stale and cache.get(policy_unreachable_key(connector.operator_id)) is not None:
        error = (
            f"运营商平台暂时无法连接，{settings.HLHT_DRIVER_POLICY_BACKOFF:g} 秒内不再询问；以下为已知的最新业务策略"
        )
    elif stale:
        enqueue(connector_policy_ask_task, connector.pk)
        check = PolicyCheck.objects.filter(connector=connector).first()
        live = check is not None and check.checked_at >= now
        error = "" if live else cache.get(policy_error_key(connector.pk), "")
    now = timezone.now()  # after any answer: a version observed just now is in force
    versions = versions_of([connector.pk]).get(connector.pk, [])
    current = version_at(versions, now)
    price = price_at(versions, now)
    periods = current.periods.all() if current else []
    price_now = None
    if price is not None:
        price_now = {
            "elec_price": price.elec_price,
            "sevice_price": price.sevice_price,
            "period_start": price.period_start,
        }
    return {
        "operator_id": connector.operator_id,
        "connector_id": connector.connector_id,
        "asked_now": live,
        "error": error,
        "effective_from": current.effective_from if current else None,
        "periods": [
            {"start_time": p.start_time, "elec_price": p.elec_price, "sevice_price": p.sevice_price} for p in periods
        ],
        "price_now": price_now,
    }
