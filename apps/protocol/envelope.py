"""Request/response envelopes of T/CEC 102.4 §3: build (encrypt+sign), parse (validate), open (verify+decrypt)."""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from . import jsoncodec, schema
from .crypto import decrypt, encrypt, sign_request, sign_response, verify
from .dialect import STANDARD, Dialect, normalise_aliases, normalise_timestamp, standard_envelope_keys
from .errors import BusinessError, EnvelopeError, InvalidKeyError, ProtocolError, SignatureError
from .text import safe_text
from .timestamps import SeqGenerator, is_operator_id, parse_timestamp

__all__ = [
    "REQUEST_FIELDS",
    "RESPONSE_FIELDS",
    "KeySet",
    "RequestEnvelope",
    "ResponseEnvelope",
    "build_request",
    "build_response",
    "decrypt_request",
    "decrypt_response",
    "encode_payload",
    "error_response",
    "open_request",
    "open_response",
    "parse_request",
    "parse_response",
    "verify_request",
    "verify_response",
]

REQUEST_FIELDS = ("OperatorID", "Data", "TimeStamp", "Seq", "Sig")
RESPONSE_FIELDS = ("Ret", "Msg", "Data", "Sig")

_SEQ = re.compile(r"[0-9]{4}")

Payload = Mapping[str, Any] | str
DialectSource = Dialect | Callable[[str], Dialect]


@dataclass(frozen=True, slots=True)
class KeySet:
    """The four secrets of one direction of one partnership; repr hides them so they never reach logs."""

    operator_secret: str = field(repr=False)
    data_secret: str = field(repr=False)
    data_secret_iv: str = field(repr=False)
    sig_secret: str = field(repr=False)

    def __post_init__(self) -> None:
        # Fail when the key set is loaded, not on the first message that happens to use it.
        for name, value in (("DataSecret", self.data_secret), ("DataSecretIV", self.data_secret_iv)):
            if not isinstance(value, str) or len(value.encode("utf-8")) != 16:
                raise InvalidKeyError(f"{name} must be exactly 16 bytes (UTF-8)", key=name)
        if not isinstance(self.sig_secret, str) or not self.sig_secret:
            raise InvalidKeyError("SigSecret must be a non-empty str", key="SigSecret")


@dataclass(frozen=True, slots=True)
class RequestEnvelope:
    """The five request fields; `timestamp` is normalised, `wire_timestamp` is the text that was actually signed."""

    operator_id: str
    data: str
    timestamp: str
    seq: str
    sig: str
    # Differs from `timestamp` only for a millisecond-timestamp peer: the Sig covers what the peer sent.
    wire_timestamp: str = ""

    def __post_init__(self) -> None:
        if not self.wire_timestamp:
            object.__setattr__(self, "wire_timestamp", self.timestamp)

    @property
    def time(self) -> datetime:
        """TimeStamp as an aware Asia/Shanghai datetime (for the clock-skew / replay window)."""
        return parse_timestamp(self.timestamp)

    def to_dict(self) -> dict[str, str]:
        return {
            "OperatorID": self.operator_id,
            "Data": self.data,
            "TimeStamp": self.wire_timestamp,
            "Seq": self.seq,
            "Sig": self.sig,
        }

    def to_json(self) -> bytes:
        """Wire body: compact UTF-8 JSON object."""
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@dataclass(frozen=True, slots=True)
class ResponseEnvelope:
    """The four response fields exactly as sent or received."""

    ret: int
    msg: str
    data: str
    sig: str

    def to_dict(self) -> dict[str, Any]:
        return {"Ret": int(self.ret), "Msg": self.msg, "Data": self.data, "Sig": self.sig}

    def to_json(self) -> bytes:
        """Wire body: compact UTF-8 JSON object (Chinese Msg as UTF-8, not \\u escapes)."""
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# ----------------------------------------------------------------------------------------------------------------------
# Shared helpers
# ----------------------------------------------------------------------------------------------------------------------


def encode_payload(payload: Payload) -> str:
    """Plaintext for Data: a str is sent verbatim (pre-serialised or raw fixtures), a mapping as compact JSON."""
    if isinstance(payload, str):
        return payload
    return jsoncodec.dumps(payload)


def _load_body(body: bytes | bytearray | memoryview | str, what: str) -> dict[str, Any]:
    if isinstance(body, str):
        text = body
    elif isinstance(body, bytes | bytearray | memoryview):
        # A bytearray (a large body read into one buffer) is decoded where it lies, not copied to bytes first.
        raw = body if isinstance(body, bytes) else memoryview(body)
        if raw[:3] == codecs.BOM_UTF8:  # harmless, and some Windows/Java stacks add one
            raw = raw[3:]
        try:
            text = str(raw, "utf-8")  # the C fast path; the "utf-8-sig" codec is ~10x slower
        except UnicodeDecodeError as exc:
            raise EnvelopeError(f"{what}不是UTF-8编码") from exc
    else:
        raise EnvelopeError(f"{what}类型错误")
    try:
        obj = json.loads(text)
    except (ValueError, RecursionError) as exc:  # RecursionError: "[[[[…" nested deeper than the C scanner allows
        raise EnvelopeError(f"{what}不是合法的JSON") from exc
    if not isinstance(obj, dict):
        raise EnvelopeError(f"{what}必须是JSON对象")
    return obj


