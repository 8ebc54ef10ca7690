"""The pure decisions of the outbox and the session timer, without a database: when a command may be taken, what
becomes of it after an attempt and how long it waits; what a firing of the timer does. Figures are the settings'
defaults, read through django.conf so a changed default moves the expectation with it."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.conf import settings

from apps.charging.choices import CommandKind, CommandState
from apps.charging.models import ChargingSession, OutboundCommand
from apps.charging.services.outbox import AfterAttempt, after_attempt, claimable, retry_delay
from apps.charging.services.timers import Due, watch_due
from apps.orders.choices import StartChargeSeqStat as S
from apps.protocol import CST

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=CST)
SECOND = timedelta(seconds=1)


# -- the outbox ------------------------------------------------------------------------------------------------------


def _envelope(attempts: int) -> float:
    """The most the wait before attempt `attempts + 1` may be: 5 s doubling per attempt, capped."""
    return float(min(settings.HLHT_COMMAND_RETRY_MAX_DELAY, 5 * 2 ** max(0, attempts - 1)))


def test_the_retry_delay_stays_under_five_seconds_doubling_and_the_cap():
    # Within the envelope (a jittered delay may be shorter, never longer), however many attempts (no overflow).
    for attempts in (0, 1, 2, 3, 4, 30, 1000):
        assert 0 <= retry_delay(attempts) <= _envelope(attempts)
    assert _envelope(1000) == settings.HLHT_COMMAND_RETRY_MAX_DELAY


@pytest.mark.parametrize(
    ("state", "lease", "due", "expected"),
    [
        (CommandState.PENDING, None, None, True),
        (CommandState.PENDING, NOW - SECOND, NOW - SECOND, True),  # a lease that ran out, a retry now due
        (CommandState.PENDING, NOW + SECOND, None, False),  # another worker is sending it
        (CommandState.PENDING, None, NOW + SECOND, False),  # its retry is not due yet
        (CommandState.DONE, None, None, False),
        (CommandState.FAILED, None, None, False),
    ],
)
def test_a_command_is_taken_only_when_pending_due_and_not_leased(state, lease, due, expected):
    command = OutboundCommand(state=state, lease_until=lease, next_attempt_at=due)
    assert claimable(command, NOW) is expected


START = CommandKind.START


def test_an_answer_ends_the_command_whatever_it_says_and_however_many_attempts():
    assert after_attempt(kind=START, answered=True, transient=False, attempts=1) == AfterAttempt(CommandState.DONE)
    late = settings.HLHT_COMMAND_ATTEMPTS + 3
    assert after_attempt(kind=START, answered=True, transient=False, attempts=late) == AfterAttempt(CommandState.DONE)


def test_a_transient_error_is_retried_with_backoff_until_the_attempts_run_out():
    last = settings.HLHT_COMMAND_ATTEMPTS
    for attempts in range(1, last):
        decision = after_attempt(kind=START, answered=False, transient=True, attempts=attempts)
        assert decision.state == CommandState.PENDING
        assert decision.retry_in is not None and 0 <= decision.retry_in <= _envelope(attempts)
    assert after_attempt(kind=START, answered=False, transient=True, attempts=last) == AfterAttempt(CommandState.FAILED)


def test_a_stop_is_retried_until_the_platform_answers_and_its_session_reviewed_when_the_attempts_run_out():
    last = settings.HLHT_COMMAND_ATTEMPTS
    decisions = [
        after_attempt(kind=CommandKind.STOP, answered=False, transient=True, attempts=n) for n in range(1, last + 3)
    ]
    assert all(d.state == CommandState.PENDING and d.retry_in is not None for d in decisions)
    assert [d.review for d in decisions] == [n == last for n in range(1, last + 3)]  # flagged once


def test_a_stop_refused_as_too_early_is_sent_again():
    decision = after_attempt(kind=CommandKind.STOP, answered=True, transient=False, attempts=1, too_early=True)
    assert decision.state == CommandState.PENDING and decision.retry_in is not None


def test_a_permanent_error_fails_the_command_at_once():
    assert after_attempt(kind=START, answered=False, transient=False, attempts=1) == AfterAttempt(CommandState.FAILED)


# -- the timer -------------------------------------------------------------------------------------------------------


def _session(state: int, *, requested: timedelta = timedelta(0), **fields) -> ChargingSession:
    """A session (not saved) requested `requested` before NOW; datetime fields given as offsets before NOW."""
    values = {name: NOW - ago for name, ago in fields.items()}
    return ChargingSession(state=state, requested_at=NOW - requested, **values)


def _next() -> float:
    return float(min(settings.HLHT_POLL_MIN_INTERVAL, settings.HLHT_STATUS_PUSH_WAIT))


def _seconds(value: float) -> timedelta:
    return timedelta(seconds=value)


def test_a_finished_session_stops_its_timer():
    assert watch_due(_session(S.FINISHED), NOW) == Due(next_in=None)


def test_a_session_open_past_the_stuck_limit_is_closed():
    limit = timedelta(hours=settings.HLHT_SESSION_STUCK_HOURS)
    assert watch_due(_session(S.CHARGING, requested=limit + SECOND, last_status_at=SECOND), NOW) == Due(close=True)
    assert not watch_due(_session(S.CHARGING, requested=limit - SECOND, last_status_at=SECOND), NOW).close


def test_a_start_result_overdue_is_polled():
    wait = _seconds(settings.HLHT_START_RESULT_WAIT)
    assert watch_due(_session(S.STARTING, requested=wait - SECOND), NOW) == Due(poll=False, next_in=_next())
    assert watch_due(_session(S.STARTING, requested=wait), NOW) == Due(poll=True, next_in=_next())


def test_a_charging_session_is_polled_when_its_status_pushes_stop():
    wait = _seconds(settings.HLHT_STATUS_PUSH_WAIT)
    hour = timedelta(hours=1)
    assert not watch_due(_session(S.CHARGING, requested=hour, last_status_at=wait - SECOND), NOW).poll
    assert watch_due(_session(S.CHARGING, requested=hour, last_status_at=wait), NOW).poll
    # No push yet: counted from when it started.
    assert not watch_due(_session(S.CHARGING, requested=hour, started_at=wait - SECOND), NOW).poll
    assert watch_due(_session(S.CHARGING, requested=hour, started_at=wait), NOW).poll


def test_a_stop_result_overdue_is_polled():
    wait = _seconds(settings.HLHT_STOP_RESULT_WAIT)
    hour = timedelta(hours=1)
    assert not watch_due(_session(S.STOPPING, requested=hour, stop_requested_at=wait - SECOND), NOW).poll
    assert watch_due(_session(S.STOPPING, requested=hour, stop_requested_at=wait), NOW).poll


def test_an_unknown_session_is_always_overdue_but_never_polled_more_often_than_the_gap():
    gap = _seconds(settings.HLHT_POLL_MIN_INTERVAL)
    assert watch_due(_session(S.UNKNOWN, requested=timedelta(minutes=1)), NOW).poll
    assert not watch_due(_session(S.UNKNOWN, requested=timedelta(hours=1), last_poll_at=gap - SECOND), NOW).poll
    assert watch_due(_session(S.UNKNOWN, requested=timedelta(hours=1), last_poll_at=gap), NOW).poll


def test_the_transitions_table_beside_the_model_never_goes_backwards_and_ends_at_finished():
    assert not any(_session(S.FINISHED).can_move_to(to) for to in S.values)
    assert not _session(S.CHARGING).can_move_to(S.STARTING) and not _session(S.STOPPING).can_move_to(S.CHARGING)
    assert not any(_session(state).can_move_to(state) for state in S.values)  # staying put is not a move
    assert all(_session(S.UNKNOWN).can_move_to(to) for to in S.values if to != S.UNKNOWN)
