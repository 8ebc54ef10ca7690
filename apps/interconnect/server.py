"""The protocol server: POST /evcs/v1/<interface> through the receive pipeline of T/CEC 102.4 §6.

Order: envelope fields (4003) → caller known (4003) → Sig (4001) → interface known → token (4002) →
TimeStamp window (4003) → replay (4003) → decrypt (4003) → business fields (4004) → one handler call.
Every answer is HTTP 200 with a response envelope, signed whenever the caller's keys are known, and every
exchange leaves a journal row, rejected ones included.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import IntegrityError, OperationalError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from apps.core.exceptions import Busy, HLHTError, ValidationFailed
from apps.operators.models import Operator

from . import handlers, publication  # noqa: F401 - registers the interfaces
from .choices import Direction, KeyDirection
from .dialects import operator_dialect
from .journal import journal_record
from .keys import keyset_open, usable_keysets
from .models import SeenEnvelope
from .protocol import (
    STANDARD,
    BusinessError,
    BusyError,
    Dialect,
    EnvelopeError,
    InternalError,
    KeySet,
    ParameterError,
    ProtocolError,
    Ret,
    SignatureError,
    TokenError,
    build_response,
    error_response,
    open_request,
    parse_authorization,
    parse_request,
    verify_request,
)
from .registry import REGISTRY, CallContext
from .tokens import token_is_valid

logger = logging.getLogger(__name__)
JSON = "application/json;charset=utf-8"


@dataclass(slots=True)
class _Call:
    """What the pipeline learnt so far; the journal row is written from it whatever happened."""

    interface: str
    remote_addr: str | None
    claimed_operator_id: str = ""
    operator: Operator | None = None
    keysets: list = field(default_factory=list)
    keys: KeySet | None = None
    dialect: Dialect = STANDARD
    timestamp: str = ""
    seq: str = ""
    request: Any = None
    response: Any = None
    body: bytes = b""


def _resolve_caller(call: _Call, operator_id: str) -> Dialect:
    call.claimed_operator_id = operator_id
    call.keysets = usable_keysets(operator_id, KeyDirection.INBOUND)
    if not call.keysets:
        raise EnvelopeError(f"POST参数不合法，未知的运营商：{operator_id}")
    call.operator = call.keysets[0].operator
    call.dialect = operator_dialect(call.operator)
    return call.dialect


def _verifying_keys(envelope, rows) -> KeySet | None:
    for row in rows:
        keys = keyset_open(row)
        try:
            verify_request(envelope, keys)
        except SignatureError:
            continue
        return keys
    return None


def _read_body(request: HttpRequest) -> bytes:
    limit = settings.HLHT_MAX_BODY_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise EnvelopeError(f"请求体过大，不能超过{limit}字节")
    try:
        body = request.body
    except RequestDataTooBig:
        raise EnvelopeError(f"请求体过大，不能超过{limit}字节") from None
    if len(body) > limit:
        raise EnvelopeError(f"请求体过大，不能超过{limit}字节")
    return body


def _process(request: HttpRequest, call: _Call, legacy: bool) -> Any:
    if request.method != "POST":
        raise EnvelopeError("POST参数不合法，接口只接受POST请求")
    call.body = _read_body(request)
    envelope = parse_request(call.body, dialect=lambda operator_id: _resolve_caller(call, operator_id))
    call.timestamp, call.seq = envelope.wire_timestamp, envelope.seq

    # Sig: the current inbound set first, then one rotated out but still inside its overlap window; if the
    # (possibly cached) sets all fail, look again in the database in case a set was installed a moment ago.
    call.keys = _verifying_keys(envelope, call.keysets)
    if call.keys is None:
        call.keysets = usable_keysets(envelope.operator_id, KeyDirection.INBOUND, fresh=True) or call.keysets
        call.keys = _verifying_keys(envelope, call.keysets)
    if call.keys is None:
        call.keys = keyset_open(call.keysets[0])  # sign the refusal with the keys the caller should be using
        raise SignatureError("签名错误")
    operator = call.operator = call.keysets[0].operator

    if legacy and not operator.dialect_no_v_base_url:
        raise ParameterError(f"POST参数不合法，请使用 /{settings.HLHT_PROTOCOL_PREFIX} 路径")
    iface = REGISTRY.get(call.interface)
    if iface is None:
        raise ParameterError(f"POST参数不合法，不支持的接口：{call.interface}")
    if operator.kind not in iface.callers:
        raise ParameterError(f"POST参数不合法，{operator.get_kind_display()}不能调用接口 {call.interface}")
    if iface.token_required:
        token = parse_authorization(request.META.get("HTTP_AUTHORIZATION"), call.dialect)
        if not token_is_valid(operator=operator, token=token):
            raise TokenError("Token错误：无效、已过期或运营商已暂停接入")

    skew = abs((timezone.now() - envelope.time).total_seconds())
    if skew > settings.HLHT_CLOCK_SKEW:
        raise EnvelopeError(f"POST参数不合法，TimeStamp与平台时间相差{int(skew)}秒，超过{settings.HLHT_CLOCK_SKEW}秒")

    # The replay mark, the decryption and the handler's writes commit together: a message that fails
    # anywhere leaves nothing behind and may be sent again; one that succeeded can never apply twice.
    with transaction.atomic():
        try:
            with transaction.atomic():
                SeenEnvelope.objects.create(
                    operator_id=operator.pk,
                    timestamp=envelope.wire_timestamp,
                    seq=envelope.seq,
                    sig=envelope.sig.upper(),
                )
        except IntegrityError:
            raise EnvelopeError("POST参数不合法，重复的请求：相同的 TimeStamp、Seq 和 Sig 已经处理过") from None
        payload = open_request(envelope, call.keys, dialect=call.dialect)
        call.request = payload
        if iface.validate is not None:
            iface.validate(payload)
        context = CallContext(operator=operator, keys=call.keys, envelope=envelope, remote_addr=call.remote_addr)
        try:
            result = iface.handler(context, payload)
        except ValidationFailed as exc:
            raise BusinessError(f"业务参数不合法，{exc.message}") from exc
    call.response = result
    return result


def _refusal_keys(call: _Call) -> KeySet | None:
    """Keys to sign a refusal of an envelope rejected before its caller was resolved (a field missing, say)."""
    if call.keys is not None:
        return call.keys
    if not call.claimed_operator_id:
        try:
            operator_id = json.loads(call.body).get("OperatorID") if call.body else None
        except (ValueError, AttributeError, RecursionError):
            return None
        if not isinstance(operator_id, str) or len(operator_id) != 9:
            return None
        call.claimed_operator_id = operator_id
    rows = call.keysets or usable_keysets(call.claimed_operator_id, KeyDirection.INBOUND)
    if not rows:
        return None
    call.operator = rows[0].operator
    return keyset_open(rows[0])


@csrf_exempt
def endpoint(request: HttpRequest, interface: str, legacy: bool = False) -> HttpResponse:
    started = time.perf_counter()
    call = _Call(interface=interface[:64], remote_addr=request.META.get("REMOTE_ADDR"))
    error = ""
    try:
        payload = _process(request, call, legacy)
        envelope = build_response(Ret.OK, "", payload, call.keys)
    except ProtocolError as exc:
        envelope, error = error_response(exc, _refusal_keys(call)), exc.msg
    except (Busy, OperationalError) as exc:
        # The database is locked or unreachable, or a service said so: the caller should retry later.
        logger.warning("busy answering %s from %s: %s", call.interface, call.claimed_operator_id, exc)
        envelope, error = error_response(BusyError(), call.keys), f"busy: {exc}"
    except HLHTError as exc:
        envelope, error = error_response(BusinessError(exc.message), call.keys), exc.message
    except Exception as exc:  # the last line: a traceback goes to the log, never to the peer
        logger.exception("unexpected error answering %s from %s", call.interface, call.claimed_operator_id)
        envelope, error = error_response(InternalError(), call.keys), f"{type(exc).__name__}: {exc}"
    body = envelope.to_json()
    try:
        journal_record(
            operator=call.operator,
            claimed_operator_id=call.claimed_operator_id[:64],
            interface=call.interface,
            direction=Direction.IN,
            timestamp=call.timestamp[:20],
            seq=call.seq[:8],
            ret=envelope.ret,
            msg=envelope.msg,
            http_status=200,
            latency_ms=(time.perf_counter() - started) * 1000,
            request=call.request,
            response=call.response,
            error=error,
            remote_addr=call.remote_addr,
        )
    except Exception:  # the answer matters more than its journal row; the failure is logged
        logger.exception("journal write failed for %s", call.interface)
    return HttpResponse(body, content_type=JSON)
