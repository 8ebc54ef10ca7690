"""The hooks an app above orders fills in, by name, from its AppConfig.ready() (charging, which starts the portal's own
sessions: `apps.charging.apps`), and the order service calls by name: which session an order of the portal's is about
(`portal_session`), and who pays for it (`order_pay`). No signal: a reader follows the money from `order_receive`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

from django.core.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from apps.pricing.models import BusinessPolicy

    from .models import ChargeOrder


@dataclass(frozen=True, slots=True)
class PortalSession:
    """What an order push needs to know of a session the portal started: where, and the most it may cost."""

    connector_id: str
    ceiling: Decimal  # 元: the hold taken for it (what the driver agreed the session may cost at most)


# (caller's OperatorID, StartChargeSeq) → the portal's session with that caller, or None.
SessionLookup = Callable[[str, str], "PortalSession | None"]


class OrderPay(Protocol):
    def __call__(
        self, *, order: ChargeOrder, interface: str, revision: int, ceiling: Decimal, versions: Sequence[BusinessPolicy]
    ) -> None: ...


@dataclass(slots=True)
class _Hooks:
    portal_session: SessionLookup | None = None
    order_pay: OrderPay | None = None


_hooks = _Hooks()


def hooks_register(*, portal_session: SessionLookup, order_pay: OrderPay) -> None:
    """Fill the hooks (once, from the AppConfig.ready() of the app that starts sessions). A hook already filled with
    another function is a configuration error: one app starts the portal's sessions, and money moves once."""
    for name, function in (("portal_session", portal_session), ("order_pay", order_pay)):
        current = getattr(_hooks, name)
        if current is not None and current is not function:
            raise ImproperlyConfigured(f"orders hook {name} is already {current.__module__}.{current.__qualname__}")
        setattr(_hooks, name, function)


def hooks_registered() -> dict[str, Callable[..., object] | None]:
    """What fills each hook (for tests and for a reader at the shell)."""
    return {"portal_session": _hooks.portal_session, "order_pay": _hooks.order_pay}


def portal_session(operator_id: str, start_charge_seq: str) -> PortalSession | None:
    """The caller's session the portal started under this StartChargeSeq; None when it never started one: with no
    app registered the portal starts no sessions, so every order number of its own is unknown."""
    if _hooks.portal_session is None:
        return None
    return _hooks.portal_session(operator_id, start_charge_seq)


def order_pay(
    *, order: ChargeOrder, interface: str, revision: int, ceiling: Decimal, versions: Sequence[BusinessPolicy]
) -> None:
    """A new revision of an order of the portal's own session was stored (inside the transaction storing it): its
    driver pays, in that transaction (an error undoes both). Filled by charging with `services.payment.order_pay`.
    `ceiling` (the session's hold, `portal_session`) and `versions` (its connector's price policy) are what the
    order service read already: handed on, not read twice."""
    if _hooks.order_pay is not None:
        _hooks.order_pay(order=order, interface=interface, revision=revision, ceiling=ceiling, versions=versions)
