"""The transport's own interface: query_token (T/CEC 102.4 appendix A); domain apps register the rest."""

from __future__ import annotations

import hmac
from typing import Any

from apps.operators.selectors import operator_is_connected
from apps.protocol.names import Interface, SuccStat, TokenFailReason

from .registry import CallContext, interface
from .tokens import TokenRateExceeded, token_issue


@interface(Interface.QUERY_TOKEN, token_required=False)
def query_token(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Appendix A: SuccStat 0 with a token for a connected operator and the right OperatorSecret."""
    requester = payload["OperatorID"]

    def refuse(reason: TokenFailReason) -> dict[str, Any]:
        return {
            "OperatorID": requester,
            "SuccStat": SuccStat.FAILURE,
            "AccessToken": "",
            "TokenAvailableTime": 0,
            "FailReason": reason,
        }

    if requester != ctx.operator.operator_id:
        return refuse(TokenFailReason.UNKNOWN_OPERATOR)
    if not hmac.compare_digest(
        payload["OperatorSecret"].encode("utf-8", "surrogatepass"), ctx.keys.operator_secret.encode()
    ):
        return refuse(TokenFailReason.WRONG_SECRET)
    if not operator_is_connected(ctx.operator.pk):
        return refuse(TokenFailReason.NOT_CONNECTED)
    try:
        token, lifetime = token_issue(operator=ctx.operator)
    except TokenRateExceeded:
        return refuse(TokenFailReason.TOO_OFTEN)
    return {
        "OperatorID": requester,
        "SuccStat": SuccStat.SUCCESS,
        "AccessToken": token,
        "TokenAvailableTime": lifetime,
        "FailReason": TokenFailReason.NONE,
    }
