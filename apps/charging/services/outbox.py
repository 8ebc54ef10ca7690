"""The outbox: the calls the portal owes operators for a session (start, stop, poll), each claimed with a lease, sent
at most once at a time outside any transaction, retried on transient errors only, its answer applied to the session.
The decisions (may this command be taken now, what becomes of it after an attempt, how long to wait) are pure."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.core.conf import conf
from apps.core.jobs import backoff
from apps.core.leases import Claim, Lease
from apps.interconnect.client import NotConfigured, last_exchange, operator_client
from apps.orders.choices import StartChargeSeqStat as S
from apps.protocol.errors import ClientError, TransientError, UnverifiedAnswer
from apps.protocol.names import AuthFailReason, Interface, StartFailReason, StopFailReason, SuccStat
from apps.protocol.text import storable

from ..choices import CommandKind, CommandState, EventSource, Outcome
from ..models import ChargingSession, CommandAttempt, OutboundCommand
from .reports import session_end, snapshot_apply
from .state import session_locked, session_note, session_update, transition
from .wakeups import command_queue, command_wake, schedule_watch

# A command is claimed for sending with a lease on its row (the claim is the exact `lease_until` written).
COMMAND_LEASE = Lease(until="lease_until")


def _payload(command: OutboundCommand) -> tuple[str, dict[str, Any]]:
    session = command.session
    if command.kind == CommandKind.AUTH:
        return Interface.QUERY_EQUIP_AUTH, {
            "EquipAuthSeq": session.equip_auth_seq,
            "ConnectorID": session.connector.connector_id,
        }
    if command.kind == CommandKind.START:
        return Interface.QUERY_START_CHARGE, {
            "StartChargeSeq": session.start_charge_seq,
            "ConnectorID": session.connector.connector_id,
            "QRCode": session.qr_code,
        }
    if command.kind == CommandKind.STOP:
        return Interface.QUERY_STOP_CHARGE, {
            "StartChargeSeq": session.start_charge_seq,
            "ConnectorID": session.connector.connector_id,
        }
    return Interface.QUERY_EQUIP_CHARGE_STATUS, {"StartChargeSeq": session.start_charge_seq}


# -- the decisions ---------------------------------------------------------------------------------------------------


def retry_delay(attempts: int) -> float:
    """Seconds before attempt `attempts + 1`: Celery's backoff (5·2ⁿ, capped at HLHT_COMMAND_RETRY_MAX_DELAY, full
    jitter), so many sessions failing after one network blip do not all come back in the same second."""
    return backoff(max(0, attempts - 1), base=5, cap=int(conf().charging.command_retry_max_delay_seconds))


def claimable(command: OutboundCommand, now: dt.datetime) -> bool:
    """A command may be taken for sending when it is pending, due, and no worker's lease on it is still running."""
    if command.state != CommandState.PENDING:
        return False
    not_due = command.next_attempt_at is not None and command.next_attempt_at > now
    return COMMAND_LEASE.is_free(command, now) and not not_due


def claim_lease() -> float:
    """Seconds a claim holds: a token, the call, a re-authentication on 4002 and the resend (four round trips)."""
    return 4 * (conf().client.connect_timeout_seconds + conf().client.read_timeout_seconds) + 30


@dataclass(frozen=True, slots=True)
class AfterAttempt:
    """What becomes of a command after an attempt: its state, for one to retry the seconds until it is due, and
    whether its session now needs a person's review."""

    state: str
    retry_in: float | None = None
    review: bool = False


def after_attempt(
    *, kind: str, answered: bool, transient: bool, attempts: int, too_early: bool = False
) -> AfterAttempt:
    """An answer ends the command — except a stop refused because its session has not started yet (`too_early`),
    which is sent again (at the start result, or after the backoff). A transient error is retried: a start or a
    poll while fewer than HLHT_COMMAND_ATTEMPTS attempts were made, a stop until the platform answers (the car
    charges on, and the driver pays, while it is undelivered) — its session flagged for review once the attempts
    are spent. Anything else (a refusal, no endpoint, a start out of attempts) fails it."""
    budget = conf().charging.command_attempts
    if answered and not too_early:
        return AfterAttempt(CommandState.DONE)
    if too_early:
        return AfterAttempt(CommandState.PENDING, retry_delay(attempts))
    if transient and kind == CommandKind.STOP:
        return AfterAttempt(CommandState.PENDING, retry_delay(attempts), review=attempts == budget)
    if transient and attempts < budget:
        return AfterAttempt(CommandState.PENDING, retry_delay(attempts))
    return AfterAttempt(CommandState.FAILED)


