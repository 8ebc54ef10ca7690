"""A session's state and record: the one transition function (a move along ChargingSession.TRANSITIONS, or an error),
field updates that move nothing, and notes; each move and note is an event (the audit trail). Nothing here moves money
or talks to an operator: the caller of a move to 已结束 gives the hold back itself (`payment.hold_release`)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.transaction import TransactionManagementError

from apps.core.exceptions import Conflict
from apps.orders.choices import StartChargeSeqStat

from ..models import ChargingSession, SessionEvent


class IllegalTransition(Conflict):
    """A move ChargingSession.TRANSITIONS does not allow: backwards, from 已结束, or to the state the session is in.
    Inside a protocol call it undoes the transaction and is answered as a business error (4004), like any Conflict."""

    def __init__(self, session: ChargingSession, to: int) -> None:
        super().__init__(f"充电会话 {session.start_charge_seq} 不能从{_label(session.state)}变为{_label(to)}")
        self.session, self.from_state, self.to_state = session, session.state, to


def _label(state: int) -> str:
    return StartChargeSeqStat(state).label if state in StartChargeSeqStat.values else str(state)


def transition(
    session: ChargingSession, to: int, *, source: str, note: str = "", ignore_late: bool = False, **fields: Any
) -> bool:
    """Move the locked `session` to `to`, inside the transaction that locked it (check, then one save with
    `update_fields`, then the event: pretix's shape). `fields` are facts of the move (how it ended, when), written in
    the same save. Raises IllegalTransition for a move the table does not allow.

    `ignore_late=True` is for what operators report, which may arrive late or out of order (a start result after the
    stop, anything after the end): such a move is not made, nothing is written and the answer is False. How a
    session ended is never rewritten."""
    if not transaction.get_connection().in_atomic_block:  # the session's row lock is held until the caller commits
        raise TransactionManagementError("transition() runs inside the transaction that locked the session")
    if not session.can_move_to(to):
        if ignore_late:
            return False
        raise IllegalTransition(session, to)
    before = session.state
    changed = _assign(session, fields)
    session.state = to
    session.save(update_fields=[*changed, "state", "updated"])
    SessionEvent.objects.create(session=session, from_state=before, to_state=to, source=source, note=note[:200])
    return True


def session_update(session: ChargingSession, **fields: Any) -> list[str]:
    """Write what changed of `fields` (figures, times, review flags; never `state`), and return their names."""
    if "state" in fields:
        raise ValueError("state changes only through transition()")
    changed = _assign(session, fields)
    if changed:
        session.save(update_fields=[*changed, "updated"])
    return changed


def session_note(session: ChargingSession, *, source: str, note: str) -> SessionEvent:
    """An event that moves nothing: something a person reading the session's history needs to know."""
    return SessionEvent.objects.create(
        session=session, from_state=session.state, to_state=session.state, source=source, note=note[:200]
    )


def session_opened(session: ChargingSession, *, source: str, note: str) -> SessionEvent:
    """The first event of a new session (from nothing to its initial state)."""
    return SessionEvent.objects.create(
        session=session, from_state=None, to_state=session.state, source=source, note=note[:200]
    )


def _assign(session: ChargingSession, fields: dict[str, Any]) -> list[str]:
    changed = [name for name, value in fields.items() if getattr(session, name) != value]
    for name in changed:
        setattr(session, name, fields[name])
    return changed


def session_locked(session_id: int) -> ChargingSession:
    return ChargingSession.objects.select_for_update().select_related("driver").get(pk=session_id)


def session_for_push(operator_id: str, seq: str) -> ChargingSession | None:
    """The portal-started session a push is about, locked with its driver (every posting to a wallet holds the
    driver's lock: the order's charge then needs no lock statement of its own), or None: a seq the portal never
    started."""
    return (
        ChargingSession.objects.select_for_update(of=("self", "driver"))
        .select_related("driver")
        .filter(operator_id=operator_id, start_charge_seq=seq)
        .first()
    )
