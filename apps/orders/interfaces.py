"""Part 3 §3.9 and Beijing's bonus order: the order pushes charging operators send the portal when a session ends."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils import timezone

from apps.core.conf import conf
from apps.interconnect.registry import CallContext, interface
from apps.operators.choices import OperatorKind
from apps.protocol import schema
from apps.protocol.names import Interface
from apps.protocol.schema import Problem, Struct
from apps.protocol.timestamps import is_serial_number

from .choices import OrderInterface
from .services import order_receive

_OPERATORS = {OperatorKind.OPERATOR}


def _validator(struct: Struct) -> Callable[[dict[str, Any]], None]:
    """The spec's structure (4004), except SumPeriod against the details: a count that disagrees is the operator's
    figures disagreeing with each other, which the order's checks turn into a dispute, not a refusal."""

    def validate(payload: dict[str, Any]) -> None:
        problems = [
            p for p in schema.validate(payload, struct) if not (p.rule == schema.COUNT and p.path == "SumPeriod")
        ]
        schema.raise_problems(problems)

    return validate


def _check_order_number(payload: dict[str, Any], caller_id: str, *, bonus: bool) -> None:
    """Beginning with the OperatorID of the platform that created the number: the portal's for sessions it started,
    the caller's own for sessions started at the pile (part 3 §2). 27 characters in the standard push; the bonus
    push's length is its schema's (27 up to the column's bound, a finding when not 27)."""
    seq = payload["StartChargeSeq"]
    owners = (conf().protocol.operator_id, caller_id)
    if not bonus and not is_serial_number(seq):
        message = f"StartChargeSeq（充电订单号）应为27位字母或数字（运营商ID+18位编号），实际为{len(seq)}位"
    elif not seq.startswith(owners):
        message = (
            f"StartChargeSeq（充电订单号）应以创建它的平台的运营商ID开头：市级平台 {owners[0]} 或调用方 {owners[1]}，"
            f"实际为 {seq[:9]}"
        )
    else:
        return
    schema.raise_problems([Problem("StartChargeSeq", schema.FORMAT, message)])


def _answer(ctx: CallContext, payload: dict[str, Any], kind: str) -> dict[str, Any]:
    _check_order_number(payload, ctx.operator.pk, bonus=kind == OrderInterface.BONUS)
    receipt = order_receive(
        operator_id=ctx.operator.pk,
        interface=kind,
        payload=payload,
        received_at=timezone.now(),
        timestamp=ctx.envelope.wire_timestamp,
        seq=ctx.envelope.seq,
    )
    return {
        "StartChargeSeq": payload["StartChargeSeq"],
        "ConnectorID": payload["ConnectorID"],
        "ConfirmResult": receipt.confirm_result,
    }


@interface(
    Interface.NOTIFICATION_CHARGE_ORDER_INFO,
    callers=_OPERATORS,
    validate=_validator(schema.NOTIFICATION_CHARGE_ORDER_INFO_REQUEST),
)
def notification_charge_order_info(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
    """§3.9: ConfirmResult 0 成功, or 1 争议交易 when the order's own figures disagree (reasons kept on the order)."""
    return _answer(ctx, payload, OrderInterface.ORDER)


@interface(
    Interface.NOTIFICATION_CHARGE_ORDER_INFO_FOR_BONUS,
    callers=_OPERATORS,
    validate=_validator(schema.NOTIFICATION_CHARGE_ORDER_INFO_FOR_BONUS_REQUEST),
)
def notification_charge_order_info_for_bonus(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Beijing's order push for the operation-reward scheme: every finished order, with the meter and pile."""
    return _answer(ctx, payload, OrderInterface.BONUS)
