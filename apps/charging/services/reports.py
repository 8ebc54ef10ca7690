"""What operators report about a session — the three pushes, and the snapshots the portal polls — and how a session
ends. Reports may come late or out of order: every move they ask for is made with `ignore_late=True` (a move the
table refuses is not made), and each move to 已结束 is followed by the explicit release of the session's hold."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import timezone

from apps.core.conf import conf
from apps.drivers.services import notify
from apps.orders.choices import StartChargeSeqStat as S
from apps.orders.rules import TIME_IN_FUTURE
from apps.orders.services import clock_skew
from apps.protocol import parse_datetime
from apps.protocol.names import StopFailReason, SuccStat

from ..choices import EventSource, Outcome
from ..models import ChargingSession
from .payment import hold_release
from .state import session_note, session_update, transition
from .wakeups import schedule_watch, stop_wake


def session_end(
    session: ChargingSession,
    *,
    source: str,
    outcome: str,
    note: str,
    when: dt.datetime | None = None,
    fail_reason: int | None = None,
    review: str = "",
    ignore_late: bool = False,
) -> bool:
    """End a session that did not (or may not have) charged: 已结束 with how and when, its hold given back, the driver
    told. `ignore_late` as for `transition`: False, and nothing done, for a session that already ended."""
    fields: dict[str, Any] = {"outcome": outcome, "ended_at": when or timezone.now()}
    if fail_reason is not None:
        fields["fail_reason"] = fail_reason
    if review:
        fields |= {"review": True, "review_reason": review[:200]}
    if not transition(session, S.FINISHED, source=source, note=note, ignore_late=ignore_late, **fields):
        return False
    hold_release(session)
    notify(
        driver=session.driver,
        key=f"session:{session.pk}:end",
        seq=session.start_charge_seq,
        title="充电已结束" if outcome == Outcome.COMPLETED else "充电未成功",
        body=note,
    )
    return True


def _operator_time(
    session: ChargingSession, payload: dict[str, Any], name: str, source: str, now: dt.datetime
) -> dt.datetime:
    """An operator's time for the session. One later than its arrival by more than the clock window is not believed
    (the operator's clock runs ahead): the arrival stands in for it, and the session's events say so with the rule
    code, so a sample from the future never hides the true ones that follow it."""
    moment = parse_datetime(payload[name])
    if moment <= now + clock_skew():
        return moment
    session_note(session, source=source, note=f"{TIME_IN_FUTURE}: {name} {payload[name]} 晚于收到时间，按收到时间记录")
    return now


def start_result_apply(session: ChargingSession, payload: dict[str, Any]) -> None:
    """notification_start_charge_result: 2 充电中 started; 4/5 a start that failed. A repeat changes nothing."""
    stat = payload["StartChargeSeqStat"]
    started = _operator_time(session, payload, "StartTime", EventSource.PUSH, timezone.now())
    ident = str(payload.get("IdentCode") or "")[:64]
    if stat in (S.CHARGING, S.STOPPING):
        facts = {"started_at": started, "ident_code": ident}
        if stat == session.state:  # the same push again
            session_update(session, **facts)
            schedule_watch(session, conf().charging.status_push_wait_seconds)
        elif transition(session, stat, source=EventSource.PUSH, note="运营商推送启动成功", ignore_late=True, **facts):
            schedule_watch(session, conf().charging.status_push_wait_seconds)
        elif session.live and session.started_at is None:
            # The driver pressed stop before this arrived (停止中 cannot go back): keep when it started and its code,
            # and send the stop again now if the operator refused it as too early.
            session_update(session, **facts)
            stop_wake(session)
    elif stat == S.FINISHED and session.started_at is None and session.total_power is None:
        session_end(
            session, source=EventSource.PUSH, outcome=Outcome.START_FAILED, note="运营商推送启动失败", ignore_late=True
        )
    elif stat == S.FINISHED:
        if transition(
            session,
            S.FINISHED,
            source=EventSource.PUSH,
            note="运营商推送已结束",
            ignore_late=True,
            ended_at=timezone.now(),
        ):
            hold_release(session)
    else:  # 1 启动中 again, or 5 未知: nothing learnt; a poll will tell
        schedule_watch(session, conf().charging.start_result_wait_seconds)


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
    if not session.live:
        return  # how a session ended is not rewritten, nor its last figures, by a late push or poll
    if stat == S.FINISHED:
        transition(
            session,
            S.FINISHED,
            source=source,
            note="运营商报告已结束",
            outcome=Outcome.COMPLETED,
            ended_at=sampled,
            **fields,
        )
        hold_release(session)
    elif stat == session.state:
        session_update(session, **fields)
    elif not transition(session, stat, source=source, note="运营商报告的状态", ignore_late=True, **fields):
        session_update(session, **fields)  # a state behind the session's: never backwards, but keep figures and times


def stop_result_apply(session: ChargingSession, payload: dict[str, Any]) -> None:
    """notification_stop_charge_result: stopped (or already stopped) ends it; another failure waits for a poll."""
    if payload["SuccStat"] == SuccStat.SUCCESS or payload.get("FailReason") == StopFailReason.ALREADY_STOPPED:
        if transition(
            session,
            S.FINISHED,
            source=EventSource.PUSH,
            note="运营商推送停止成功",
            ignore_late=True,
            outcome=Outcome.COMPLETED,
            ended_at=timezone.now(),
        ):
            hold_release(session)
    else:
        session_update(session, fail_reason=payload.get("FailReason"))
        schedule_watch(session, conf().charging.stop_result_wait_seconds)
