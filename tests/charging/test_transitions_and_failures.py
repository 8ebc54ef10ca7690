"""The transition function and the outbox's last resort, against the database: an illegal move raises and writes
nothing, a late report passes `ignore_late` and changes nothing, and a start command out of attempts (`_command_failed`)
leaves the session 未知 for review and polled, with the driver's money untouched."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.conf import settings
from django.db.transaction import TransactionManagementError
from django.utils import timezone

from apps.charging.choices import CommandKind, CommandState, EventSource
from apps.charging.models import ChargingSession, CommandAttempt, OutboundCommand, SessionEvent
from apps.charging.services import outbox
from apps.charging.services.state import IllegalTransition, session_update, transition
from apps.drivers.selectors import balance_of
from apps.drivers.services import driver_register, wallet_hold, wallet_top_up
from apps.orders.choices import StartChargeSeqStat as S
from apps.protocol.errors import TransientError
from tests.caller import OPERATOR_ID
from tests.orders.support import PORTAL, directory, seq


@pytest.fixture
def session(provisioned, settings) -> ChargingSession:
    """A session just started (启动中) with 100 of the driver's 300 held."""
    # no broker: what would be sent is read from the rows
    settings.HLHT_ENQUEUE = "apps.core.jobs.discard_enqueue"
    connector = directory()
    driver = driver_register(phone="13812345678")
    wallet_top_up(driver_id=driver.pk, amount=Decimal("300"), key="PAY-1")
    number = seq(PORTAL)
    wallet_hold(driver_id=driver.pk, amount=Decimal("100"), seq=number, minimum=Decimal("10"))
    return ChargingSession.objects.create(driver=driver, operator_id=OPERATOR_ID, connector=connector,
                                          start_charge_seq=number, requested_at=timezone.now())  # fmt: skip


def _locked(session: ChargingSession) -> ChargingSession:
    return ChargingSession.objects.select_for_update().get(pk=session.pk)


# -- transitions -----------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_legal_move_is_saved_with_its_facts_and_leaves_an_event(session):
    now = timezone.now()
    assert transition(_locked(session), S.CHARGING, source=EventSource.PUSH, note="启动", started_at=now) is True
    session.refresh_from_db()
    assert (session.state, session.started_at) == (S.CHARGING, now)
    event = SessionEvent.objects.get(session=session)
    assert (event.from_state, event.to_state, event.source, event.note) == (S.STARTING, S.CHARGING, "push", "启动")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("start", "to"),
    [(S.FINISHED, S.CHARGING), (S.CHARGING, S.STARTING), (S.CHARGING, S.CHARGING), (S.STOPPING, S.CHARGING)],
)
def test_an_illegal_move_raises_and_writes_nothing(session, start, to):
    ChargingSession.objects.filter(pk=session.pk).update(state=start)
    locked = _locked(session)
    with pytest.raises(IllegalTransition) as raised:
        transition(locked, to, source=EventSource.PUSH, note="迟到", total_power=Decimal("9.00"))
    assert (raised.value.from_state, raised.value.to_state) == (start, to)
    assert session.start_charge_seq in str(raised.value)
    session.refresh_from_db()
    assert (session.state, session.total_power) == (start, None)
    assert not SessionEvent.objects.filter(session=session).exists()


@pytest.mark.django_db(transaction=True)
def test_a_move_outside_the_transaction_holding_the_session_lock_is_refused(session):
    with pytest.raises(TransactionManagementError):
        transition(session, S.CHARGING, source=EventSource.PUSH)
    session.refresh_from_db()
    assert session.state == S.STARTING


@pytest.mark.django_db
def test_a_late_report_passes_ignore_late_and_changes_nothing(session):
    ChargingSession.objects.filter(pk=session.pk).update(state=S.FINISHED)
    locked = _locked(session)
    moved = transition(locked, S.CHARGING, source=EventSource.PUSH, ignore_late=True, total_power=Decimal("9.00"))
    assert moved is False
    session.refresh_from_db()
    assert (session.state, session.total_power) == (S.FINISHED, None)
    assert not SessionEvent.objects.filter(session=session).exists()


