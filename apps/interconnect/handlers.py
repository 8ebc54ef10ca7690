"""Handlers of the interfaces the portal serves (each parses its payload and calls one service)."""

from __future__ import annotations

import hmac
from typing import Any

from apps.operators.choices import OperatorKind
from apps.operators.selectors import operator_is_connected
from apps.stations.choices import StatusSource
from apps.stations.services import connector_statuses_apply

from .protocol import schema
from .registry import CallContext, interface
from .tokens import token_issue

# query_token FailReason: 1 无此运营商, 2 密钥错误 (standard); 3 is ours (custom range 3–99).
FAIL_UNKNOWN_OPERATOR = 1
FAIL_WRONG_SECRET = 2
FAIL_NOT_CONNECTED = 3


@interface("query_token", token_required=False)
def query_token(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Appendix A: SuccStat 0 with a token for a connected operator and the right OperatorSecret."""
    requester = payload["OperatorID"]

    def refuse(reason: int) -> dict[str, Any]:
        return {
            "OperatorID": requester,
            "SuccStat": 1,
            "AccessToken": "",
            "TokenAvailableTime": 0,
            "FailReason": reason,
        }

    if requester != ctx.operator.operator_id:
        return refuse(FAIL_UNKNOWN_OPERATOR)
    if not hmac.compare_digest(
        payload["OperatorSecret"].encode("utf-8", "surrogatepass"), ctx.keys.operator_secret.encode()
    ):
        return refuse(FAIL_WRONG_SECRET)
    if not operator_is_connected(ctx.operator.pk):
        return refuse(FAIL_NOT_CONNECTED)
    token, lifetime = token_issue(operator=ctx.operator)
    return {
        "OperatorID": requester,
        "SuccStat": 0,
        "AccessToken": token,
        "TokenAvailableTime": lifetime,
        "FailReason": 0,
    }


def _validate_status(payload: dict[str, Any]) -> None:
    # The standard sends one object; some platforms send an array, which the portal accepts too.
    schema.raise_problems(schema.validate_status_notification(payload))


@interface("notification_stationStatus", callers={OperatorKind.OPERATOR}, validate=_validate_status)
def notification_station_status(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Part 2 §1.2: Status 0 accepted; 1 ignored (a repeat: nothing new, and no need to retry)."""
    outcome = connector_statuses_apply(
        operator_id=ctx.operator.pk,
        infos=schema.status_infos(payload),
        status_time=ctx.envelope.time,
        source=StatusSource.PUSH,
    )
    return {"Status": 0 if outcome.learnt_anything else 1}
