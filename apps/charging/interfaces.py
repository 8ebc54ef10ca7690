"""Part 3 §3.4, §3.6, §3.8: what an operator pushes about a session the portal started for its driver."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from apps.interconnect.registry import CallContext, interface
from apps.operators.choices import OperatorKind
from apps.protocol import schema
from apps.protocol.names import Interface
from apps.protocol.schema import Problem

from .choices import EventSource
from .models import ChargingSession
from .services import session_for_push, snapshot_apply, start_result_apply, stop_result_apply

_OPERATORS = {OperatorKind.OPERATOR}


def _session(ctx: CallContext, payload: dict[str, Any]) -> ChargingSession:
    """The session the push is about, locked; 4004 naming StartChargeSeq for one the portal never started."""
    session = session_for_push(ctx.operator.pk, payload["StartChargeSeq"])
    if session is None:
        message = f"StartChargeSeq（充电订单号）{payload['StartChargeSeq'][:27]} 不是市级平台在该运营商启动的充电"
        schema.raise_problems([Problem("StartChargeSeq", schema.FORMAT, message)])
    if session.connector.connector_id != payload["ConnectorID"]:
        message = f"ConnectorID（充电设备接口编码）与该充电订单的接口 {session.connector.connector_id} 不符"
        schema.raise_problems([Problem("ConnectorID", schema.FORMAT, message)])
    return session


def _push(apply: Callable[[ChargingSession, dict[str, Any]], None]) -> Callable[[CallContext, dict[str, Any]], None]:
    def handle(ctx: CallContext, payload: dict[str, Any]) -> None:
        apply(_session(ctx, payload), payload)  # inside the pipeline's transaction: the session's lock holds to the end

    return handle


@interface(Interface.NOTIFICATION_START_CHARGE_RESULT, callers=_OPERATORS)
def notification_start_charge_result(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
    """§3.4: the pile started (2) or did not (4/5). A repeat is answered the same and changes nothing."""
    _push(start_result_apply)(ctx, payload)
    return {"StartChargeSeq": payload["StartChargeSeq"], "SuccStat": 0, "FailReason": 0}


@interface(Interface.NOTIFICATION_EQUIP_CHARGE_STATUS, callers=_OPERATORS)
def notification_equip_charge_status(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
    """§3.6: a snapshot every 50 s while charging; an older sample than the one kept does not overwrite it."""
    _push(lambda session, p: snapshot_apply(session, p, EventSource.PUSH))(ctx, payload)
    return {"StartChargeSeq": payload["StartChargeSeq"], "SuccStat": 0}


@interface(Interface.NOTIFICATION_STOP_CHARGE_RESULT, callers=_OPERATORS)
def notification_stop_charge_result(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
    """§3.8: the pile stopped (or had already stopped)."""
    _push(stop_result_apply)(ctx, payload)
    return {"StartChargeSeq": payload["StartChargeSeq"], "SuccStat": 0, "FailReason": 0}
