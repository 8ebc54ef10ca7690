"""Application errors; the protocol layer maps them to Ret codes, the admin and API to messages."""

from __future__ import annotations

from typing import Any, ClassVar


class HLHTError(Exception):
    """Base of every error the portal raises on purpose."""

    default_message = "处理失败"

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)


class ValidationFailed(HLHTError):
    """Business data broke a rule of the spec; `field` names the wire field (maps to Ret 4004). `message` names the
    field too ("DataSecret: 必须正好16字节"); `detail` is the rule alone, for a form that shows it beside the field."""

    default_message = "业务参数不合法"

    def __init__(self, message: str | None = None, *, field: str | None = None) -> None:
        self.field = field
        self.detail = message or self.default_message
        super().__init__(f"{field}: {message}" if field and message else message)


class NotFound(HLHTError):
    default_message = "对象不存在"


class Conflict(HLHTError):
    """A state transition or write that contradicts what is already stored."""

    default_message = "状态冲突"


class Busy(HLHTError):
    """The portal cannot take the request now; callers retry (maps to Ret -1)."""

    default_message = "系统繁忙，此时请求方稍后重试"


class Refusal(HLHTError):
    """A request a person or a program made that the portal declines, for a reason with a name: each reason is a
    subclass with its `code` (for programs) and HTTP `status`; the message is for people. The REST API answers it
    through DRF's exception handler (apps.core.api_errors), so views never catch it."""

    code: ClassVar[str] = "refused"
    status: ClassVar[int] = 409

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "detail": self.message}
