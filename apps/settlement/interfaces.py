"""Part 3 §3.10: check_charge_orders, the daily reconciliation an operator sends the portal (00:00–03:00)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from apps.core.conf import conf
from apps.interconnect.registry import CallContext, interface
from apps.operators.choices import OperatorKind
from apps.protocol.names import Interface

from .services import orders_reconcile, run_answer


@interface(
    Interface.CHECK_CHARGE_ORDERS,
    callers={OperatorKind.OPERATOR},
    max_body=lambda: conf().protocol.max_reconciliation_bytes,
)
def check_charge_orders(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
    """The orders the two sides disagree about: missing at the portal, money or energy different, or (the portal's
    custom reason 4) held by the portal but not listed. A repeated CheckOrderSeq gets the same answer."""
    run = orders_reconcile(operator_id=ctx.operator.pk, payload=payload, received_at=timezone.now())
    return run_answer(run, payload)
