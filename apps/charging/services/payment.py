"""What a session costs its driver, each step an explicit call: the hold given back when a session ends before its
order (`hold_release`, called by whoever ended it), the order charged once (`order_pay`, the order service's
`order_pay` hook), and a person's settlement of an order held for review (`order_charge_review`)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.drivers.services import order_charge, order_charge_settle, wallet_release
from apps.orders.choices import StartChargeSeqStat as S
from apps.orders.models import ChargeOrder
from apps.orders.rules import CHARGE_OVER_BOUND, charge_bound
from apps.orders.services import tolerances
from apps.pricing.models import BusinessPolicy

from ..choices import EventSource, Outcome
from ..exceptions import AmountOutOfRange, NoteRequired, SessionNotInReview
from ..models import ChargingSession
from .state import session_for_push, session_update, transition


def hold_release(session: ChargingSession) -> None:
    """A session just ended without its order: its hold comes back at once, so an operator that never sends the order
    never leaves money frozen. With its order, `order_charge` releases the hold itself (and only then)."""
    if session.order_id is None:
        wallet_release(driver_id=session.driver_id, seq=session.start_charge_seq)


def order_pay(
    *, order: ChargeOrder, interface: str, revision: int, ceiling: Decimal, versions: Sequence[BusinessPolicy]
) -> None:
    """The order of a portal-started session arrived (inside the transaction storing it): the session ends, and the
    driver is charged its TotalMoney once (a correction: the difference) — unless that is more than the session
    could cost (`charge_bound`): then nothing is taken, any hold still standing stays, and the session waits for a
    person (`order_charge_review`). The wallet is never debited beyond the bound by an operator's figures.
    `ceiling` and `versions` are the session's hold and its connector's prices, as the order service read them."""
    session = session_for_push(order.operator_id, order.start_charge_seq)  # locks the session and its driver
    if session is None:
        return
    attach: dict[str, Any] = {"order": order} if session.order_id is None else {}
    if session.live:  # with its order attached the hold is not released here: order_charge below settles it
        transition(
            session,
            S.FINISHED,
            source=EventSource.ORDER,
            note="收到充电订单",
            outcome=Outcome.COMPLETED,
            ended_at=order.end_time or timezone.now(),
            **attach,  # one UPDATE for the move and the order
        )
    elif attach:
        session_update(session, **attach)
    bound = charge_bound(
        start=order.start_time,
        end=order.end_time,
        energy=order.total_power,
        ceiling=ceiling,
        versions=versions,
        tol=tolerances(),
    )
    if (order.total_money or Decimal(0)) > bound:
        reason = f"{CHARGE_OVER_BOUND}: 订单金额 {order.total_money} 元超过本次充电可能的最高金额 {bound} 元，未扣款"
        session_update(session, review=True, review_reason=reason[:200])
        return
    order_charge(driver_id=session.driver_id, order=order, revision=f"{interface}:r{revision}", locked=session.driver)


@transaction.atomic
def order_charge_review(*, seq: str, amount: Decimal, by: str, note: str) -> None:
    """A person settles a session whose order asked more than it could cost: the driver is charged `amount` (at most
    the order's TotalMoney; 0 charges nothing), the hold comes back, the session leaves review. Who and why are kept
    on the ledger entry."""
    session = (
        ChargingSession.objects.select_for_update(of=("self",))
        .select_related("order")
        .filter(start_charge_seq=seq)
        .first()
    )
    if session is None or session.order is None or not session.review:
        raise SessionNotInReview()
    if not note.strip():
        raise NoteRequired()
    total = session.order.total_money or Decimal(0)
    if not Decimal(0) <= amount <= total:
        raise AmountOutOfRange(f"复核金额应在 0 与订单金额 {total} 元之间")
    order_charge_settle(driver_id=session.driver_id, order=session.order, amount=amount, by=by, note=note)
    session_update(session, review=False, review_reason="")