def _require_str(obj: Mapping[str, Any], name: str, *, allow_blank: bool = False) -> str:
    if name not in obj:
        raise EnvelopeError(f"POST参数不合法，缺少必需的参数：{name}")
    value = obj[name]
    if not isinstance(value, str):
        raise EnvelopeError(f"POST参数不合法，参数{name}必须是字符串")
    if not allow_blank and not value.strip():
        raise EnvelopeError(f"POST参数不合法，参数{name}不能为空")
    return value


def _load_payload(text: str, dialect: Dialect) -> dict[str, Any]:
    try:
        obj = jsoncodec.loads(text)
    except jsoncodec.ImplausibleNumber as exc:
        raise _implausible(exc) from None
    except (ValueError, RecursionError) as exc:
        raise BusinessError("Data解密后不是合法的JSON") from exc
    if not isinstance(obj, dict):
        raise BusinessError("Data解密后必须是JSON对象")
    if jsoncodec.nested_deeper_than(obj):
        # Checked before anything walks the payload recursively (aliases, validation, the journal).
        raise BusinessError(f"Data嵌套层数超过{jsoncodec.MAX_DEPTH}层，不是合法的业务参数")
    return normalise_aliases(obj, dialect)


def _implausible(exc: jsoncodec.ImplausibleNumber) -> BusinessError:
    """Ret 4004 naming the field of a number no column could hold (a business field out of range, as the schema
    answers for one inside any plausible range but beyond its column), with its Problem for the rejected record."""
    path = safe_text(exc.path, 120)
    shown = safe_text(exc.literal[:24]) + ("…" if len(exc.literal) > 24 else "")
    message = (
        f"{path}的数值{shown}超出任何字段可能的范围"
        f"（不能超过{jsoncodec.MAX_NUMBER_CHARS}个字符，指数不能超过±{jsoncodec.MAX_EXPONENT}）"
    )
    return schema.InvalidPayload([schema.Problem(path, schema.RANGE, message)])


# ----------------------------------------------------------------------------------------------------------------------
# Requests
# ----------------------------------------------------------------------------------------------------------------------

_default_seq = SeqGenerator()


def build_request(
    operator_id: str,
    payload: Payload,
    keys: KeySet,
    *,
    timestamp: str | None = None,
    seq: str | None = None,
    seq_generator: SeqGenerator | None = None,
) -> RequestEnvelope:
    """Encrypt the payload and sign a request envelope; TimeStamp/Seq come from the generator unless both given."""
    if (timestamp is None) != (seq is None):
        raise ValueError("pass both timestamp and seq, or neither")
    if timestamp is None or seq is None:
        timestamp, seq = (seq_generator or _default_seq).next()
    data = encrypt(encode_payload(payload), keys.data_secret, keys.data_secret_iv)
    sig = sign_request(keys.sig_secret, operator_id, data, timestamp, seq)
    return RequestEnvelope(operator_id=operator_id, data=data, timestamp=timestamp, seq=seq, sig=sig)


def parse_request(body: bytes | bytearray | memoryview | str, *, dialect: DialectSource = STANDARD) -> RequestEnvelope:
    """Validate a request body into an envelope; EnvelopeError (Ret 4003, field named in msg) on any defect.

    `dialect` may be a callable OperatorID → Dialect: the TimeStamp rule depends on the sender, whose identity is
    only known once the body is parsed. Whatever that callable raises (e.g. unknown operator) propagates.
    """
    obj = _load_body(body, "请求体")
    if "OperatorID" not in obj and callable(dialect):
        # A peer that writes the envelope's keys in lower case: its record says whether that is accepted.
        variant = standard_envelope_keys(obj)
        claimed = variant.get("OperatorID")
        if isinstance(claimed, str) and is_operator_id(claimed) and dialect(claimed).lowercase_keys:
            obj = variant
    elif "OperatorID" not in obj and isinstance(dialect, Dialect) and dialect.lowercase_keys:
        obj = standard_envelope_keys(obj)
    # Check presence and type of all five before formats, so the first message names the most basic problem.
    operator_id, data, timestamp, seq, sig = (_require_str(obj, name) for name in REQUEST_FIELDS)
    if not is_operator_id(operator_id):
        raise EnvelopeError("POST参数不合法，参数OperatorID必须是9位字母或数字")
    if not _SEQ.fullmatch(seq):
        raise EnvelopeError("POST参数不合法，参数Seq必须是4位数字")
    if not data.isascii():
        # Base64 is ASCII; rejecting here also keeps lone surrogates ("\ud800") away from the UTF-8 signer.
        raise EnvelopeError("POST参数不合法，参数Data不是Base64文本")
    effective = dialect(operator_id) if callable(dialect) else dialect
    normalised = normalise_timestamp(timestamp, effective)
    return RequestEnvelope(
        operator_id=operator_id, data=data, timestamp=normalised, seq=seq, sig=sig, wire_timestamp=timestamp
    )


