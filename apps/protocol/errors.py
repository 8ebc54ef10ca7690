"""Ret codes of T/CEC 102.4 and the exception hierarchy of the codec (server side) and the peer client."""

from __future__ import annotations

from enum import IntEnum
from typing import Any


class Ret(IntEnum):
    """Protocol-level return codes (§6 of the transport digest)."""

    BUSY = -1
    OK = 0
    SIGNATURE = 4001
    TOKEN = 4002
    PARAMETERS = 4003
    BUSINESS = 4004
    SYSTEM = 500

    @property
    def default_msg(self) -> str:
        """The standard Chinese text for this code (what the portal sends when it has nothing more specific)."""
        return DEFAULT_MESSAGES[self]


# Texts follow the standard's wording; -1 must match vector V-C5 byte for byte.
DEFAULT_MESSAGES: dict[Ret, str] = {
    Ret.BUSY: "系统繁忙，此时请求方稍后重试",
    Ret.OK: "请求成功",
    Ret.SIGNATURE: "签名错误",
    Ret.TOKEN: "Token错误",
    Ret.PARAMETERS: "POST参数不合法，缺少必需的示例：OperatorID、Sig、TimeStamp、Data、Seq五个参数",
    Ret.BUSINESS: "请求的业务参数不合法，各接口定义自己的必须参数",
    Ret.SYSTEM: "系统错误",
}


def default_msg(ret: int) -> str:
    """Default Msg for any Ret; unknown codes (peers invent 4005, 4006…) get a neutral text instead of a KeyError."""
    try:
        return Ret(ret).default_msg
    except ValueError:
        return f"未知返回值 {ret}"


# --------------------------------------------------------------------------------------------------------------------
# Configuration problems (not the peer's fault, so not a Ret the peer should see)
# --------------------------------------------------------------------------------------------------------------------


class InvalidKeyError(ValueError):
    """A DataSecret/DataSecretIV is not exactly 16 UTF-8 bytes: a key-management mistake, answered with Ret 500.

    `key` is the wire name of the key at fault (DataSecret, DataSecretIV, SigSecret), for callers that tell people."""

    def __init__(self, message: str, *, key: str) -> None:
        super().__init__(message)
        self.key = key


# --------------------------------------------------------------------------------------------------------------------
# Server side: every failure that must become a signed {Ret, Msg, Data, Sig} answer
# --------------------------------------------------------------------------------------------------------------------


class ProtocolError(Exception):
    """Base of every error that maps to a Ret code; `msg` is what goes into the response envelope."""

    ret: int = Ret.SYSTEM

    def __init__(self, msg: str | None = None, *, ret: int | None = None) -> None:
        if ret is not None:
            self.ret = int(ret)
        self.msg = msg if msg is not None else default_msg(self.ret)
        super().__init__(self.msg)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(ret={self.ret}, msg={self.msg!r})"


class BusyError(ProtocolError):
    """Ret -1: the portal is overloaded; the caller should retry later."""

    ret = Ret.BUSY


class SignatureError(ProtocolError):
    """Ret 4001: Sig does not match (request on the server side, response on the client side)."""

    ret = Ret.SIGNATURE


class TokenError(ProtocolError):
    """Ret 4002: missing, malformed, unknown or expired bearer token."""

    ret = Ret.TOKEN


class ParameterError(ProtocolError):
    """Ret 4003: the envelope itself is unusable."""

    ret = Ret.PARAMETERS


class EnvelopeError(ParameterError):
    """Ret 4003 raised while parsing an envelope: missing/blank/mistyped field, non-JSON body; names the field."""


class DecryptError(ParameterError):
    """Ret 4003: Data is not valid Base64, not whole AES blocks, has bad padding or is not UTF-8 once decrypted."""


class BusinessError(ProtocolError):
    """Ret 4004: the decrypted business parameters are illegal."""

    ret = Ret.BUSINESS


class InternalError(ProtocolError):
    """Ret 500: an unexpected failure on our side."""

    ret = Ret.SYSTEM


# --------------------------------------------------------------------------------------------------------------------
# Client side: one question matters to the caller (a Celery task) — retry later or give up and alert.
# --------------------------------------------------------------------------------------------------------------------


class ClientError(Exception):
    """Base of every PeerClient failure; carries what is known about the failed exchange."""

    def __init__(
        self,
        message: str,
        *,
        interface: str = "",
        ret: int | None = None,
        msg: str | None = None,
        http_status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.interface = interface
        self.ret = ret
        self.msg = msg
        self.http_status = http_status


class TransientError(ClientError):
    """Worth retrying with backoff: timeouts, connection errors, HTTP 5xx without envelope, Ret -1 and Ret 500."""


class PermanentError(ClientError):
    """Retrying will not help: Ret 4001/4003/4004 (or unknown codes), bad response Sig, undecryptable response."""


class UnverifiedAnswer(PermanentError):
    """An answer that cannot be trusted (bad response Sig, undecryptable Data, no envelope): the peer may have carried
    the call out. Permanent for a read; a caller whose call changes something asks the peer before sending again."""


class TokenRejected(PermanentError):
    """Ret 4002 again right after a fresh query_token (or query_token refused us): credentials are wrong."""


class TokenRefused(TokenRejected):
    """query_token itself answered SuccStat 1: the peer refused the OperatorSecret it was given (`fail_reason`)."""

    def __init__(self, message: str, *, fail_reason: object, **facts: Any) -> None:
        super().__init__(message, **facts)
        self.fail_reason = fail_reason
