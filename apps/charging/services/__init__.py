"""Writes of roaming charging, one module per concern (lowest first): `state` (the one transition function, field
updates, the audit trail), `wakeups` (rows first, Celery after the commit), `requests` (the driver's start, stop and
price), `payment` (the hold released, the order charged: every money move an explicit call), `reports` (what
operators push and answer, how a session ends), `outbox` (sending the commands), `timers` (the session's watch).

The names callers use are here; the modules are for reading."""

from .outbox import command_send, retry_delay
from .payment import hold_release, order_charge_review, order_pay
from .reports import session_end, snapshot_apply, start_result_apply, stop_result_apply
from .requests import Refused, Target, connector_policy, session_start, session_stop, target_of
from .state import IllegalTransition, session_for_push, session_update, transition
from .timers import session_watch, watch_due
from .wakeups import schedule_watch

__all__ = [
    "IllegalTransition",
    "Refused",
    "Target",
    "command_send",
    "connector_policy",
    "hold_release",
    "order_charge_review",
    "order_pay",
    "retry_delay",
    "schedule_watch",
    "session_end",
    "session_for_push",
    "session_start",
    "session_stop",
    "session_update",
    "session_watch",
    "snapshot_apply",
    "start_result_apply",
    "stop_result_apply",
    "target_of",
    "transition",
    "watch_due",
]