@pytest.mark.django_db
def test_a_field_update_moves_nothing_and_may_not_change_the_state(session):
    locked = _locked(session)
    assert session_update(locked, total_power=Decimal("3.00"), soc=None) == ["total_power"]
    with pytest.raises(ValueError, match="transition"):
        session_update(locked, state=S.CHARGING)
    session.refresh_from_db()
    assert (session.state, session.total_power) == (S.STARTING, Decimal("3.00"))
    assert not SessionEvent.objects.filter(session=session).exists()


# -- a start command out of attempts (_command_failed) ---------------------------------------------------------------


def _unreachable(monkeypatch) -> list[str]:
    """Every call times out (a transient error); returns the list of interfaces called."""
    calls: list[str] = []

    class Client:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def call(self, interface, payload):
            calls.append(interface)
            raise TransientError("连接超时", interface=interface)

    monkeypatch.setattr(outbox, "operator_client", lambda operator: Client())
    monkeypatch.setattr(outbox, "last_exchange", lambda client: None)
    return calls


def _send_until_settled(command: OutboundCommand) -> list[str]:
    states = []
    for _ in range(settings.HLHT_COMMAND_ATTEMPTS + 2):
        OutboundCommand.objects.filter(pk=command.pk).update(next_attempt_at=None)  # each retry as if it were due
        states.append(outbox.command_send(command.pk))
    return states


@pytest.mark.django_db
def test_a_start_command_out_of_attempts_leaves_the_session_unknown_for_review_and_polled(session, monkeypatch):
    calls = _unreachable(monkeypatch)
    command = OutboundCommand.objects.create(session=session, kind=CommandKind.START)
    before = timezone.now()

    states = _send_until_settled(command)

    attempts = settings.HLHT_COMMAND_ATTEMPTS
    assert states == [CommandState.PENDING] * (attempts - 1) + [CommandState.FAILED] + ["skipped"] * 2
    assert len(calls) == attempts and CommandAttempt.objects.filter(command=command, ok=False).count() == attempts
    command.refresh_from_db()
    assert (command.state, command.attempts, command.last_error) == (CommandState.FAILED, attempts, "连接超时")
    session.refresh_from_db()
    assert (session.state, session.review, session.review_reason) == (S.UNKNOWN, True, "启动命令未送达运营商")
    event = SessionEvent.objects.get(session=session)
    assert (event.from_state, event.to_state, event.source) == (S.STARTING, S.UNKNOWN, EventSource.COMMAND)
    assert event.note == "启动命令未送达：连接超时"
    assert session.watch_at is not None and session.watch_at >= before  # the timer fires at once: a poll will tell
    assert balance_of(session.driver_id) == Decimal("200.00")  # the fate is unknown: the hold stays, nothing charged


@pytest.mark.django_db
def test_a_start_command_failing_after_the_session_ended_does_not_reopen_it(session, monkeypatch):
    _unreachable(monkeypatch)
    command = OutboundCommand.objects.create(session=session, kind=CommandKind.START)
    ChargingSession.objects.filter(pk=session.pk).update(state=S.FINISHED)  # its result came by push meanwhile

    _send_until_settled(command)

    session.refresh_from_db()
    assert (session.state, session.review) == (S.FINISHED, False)
    assert not SessionEvent.objects.filter(session=session).exists()


@pytest.mark.django_db
def test_a_stop_command_out_of_attempts_is_kept_and_its_session_flagged_for_review(session, monkeypatch):
    # A stop is never given up (the car charges on, and the driver pays, while it is undelivered): once its attempts
    # are spent, a person sees the session in the review list while the portal keeps trying.
    _unreachable(monkeypatch)
    ChargingSession.objects.filter(pk=session.pk).update(state=S.STOPPING)
    command = OutboundCommand.objects.create(session=session, kind=CommandKind.STOP)

    assert set(_send_until_settled(command)) == {CommandState.PENDING}

    session.refresh_from_db()
    assert (session.state, session.review, session.review_reason) == (S.STOPPING, True, "停止命令未送达运营商")
