"""The session's timer: what is due when it fires (close a session stuck too long, or poll one whose result or status
push is overdue), decided by a pure function of the session and the time, then done under the session's lock."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from apps.core.conf import conf
from apps.orders.choices import StartChargeSeqStat as S

from ..choices import CommandKind, CommandState, EventSource, Outcome
from ..models import ChargingSession, OutboundCommand
from .reports import session_end
from .state import session_locked, session_update
from .wakeups import command_queue


@dataclass(frozen=True, slots=True)
class Due:
    """What a firing of the timer does: close the session as stuck, or poll it; and seconds until the next firing
    (None: the session is over, the timer stops)."""

    close: bool = False
    poll: bool = False
    next_in: float | None = None


def _older(moment: dt.datetime | None, seconds: float, now: dt.datetime) -> bool:
    return moment is None or (now - moment).total_seconds() >= seconds


def _overdue(session: ChargingSession, now: dt.datetime) -> bool:
    """Whether the operator owes the session news: its start result, a status push, its stop result (未知: always)."""
    if session.state == S.STARTING:
        return _older(session.requested_at, conf().charging.start_result_wait_seconds, now)
    if session.state == S.CHARGING:
        return _older(session.last_status_at or session.started_at, conf().charging.status_push_wait_seconds, now)
    if session.state == S.STOPPING:
        return _older(session.stop_requested_at, conf().charging.stop_result_wait_seconds, now)
    return True


def watch_due(session: ChargingSession, now: dt.datetime) -> Due:
    """The timer's decision: nothing for a session that is over; close one older than HLHT_SESSION_STUCK_HOURS; poll
    one whose news is overdue, never more often than every HLHT_POLL_MIN_INTERVAL seconds."""
    if not session.live:
        return Due()
    if now - session.requested_at > conf().charging.session_stuck:
        return Due(close=True)
    poll_gap = conf().charging.poll_min_interval_seconds
    poll = _overdue(session, now) and _older(session.last_poll_at, poll_gap, now)
    return Due(poll=poll, next_in=float(min(poll_gap, conf().charging.status_push_wait_seconds)))


def session_watch(session_id: int, *, now: dt.datetime | None = None) -> float | None:
    """What is due for a live session (`watch_due`), done. Returns seconds until the next check, or None once the
    session is over. The poll is queued in the outbox and sent after this commits."""
    now = now or timezone.now()
    with transaction.atomic():
        session = session_locked(session_id)
        due = watch_due(session, now)
        if due.close:
            session_end(
                session,
                source=EventSource.TIMER,
                outcome=Outcome.STUCK,
                note="会话长时间未结束，已关闭并待复核",
                when=now,
                review="超过最长会话时间仍未结束",
            )
        elif (
            due.poll
            and not OutboundCommand.objects.filter(
                session=session, kind=CommandKind.AUTH, state=CommandState.PENDING
            ).exists()
        ):
            # Still being authenticated (a slow platform): the operator has not been asked to start yet, so there is
            # nothing to ask it about; the start result's wait begins when the start is answered.
            session_update(session, last_poll_at=now)
            command_queue(session, CommandKind.POLL)
        return due.next_in
