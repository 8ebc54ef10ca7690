"""What a session costs its driver, each step an explicit call: the hold given back when a session ends before its
order (`hold_release`, called by whoever ended it), the order charged once (`order_pay`, the order service's
`order_pay` hook), and a person's settlement of an order held for review (`order_charge_review`)."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from apps.drivers.services import order_charge, order_charge_settle, wallet_release
from apps.orders.choices import StartChargeSeqStat as S
from apps.orders.models import ChargeOrder
from apps.orders.rules import CHARGE_OVER_BOUND, charge_bound
from apps.orders.services import tolerances
from apps.pricing.selectors import versions_of

from ..choices import EventSource, Outcome
from ..models import ChargingSession
from ..selectors import portal_session_of
from .requests import Refused
from .state import session_for_push, session_update, transition


def hold_release(session: ChargingSession) -> None:
    """A session just ended without its order: its hold comes back at once, so an operator that never sends the order
    never leaves money frozen. With its order, `order_charge` releases the hold itself (and only then)."""
    if session.order_id is None:
        wallet_release(driver_id=session.driver_id, seq=session.start_charge_seq)


def order_pay(*, order: ChargeOrder, interface: str, revision: int) -> None:
    """The order of a portal-started session arrived (inside the transaction storing it): the session ends, and the
    driver is charged its TotalMoney once (a correction: the difference) — unless that is more than the session
    could cost (`charge_bound`): then nothing is taken, any hold still standing stays, and the session waits for a
    person (`order_charge_review`). The wallet is never debited beyond the bound by an operator's figures."""
    session = session_for_push(order.operator_id, order.start_charge_seq)
    if session is None:
        return
    if session.order_id is None:
        session_update(session, order=order)
    if session.live:  # with its order attached the hold is not released here: order_charge below settles it
        transition(
            session,
            S.FINISHED,
            source=EventSource.ORDER,
            note="收到充电订单",
            outcome=Outcome.COMPLETED,
            ended_at=order.end_time or timezone.now(),
        )
    found = portal_session_of(order.operator_id, order.start_charge_seq)
    assert found is not None  # the session found above is the portal's, so its lookup is too
    versions = versions_of([order.connector_id]).get(order.connector_id, []) if order.connector_id else []
    bound = charge_bound(
        start=order.start_time,
        end=order.end_time,
        energy=order.total_power,
        ceiling=found.ceiling,
        versions=versions,
        tol=tolerances(),
    )
    if (order.total_money or Decimal(0)) > bound:
        reason = f"{CHARGE_OVER_BOUND}: 订单金额 {order.total_money} 元超过本次充电可能的最高金额 {bound} 元，未扣款"
        session_update(session, review=True, review_reason=reason[:200])
        return
    order_charge(driver_id=session.driver_id, order=order, revision=f"{interface}:r{revision}")


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
        raise Refused("session_not_in_review", "该充电会话没有待复核的订单", status=409)
    if not note.strip():
        raise Refused("note_required", "复核须说明原因", status=400)
    total = session.order.total_money or Decimal(0)
    if not Decimal(0) <= amount <= total:
        raise Refused("amount_out_of_range", f"复核金额应在 0 与订单金额 {total} 元之间", status=400)
    order_charge_settle(driver_id=session.driver_id, order=session.order, amount=amount, by=by, note=note)
    session_update(session, review=False, review_reason="")
