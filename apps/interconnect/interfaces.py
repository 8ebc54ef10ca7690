"""The transport's own interface: query_token (T/CEC 102.4 appendix A); domain apps register the rest."""

from __future__ import annotations

import hmac
from typing import Any

from apps.operators.selectors import operator_is_connected
from apps.protocol.names import Interface

from .registry import CallContext, interface
from .tokens import TokenRateExceeded, token_issue

# query_token FailReason: 1 无此运营商, 2 密钥错误 (standard); 3 and 4 are ours (custom range 3–99).
FAIL_UNKNOWN_OPERATOR = 1
FAIL_WRONG_SECRET = 2
FAIL_NOT_CONNECTED = 3
FAIL_TOO_OFTEN = 4  # more than HLHT_TOKEN_RATE tokens asked in a minute: the business answer, retry later


@interface(Interface.QUERY_TOKEN, token_required=False)
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
    try:
        token, lifetime = token_issue(operator=ctx.operator)
    except TokenRateExceeded:
        return refuse(FAIL_TOO_OFTEN)
    return {
        "OperatorID": requester,
        "SuccStat": 0,
        "AccessToken": token,
        "TokenAvailableTime": lifetime,
        "FailReason": 0,
    }
