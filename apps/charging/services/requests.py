"""The driver's requests: start a session (check, authenticate the connector, hold the money, queue the start), stop
it, and read a connector's price; a Refused subclass (apps/charging/exceptions.py) says why the portal will not."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.core.conf import conf
from apps.core.jobs import enqueue
from apps.core.serials import next_serial
from apps.drivers.choices import DriverStatus, PaymentKind
from apps.drivers.exceptions import BalanceTooLow, DriverSuspended
from apps.drivers.models import Driver
from apps.drivers.selectors import balance_of
from apps.drivers.services import wallet_hold
from apps.operators.choices import OperatorStatus
from apps.operators.models import Operator
from apps.orders.choices import StartChargeSeqStat as S
from apps.pricing.models import PolicyCheck
from apps.pricing.selectors import price_at, version_at, versions_of
from apps.pricing.services import policy_error_key, policy_unreachable_key
from apps.pricing.tasks import connector_policy_ask_task
from apps.stations.choices import ConnectorStatus
from apps.stations.models import Connector

from ..choices import LIVE_STATES, CommandKind, CommandState, EventSource, Outcome
from ..exceptions import (
    AccountSuspended,
    BalanceLow,
    ConnectorBusy,
    ConnectorFault,
    ConnectorOffline,
    ConnectorUnknown,
    OperatorSuspended,
    Refused,
    SessionFinished,
    SessionUnknown,
)
from ..models import ChargingSession, OutboundCommand
from .reports import session_end
from .state import session_note, session_opened, session_update, transition
from .wakeups import command_queue, command_wake


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
        raise ConnectorUnknown(f"充电接口 {connector_id}（运营商 {operator_id}）不存在")
    return Target(operator, connector)


_REFUSED_STATUS: dict[int, tuple[type[Refused], str]] = {
    ConnectorStatus.OFFLINE: (ConnectorOffline, "充电接口离网"),
    ConnectorStatus.FAULT: (ConnectorFault, "充电接口故障"),
    ConnectorStatus.CHARGING: (ConnectorBusy, "充电接口正在为他人充电"),
    ConnectorStatus.RESERVED: (ConnectorBusy, "充电接口已被预约"),
}


def _check_can_start(driver: Driver, target: Target) -> None:
    if driver.status != DriverStatus.ACTIVE:
        raise AccountSuspended()
    if target.operator.status == OperatorStatus.SUSPENDED or not target.operator.is_connected:
        raise OperatorSuspended(f"运营商 {target.operator.operator_id} 已暂停接入")
    status = getattr(target.connector, "current_status", None)
    if status is not None and status.status in _REFUSED_STATUS:
        refusal, message = _REFUSED_STATUS[status.status]
        raise refusal(message)
    if ChargingSession.objects.filter(connector=target.connector, state__in=LIVE_STATES).exists():
        raise ConnectorBusy()
    minimum = conf().charging.driver_min_balance
    balance = balance_of(driver.pk) if driver.payment == PaymentKind.PREPAID else None
    if balance is not None and balance < minimum:
        raise BalanceLow(f"余额 {balance} 元低于启动充电所需的 {minimum} 元")


def session_start(*, driver_id: int, operator_id: str, connector_id: str, qr_code: str = "") -> ChargingSession:
    """Check, hold the money and put the connector's authentication (query_equip_auth) in the outbox, all in one
    transaction: the session is answered at once, 启动中. Nothing here waits on the operator's network (a slow
    platform must not hold a web worker): a worker sends the authentication once this commits, then the start
    (`outbox._apply_answer`); a refusal or an operator that cannot be reached ends the session and releases the hold."""
    driver = Driver.objects.get(pk=driver_id)
    target = target_of(operator_id, connector_id)
    _check_can_start(driver, target)
    auth_seq = next_serial(conf().protocol.operator_id)
    seq = next_serial(conf().protocol.operator_id)
    try:
        with transaction.atomic():
            wallet_hold(
                driver_id=driver.pk,
                amount=conf().charging.driver_hold,
                seq=seq,
                minimum=conf().charging.driver_min_balance,
            )
            session = ChargingSession.objects.create(
                driver=driver,
                operator=target.operator,
                connector=target.connector,
                start_charge_seq=seq,
                equip_auth_seq=auth_seq,
                qr_code=qr_code[:200],
                requested_at=timezone.now(),
            )
            session_opened(session, source=EventSource.DRIVER, note="用户请求启动充电，设备认证中")
            command_queue(session, CommandKind.AUTH)
    except IntegrityError:
        raise ConnectorBusy() from None
    # The hold refused: the account or the balance changed since the check.
    except DriverSuspended:
        raise AccountSuspended() from None
    except BalanceTooLow as exc:
        raise BalanceLow(exc.message) from None
    return session


@transaction.atomic
def session_stop(*, driver_id: int, seq: str) -> ChargingSession:
    """Ask the operator to stop: the driver sees 停止中 until the operator confirms. Pressing stop again while one is
    under way changes nothing; after the operator refused it or it could not be delivered, it is sent again (the same
    command, the same StartChargeSeq)."""
    session = ChargingSession.objects.select_for_update().filter(driver_id=driver_id, start_charge_seq=seq).first()
    if session is None:
        raise SessionUnknown()
    if session.state == S.FINISHED:
        raise SessionFinished()
    commands = set(OutboundCommand.objects.filter(session=session).values_list("kind", flat=True))
    if CommandKind.AUTH in commands and CommandKind.START not in commands:
        # Still being authenticated: the operator was never asked to start, so there is nothing to stop there. The
        # session ends now and its hold comes back; the authentication's answer, when it comes, starts nothing.
        session_end(session, source=EventSource.DRIVER, outcome=Outcome.CANCELLED, note="用户在设备认证期间取消")
        return session
    command = OutboundCommand.objects.select_for_update().filter(session=session, kind=CommandKind.STOP).first()
    if command is None:
        if session.state == S.STOPPING:  # the operator already reported 停止中: the driver's stop moves nothing
            session_update(session, stop_requested_at=timezone.now())
        else:
            transition(
                session,
                S.STOPPING,
                source=EventSource.DRIVER,
                note="用户请求停止充电",
                stop_requested_at=timezone.now(),
            )
        command_queue(session, CommandKind.STOP)
        return session
    refused_before = command.state == CommandState.DONE and (command.answer or {}).get("SuccStat") not in (0, None)
    if command.state == CommandState.FAILED or refused_before:
        command.state, command.next_attempt_at, command.lease_until = CommandState.PENDING, None, None
        command.save(update_fields=["state", "next_attempt_at", "lease_until", "updated"])
        session_update(session, stop_requested_at=timezone.now())
        session_note(session, source=EventSource.DRIVER, note="用户再次请求停止充电")
        command_wake(command.pk)
    return session


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
    stale = check is None or (now - check.checked_at).total_seconds() > conf().charging.policy_cache_seconds
    if stale and cache.get(policy_unreachable_key(connector.operator_id)) is not None:
        error = (
            f"运营商平台暂时无法连接，{conf().charging.policy_backoff_seconds:g} 秒内不再询问；以下为已知的最新业务策略"
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