def stop_too_early(command: OutboundCommand, answer: dict[str, Any]) -> bool:
    """A stop the operator refused while the session has not started as far as the portal knows (no start result
    yet): a stop pressed in the first seconds, refused as 启动中 (FailReason 5 on many platforms; the standard leaves
    4–99 to each) — it is to be sent again once the session has started."""
    refused = answer.get("SuccStat") != SuccStat.SUCCESS and answer.get("FailReason") != StopFailReason.ALREADY_STOPPED
    return command.kind == CommandKind.STOP and refused and command.session.started_at is None


# -- sending ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Claimed:
    """A command taken for sending: the claim on it, the attempt written before the call, and whether an earlier
    attempt's outcome is unknown (its worker killed, its answer late, unreadable or a failure: it may have gone out)."""

    command: OutboundCommand
    claim: Claim
    attempt: CommandAttempt
    unsure: bool


def _claim(command_id: int) -> Claimed | None:
    """Take a pending command for sending, or None if it is done, failed, not due, or another worker holds it. The
    attempt row is written in the claim's transaction, before anything goes out."""
    now = timezone.now()
    with transaction.atomic():
        command = OutboundCommand.objects.select_for_update().filter(pk=command_id).first()
        if command is None or not claimable(command, now):
            return None
        rows = OutboundCommand.objects.filter(pk=command_id)
        claim = COMMAND_LEASE.take(rows, seconds=claim_lease(), now=now, updated=now)
        if claim is None:
            return None
        # An earlier attempt without a trusted answer (its sender killed, its answer too late, unreadable or a
        # refusal to retry) may have reached the platform: the next one asks before it sends.
        unsure = CommandAttempt.objects.filter(command_id=command_id).exclude(ok=True).exists()
        attempt = CommandAttempt.objects.create(command_id=command_id, ok=None)
    command = OutboundCommand.objects.select_related("session__operator", "session__connector").get(pk=command_id)
    return Claimed(command, claim, attempt, unsure)


# What query_equip_charge_status's StartChargeSeqStat says a command already did: a start the operator knows of
# (starting, charging, stopping, ended), a stop it carried out (stopping, ended).
_ALREADY_DONE: dict[str, set[int]] = {
    CommandKind.START: {S.STARTING, S.CHARGING, S.STOPPING, S.FINISHED},
    CommandKind.STOP: {S.STOPPING, S.FINISHED},
}


def _confirmed_by_query(client: Any, command: OutboundCommand) -> dict[str, Any] | None:
    """For a start or stop whose earlier sending may have reached the operator: ask the operator for the session
    first and, when it shows the command was carried out, take that as the answer instead of sending it again (a
    platform that is not idempotent would start a second session, or refuse the stop as unknown)."""
    done = _ALREADY_DONE.get(command.kind)
    if done is None:
        return None
    status = client.call(Interface.QUERY_EQUIP_CHARGE_STATUS, {"StartChargeSeq": command.session.start_charge_seq})
    if status.get("StartChargeSeqStat") not in done:
        return None
    # Taken as the command's own answer: the session is then watched as after any accepted command (a poll follows).
    return {"SuccStat": SuccStat.SUCCESS, "StartChargeSeqStat": status["StartChargeSeqStat"], "ConfirmedBy": "query"}


def command_send(command_id: int) -> str:
    """Send one pending command once (the task calls this; a retry is a later call). Returns its state after, or
    "skipped" when it was not this worker's to send.

    The command is claimed with a lease first, so a redelivered task or the sweep never sends it a second time while
    one is under way; the network call is made outside any transaction; its result is written under the row lock.
    """
    claimed = _claim(command_id)
    if claimed is None:
        return "skipped"
    command, claim = claimed.command, claimed.claim  # the result is written only while this worker holds the claim
    interface, payload = _payload(command)
    exchange, error, answer, transient = None, "", None, False
    try:
        with operator_client(command.session.operator) as client:
            try:
                if command.kind == CommandKind.STOP and command.session.state == S.FINISHED:
                    answer = {"SuccStat": SuccStat.SUCCESS, "ConfirmedBy": "session_finished"}  # moot: not sent
                elif claimed.unsure:
                    answer = _confirmed_by_query(client, command)
                if answer is None:
                    answer = client.call(interface, payload)
            finally:
                exchange = last_exchange(client)
    except TransientError as exc:
        error, transient = str(exc), True
    except UnverifiedAnswer as exc:
        # The platform answered, but not in a way that can be trusted (a bad Sig, unreadable Data): a start or stop
        # may have been carried out, so it is not failed but tried again, asking the platform first.
        error, transient = str(exc), command.kind in _ALREADY_DONE
    except (ClientError, NotConfigured) as exc:
        error = str(exc)
    with transaction.atomic():
        command = OutboundCommand.objects.select_for_update().select_related("session").get(pk=command_id)
        CommandAttempt.objects.filter(pk=claimed.attempt.pk).update(
            exchange=exchange, ok=answer is not None, error=error[:500], finished=timezone.now()
        )
        if command.state != CommandState.PENDING or not COMMAND_LEASE.holds(command, claim):
            return "superseded"  # the lease ran out and another worker took the command: its result stands
        command.lease_until = None
        command.attempts += 1
        too_early = answer is not None and stop_too_early(command, answer)
        if too_early and answer is not None:
            error = f"运营商拒绝停止（FailReason {answer.get('FailReason')}）：会话尚未启动，启动后重发"
        after = after_attempt(
            kind=command.kind,
            answered=answer is not None,
            transient=transient,
            attempts=command.attempts,
            too_early=too_early,
        )
        if after.review:
            session_update(session_locked(command.session_id), review=True, review_reason="停止命令未送达运营商")
        if answer is not None and not too_early:
            command.state, command.answer, command.last_error = after.state, storable(answer), ""
            command.save(update_fields=["state", "answer", "last_error", "attempts", "lease_until", "updated"])
            _apply_answer(command, answer)
        elif after.retry_in is not None:
            command.last_error, command.next_attempt_at = (
                error[:500],
                timezone.now() + dt.timedelta(seconds=after.retry_in),
            )
            command.save(update_fields=["last_error", "next_attempt_at", "attempts", "lease_until", "updated"])
            command_wake(command.pk, countdown=after.retry_in)
        else:
            command.state, command.last_error = after.state, error[:500]
            command.save(update_fields=["state", "last_error", "attempts", "lease_until", "updated"])
            _command_failed(command)
        return command.state


