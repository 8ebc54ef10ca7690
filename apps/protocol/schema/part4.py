"""T/CEC 102.4 (transport and security): query_token, the one interface called without a token."""

from __future__ import annotations

from typing import Any

from .engine import (
    REQUIRED,
    Int,
    OperatorID,
    Problem,
    Str,
    Struct,
    join_path,
)
from .fields import (
    SUCC_STAT,
    count,
)


def _token_rule(payload: dict[Any, Any], path: str, out: list[Problem]) -> None:
    """AccessToken is required only on success (SuccStat 0)."""
    token, status = payload.get("AccessToken"), payload.get("SuccStat")
    # `type(...) is int` because False == 0 would otherwise count as success.
    if type(status) is int and status == 0 and (token is None or token == ""):
        where = join_path(path, "AccessToken")
        out.append(Problem(where, REQUIRED, f"{where}（获取的凭证）在SuccStat为0时为必填项"))


QUERY_TOKEN_REQUEST = Struct(
    "query_token.request",
    "获取Token请求参数",
    [
        OperatorID("OperatorID", "运营商标识"),
        Str("OperatorSecret", "运营商密钥", max_len=64),
    ],
)
QUERY_TOKEN_RESPONSE = Struct(
    "query_token.response",
    "获取Token返回参数",
    [
        OperatorID("OperatorID", "运营商标识"),
        SUCC_STAT,
        Str("AccessToken", "获取的凭证", required=False),  # required on success: see _token_rule
        count("TokenAvailableTime", "凭证有效期"),
        Int("FailReason", "失败原因", choices=(0, 1, 2), custom=((3, 99),)),
    ],
    rules=[_token_rule],
)