def verify_request(envelope: RequestEnvelope, keys: KeySet) -> None:
    """SignatureError (4001) unless Sig matches OperatorID+Data+TimeStamp+Seq as received (case-insensitive)."""
    expected = sign_request(keys.sig_secret, envelope.operator_id, envelope.data, envelope.wire_timestamp, envelope.seq)
    if not verify(expected, envelope.sig):
        raise SignatureError()


def decrypt_request(envelope: RequestEnvelope, keys: KeySet) -> str:
    """Verify the Sig first (the standard's order), then return the Data plaintext as text."""
    verify_request(envelope, keys)
    return decrypt(envelope.data, keys.data_secret, keys.data_secret_iv)


def open_request(
    envelope: RequestEnvelope, keys: KeySet, *, dialect: Dialect = STANDARD, verified: bool = False
) -> dict[str, Any]:
    """Verify (unless the caller already did: `verified`), decrypt and parse Data into a dict (Decimal numbers,
    dialect aliases renamed).

    Raises SignatureError (4001), DecryptError (4003) or BusinessError (4004: plaintext is not a JSON object).
    """
    if verified:
        return _load_payload(decrypt(envelope.data, keys.data_secret, keys.data_secret_iv), dialect)
    return _load_payload(decrypt_request(envelope, keys), dialect)


# ----------------------------------------------------------------------------------------------------------------------
# Responses
# ----------------------------------------------------------------------------------------------------------------------


def build_response(ret: int, msg: str, payload: Payload | None, keys: KeySet) -> ResponseEnvelope:
    """Encrypt the payload (None → Data "") and sign Ret+Msg+Data."""
    ret = int(ret)
    data = "" if payload is None else encrypt(encode_payload(payload), keys.data_secret, keys.data_secret_iv)
    return ResponseEnvelope(ret=ret, msg=msg, data=data, sig=sign_response(keys.sig_secret, ret, msg, data))


def error_response(error: ProtocolError, keys: KeySet | None) -> ResponseEnvelope:
    """Answer for a ProtocolError with Data "". Without keys (unknown OperatorID) nothing can be signed: Sig is ""."""
    if keys is None:
        return ResponseEnvelope(ret=int(error.ret), msg=error.msg, data="", sig="")
    return build_response(error.ret, error.msg, None, keys)


def parse_response(body: bytes | bytearray | memoryview | str, *, dialect: Dialect = STANDARD) -> ResponseEnvelope:
    """Validate a response body; EnvelopeError when a field is missing or mistyped (Msg, Data, Sig may be "").

    A peer whose dialect has `lowercase_keys` may answer `ret`/`msg`/`data`/`sig`."""
    obj = _load_body(body, "响应体")
    if dialect.lowercase_keys and "Ret" not in obj:
        obj = standard_envelope_keys(obj)
    if "Ret" not in obj:
        raise EnvelopeError("响应缺少参数：Ret")
    ret = obj["Ret"]
    if not isinstance(ret, int) or isinstance(ret, bool):
        raise EnvelopeError("响应参数Ret必须是整数")
    msg, data, sig = (_require_str(obj, name, allow_blank=True) for name in RESPONSE_FIELDS[1:])
    return ResponseEnvelope(ret=ret, msg=msg, data=data, sig=sig)


def verify_response(envelope: ResponseEnvelope, keys: KeySet) -> None:
    """SignatureError unless Sig matches str(Ret)+Msg+Data (case-insensitive)."""
    try:
        expected = sign_response(keys.sig_secret, envelope.ret, envelope.msg, envelope.data)
    except UnicodeEncodeError:  # a lone surrogate in Msg cannot have been signed by anyone
        raise SignatureError("响应签名错误") from None
    if not verify(expected, envelope.sig):
        raise SignatureError("响应签名错误")


def decrypt_response(envelope: ResponseEnvelope, keys: KeySet) -> str | None:
    """Verify, then decrypt Data; None when Data is "" (error answers)."""
    verify_response(envelope, keys)
    if not envelope.data.strip():
        return None
    return decrypt(envelope.data, keys.data_secret, keys.data_secret_iv)


def open_response(envelope: ResponseEnvelope, keys: KeySet, *, dialect: Dialect = STANDARD) -> dict[str, Any] | None:
    """Verify, decrypt and parse Data into a dict, or None when Data is ""."""
    text = decrypt_response(envelope, keys)
    return None if text is None else _load_payload(text, dialect)
