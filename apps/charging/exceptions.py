"""Why the portal will not carry out a driver's request: one type per reason, each with its code and HTTP status.

The driver API answers them through DRF's exception handler (apps.core.api_errors): `{code, detail}` and, for an
operator's refusal, its `fail_reason`. Callers branch on the type, never on the message, which is for people.
"""

from __future__ import annotations

from typing import Any

from apps.core.exceptions import Refusal


class Refused(Refusal):
    """A driver's request the portal will not carry out."""

    def __init__(self, message: str | None = None, *, fail_reason: int | None = None) -> None:
        super().__init__(message)
        self.fail_reason = fail_reason

    def body(self) -> dict[str, Any]:
        body = super().body()
        if self.fail_reason is not None:
            body["fail_reason"] = self.fail_reason
        return body


class ConnectorUnknown(Refused):
    code, status = "connector_unknown", 404


class AccountSuspended(Refused):
    code, status = "driver_suspended", 403
    default_message = "账户已停用"


class OperatorSuspended(Refused):
    code = "operator_suspended"


class ConnectorOffline(Refused):
    code = "connector_offline"
    default_message = "充电接口离网"


class ConnectorFault(Refused):
    code = "connector_fault"
    default_message = "充电接口故障"


class ConnectorBusy(Refused):
    code = "connector_busy"
    default_message = "充电接口已有进行中的充电"


class BalanceLow(Refused):
    code, status = "balance_low", 402


class SessionUnknown(Refused):
    code, status = "session_unknown", 404
    default_message = "没有这个充电会话"


class SessionFinished(Refused):
    code = "session_finished"
    default_message = "充电已结束"


class SessionNotInReview(Refused):
    code = "session_not_in_review"
    default_message = "该充电会话没有待复核的订单"


class NoteRequired(Refused):
    code, status = "note_required", 400
    default_message = "复核须说明原因"


class AmountOutOfRange(Refused):
    code, status = "amount_out_of_range", 400