def _apply_answer(command: OutboundCommand, answer: dict[str, Any]) -> None:
    session = session_locked(command.session_id)
    if command.kind == CommandKind.POLL:
        snapshot_apply(session, answer, EventSource.POLL)
        return
    if command.kind == CommandKind.AUTH:
        _auth_answered(session, answer)
        return
    if answer.get("SuccStat") == SuccStat.SUCCESS:
        wait = (
            conf().charging.start_result_wait_seconds
            if command.kind == CommandKind.START
            else conf().charging.stop_result_wait_seconds
        )
        schedule_watch(session, wait)  # the result push is due within this; otherwise poll
        return
    reason: Any = answer.get("FailReason")  # whatever the operator sent, named in the text if unknown
    if command.kind == CommandKind.START:
        known = StartFailReason.known(reason)
        text = known.label if known else f"FailReason {reason}"
        # ignore_late: the operator's start result may have ended the session while this call was under way.
        session_end(
            session,
            source=EventSource.COMMAND,
            outcome=Outcome.START_REFUSED,
            note=f"运营商拒绝启动：{text}",
            fail_reason=reason,
            ignore_late=True,
        )
    elif reason == 3:  # 设备已停止充电: the session is over; the stop result or the order will say how it ended
        schedule_watch(session, 0)
    else:
        session_update(session, fail_reason=reason)
        schedule_watch(session, conf().charging.stop_result_wait_seconds)


def _auth_answered(session: ChargingSession, answer: dict[str, Any]) -> None:
    """query_equip_auth answered: authenticated, the start goes in the outbox (in this transaction); refused, the
    session ends and its hold comes back. A session the driver cancelled meanwhile starts nothing."""
    if session.state != S.STARTING:
        return
    if answer.get("SuccStat") == SuccStat.SUCCESS:
        session_note(session, source=EventSource.COMMAND, note="设备认证通过，发送启动命令")
        command_queue(session, CommandKind.START)
        return
    reason: Any = answer.get("FailReason")  # whatever the operator sent, named in the text if unknown
    known = AuthFailReason.known(reason)
    text = known.label if known else f"运营商拒绝（FailReason {reason}）"
    session_end(
        session,
        source=EventSource.COMMAND,
        outcome=Outcome.AUTH_REFUSED,
        note=f"设备认证失败：{text}",
        fail_reason=reason,
        ignore_late=True,
    )


def _command_failed(command: OutboundCommand) -> None:
    """Out of attempts, or refused for good: the session's fate is not known; polls (and the order) will tell —
    except an authentication: the operator was never asked to start, so the session ends and its hold comes back."""
    session = session_locked(command.session_id)
    if command.kind == CommandKind.AUTH:
        session_end(
            session,
            source=EventSource.COMMAND,
            outcome=Outcome.AUTH_REFUSED,
            note=f"设备认证未完成，无法连接运营商平台：{command.last_error}",
            ignore_late=True,
        )
        return
    if command.kind == CommandKind.START:
        review = {"review": True, "review_reason": "启动命令未送达运营商"}
        if session.state == S.UNKNOWN:
            session_update(session, **review)
        else:
            # ignore_late: a session its operator already ended (by push or poll meanwhile) is not reopened.
            transition(
                session,
                S.UNKNOWN,
                source=EventSource.COMMAND,
                note=f"启动命令未送达：{command.last_error}",
                ignore_late=True,
                **review,
            )
    schedule_watch(session, 0)
