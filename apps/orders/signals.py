"""What apps above orders may hook: `order_stored` is sent inside the transaction that stores an order's revision, and
the portal's own sessions are told to the order push by the app that starts them (`portal_sessions_register`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.dispatch import Signal

# Sent with order=ChargeOrder, interface=OrderInterface value, revision=int, when a new revision (not a repeat) was
# stored. Receivers run in the same transaction: what they write commits with the order, and an error undoes both.
order_stored = Signal()


@dataclass(frozen=True, slots=True)
class PortalSession:
    """What an order push needs to know of a session the portal started: where, and the most it may cost."""

    connector_id: str
    ceiling: Decimal  # 元: the hold taken for it (what the driver agreed the session may cost at most)


# (caller's OperatorID, StartChargeSeq) → the portal's session with that caller, or None.
SessionLookup = Callable[[str, str], PortalSession | None]
_lookups: list[SessionLookup] = []


def portal_sessions_register(lookup: SessionLookup) -> None:
    """Called from the AppConfig.ready() of the app that starts sessions (charging sits above orders)."""
    if lookup not in _lookups:
        _lookups.append(lookup)


def portal_session(operator_id: str, start_charge_seq: str) -> PortalSession | None:
    """The caller's session the portal started under this StartChargeSeq; None when it never started one: with no
    app registered the portal starts no sessions, so every order number of its own is unknown."""
    for lookup in _lookups:
        found = lookup(operator_id, start_charge_seq)
        if found is not None:
            return found
    return None
