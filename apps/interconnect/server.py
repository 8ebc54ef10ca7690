"""The protocol server: POST /evcs/v1/<interface> through the one receive pipeline (apps/protocol/receive.py).

This module plugs the portal's parts into the pipeline: callers and their key sets from the database (cached per
process), tokens, replay marks in the same transaction as the handler's writes, the registry of interfaces, and the
journal row that every exchange leaves, refused ones included. Every answer is HTTP 200 with a response envelope.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping
from typing import Any

from django.core.handlers.wsgi import get_path_info
from django.db import DEFAULT_DB_ALIAS, OperationalError, connections, transaction
from django.http import HttpRequest, HttpResponse, UnreadablePostError
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from apps.core.conf import conf
from apps.core.exceptions import Busy, HLHTError, ValidationFailed
from apps.core.metrics import exchange_observe
from apps.core.rows import insert_rows
from apps.operators.models import Operator
from apps.protocol import (
    BusinessError,
    BusyError,
    EnvelopeError,
    InternalError,
    ParameterError,
    ProtocolError,
    RequestEnvelope,
)
from apps.protocol.dialect import Dialect, parse_authorization
from apps.protocol.errors import TokenError
from apps.protocol.receive import MARK_BAD_TOKEN, MARK_FIRST, MARK_REPLAY, Caller, Pipeline, Reception, Request
from apps.protocol.text import safe_text, storable

from .choices import Direction, KeyDirection
from .dialects import operator_dialect
from .journal import journal_insert
from .keys import keyset_open, usable_keysets
from .models import OperatorKeySet, RejectedRecord, SeenEnvelope
from .registry import BODY_LIMITS, REGISTRY
from .tokens import token_check_and_mark, token_holder, token_is_valid

logger = logging.getLogger(__name__)
JSON = "application/json;charset=utf-8"
LEGACY = "legacy"


# Caller objects per set of key-set rows: the rows come from keys.usable_keysets' per-process cache, so while they
# stay the same objects the caller built from them is the same too (opening four sealed secrets and reading the
# operator's flags once, not on every message). An entry keeps its rows alive, so their ids cannot be reused.
_callers: dict[tuple[int, ...], tuple[tuple[OperatorKeySet, ...], Caller]] = {}


def _caller(operator_id: str, fresh: bool) -> Caller | None:
    rows = tuple(usable_keysets(operator_id, KeyDirection.INBOUND, fresh=fresh))
    if not rows:
        return None
    key = tuple(id(row) for row in rows)
    hit = _callers.get(key)
    if hit is not None and all(a is b for a, b in zip(hit[0], rows, strict=True)):
        return hit[1]
    operator = rows[0].operator
    caller = Caller(
        operator_id=operator.pk,
        keysets=tuple(keyset_open(row) for row in rows),
        dialect=operator_dialect(operator),
        kind=operator.kind,
        kind_label=operator.get_kind_display(),
        party=operator,
    )
    if len(_callers) > 1024:
        _callers.clear()
    _callers[key] = (rows, caller)
    return caller


def _token_valid(caller: Caller, token: str) -> bool:
    return token_is_valid(operator=caller.party, token=token)


def _seen(caller: Caller, envelope: RequestEnvelope) -> dict[str, object]:
    return {"operator_id": caller.operator_id, "timestamp": envelope.wire_timestamp, "seq": envelope.seq,
            "sig": envelope.sig.upper(), "received_at": timezone.now()}  # fmt: skip


def _first_sight(caller: Caller, envelope: RequestEnvelope) -> bool:
    # ON CONFLICT DO NOTHING, not a savepoint around a failing INSERT: a replay leaves the transaction usable, and
    # the first sight costs one statement.
    return insert_rows(SeenEnvelope, [_seen(caller, envelope)], conflict=[]) == 1


def _mark(caller: Caller, token: str | None, envelope: RequestEnvelope) -> str:
    if token is None:
        return MARK_FIRST if _first_sight(caller, envelope) else MARK_REPLAY
    valid, first = token_check_and_mark(operator=caller.party, token=token, mark=_seen(caller, envelope))
    return MARK_BAD_TOKEN if not valid else MARK_FIRST if first else MARK_REPLAY


def _admit(request: Request, caller: Caller) -> None:
    if request.variant == LEGACY and not caller.party.dialect_no_v_base_url:
        raise ParameterError(f"POST参数不合法，请使用 /{conf().protocol.prefix} 路径")


def _classify(exc: Exception) -> ProtocolError | None:
    if isinstance(exc, Busy | OperationalError):
        # The database is locked or unreachable, or a service said so: the caller should retry later.
        return BusyError()
    if isinstance(exc, ValidationFailed):
        return BusinessError(f"业务参数不合法，{exc.message}")
    if isinstance(exc, HLHTError):
        return BusinessError(exc.message)
    return None


class _Unreadable(Exception):
    """The request's body cannot be read: its length is not a number, it is too large, or the client went away.
    `caller` is the operator its Bearer token named, when one was asked (the refusal is then signed)."""

    def __init__(self, error: EnvelopeError, caller: str | None = None) -> None:
        super().__init__(error.msg)
        self.error = error
        self.caller = caller


def body_limit(interface: str) -> int:
    """The largest body an interface takes: HLHT_MAX_BODY_BYTES, or the bound it registered (reconciliation)."""
    bound = BODY_LIMITS.get(interface)
    return bound() if bound is not None else conf().protocol.max_body_bytes


_BARE = Dialect(bare_token=True)


def _token_holder(meta: Mapping[str, Any]) -> Operator | None:
    """The holder of the request's valid Bearer token (a bare token only under its dialect flag), from the header
    alone: asked before any of a body beyond HLHT_MAX_BODY_BYTES is read, so a stranger's 160 MB is never read,
    parsed or decrypted. The pipeline still checks the token against the envelope's OperatorID."""
    header = meta.get("HTTP_AUTHORIZATION")
    bare = False
    try:
        token = parse_authorization(header)
    except TokenError:
        try:
            token, bare = parse_authorization(header, _BARE), True
        except TokenError:
            return None
    operator = token_holder(token)
    return None if operator is None or (bare and not operator.dialect_bare_token) else operator


def _may_send_large(operator: Operator | None, interface: str) -> bool:
    route = REGISTRY.get(interface)
    return operator is not None and route is not None and (route.callers is None or operator.kind in route.callers)


def _read_into(read, size: int) -> bytearray:
    """`size` bytes (or what a chunked body holds, up to `size`) read in slices into one buffer: a large body is
    held once, not as its slices and their join."""
    body = bytearray()
    while len(body) < size:
        piece = read(min(_READ_SLICE, size - len(body)))
        if not piece:
            break
        body += piece
    return body


_READ_SLICE = 1024 * 1024


def _read_body(meta: Mapping[str, Any], read: Callable[[int], bytes], interface: str) -> bytes | bytearray:
    """The body, read only when it is known to fit: by Content-Length, or to the end of a chunked body a server
    has decoded (gunicorn sets wsgi.input_terminated); many Java peers send chunked by default.

    Beyond HLHT_MAX_BODY_BYTES (the interfaces that registered a larger bound: reconciliation) only for a caller
    whose Bearer token was checked first; anyone else is refused unread, as on every other interface.

    `meta` is the WSGI environ (a Django request's META), `read(n)` reads at most n bytes of a body whose length
    was declared."""
    limit = conf().protocol.max_body_bytes
    larger = body_limit(interface)
    declared = meta.get("CONTENT_LENGTH") or ""
    chunked = "chunked" in meta.get("HTTP_TRANSFER_ENCODING", "").lower()
    sender: Operator | None = None
    try:
        if not declared and chunked and meta.get("wsgi.input_terminated"):
            if larger > limit:
                sender = _token_holder(meta)
                limit = larger if _may_send_large(sender, interface) else limit
            body = _read_into(meta["wsgi.input"].read, limit + 1)
            if len(body) > limit:
                raise _Unreadable(_too_large(limit, larger), sender.pk if sender else None)
            return body
        if not (declared or "0").isascii() or not (declared or "0").isdigit():
            raise _Unreadable(EnvelopeError("POST参数不合法，请求头 Content-Length 不是合法的长度"))
        length = int(declared or "0")
        if length > limit and larger > limit:
            sender = _token_holder(meta)
            limit = larger if _may_send_large(sender, interface) else limit
        if length > limit:
            raise _Unreadable(_too_large(limit, larger), sender.pk if sender else None)
        if length <= conf().protocol.max_body_bytes:
            # read(), not .body: the bound is the interface's own, not DATA_UPLOAD_MAX_MEMORY_SIZE of the people's
            # pages.
            return read(length) if length else b""
        body = _read_into(read, length)
        if len(body) < length:
            raise _Unreadable(_INCOMPLETE, sender.pk if sender else None)
        return body
    except _Unreadable:
        raise
    except (UnreadablePostError, OSError) as exc:
        raise _Unreadable(_INCOMPLETE, sender.pk if sender else None) from exc
    except Exception as exc:  # the WSGI server's own body parser: gunicorn's InvalidChunkSize is no OSError
        logger.info("unreadable body for %s: %r", interface, exc)
        raise _Unreadable(_MALFORMED, sender.pk if sender else None) from exc


_INCOMPLETE = EnvelopeError("POST参数不合法，请求体读取失败（连接中断或长度不符）")
_MALFORMED = EnvelopeError("POST参数不合法，请求体读取失败（分块传输编码错误）")


def _too_large(limit: int, larger: int) -> EnvelopeError:
    if larger > limit:
        why = f"更大的请求体只接受带有效Bearer令牌的运营商，上限{larger}字节"
        return EnvelopeError(f"请求体过大，不能超过{limit}字节（{why}）")
    return EnvelopeError(f"请求体过大，不能超过{limit}字节")


# Where a refused message's business key is, for its rejected record (the first one present wins).
_RECORD_KEYS = ("StartChargeSeq", "CheckOrderSeq", "StationID", "ConnectorID", "EquipBizSeq", "EquipAuthSeq")


def _record_key(payload: object) -> str:
    if not isinstance(payload, dict):
        return ""
    status = payload.get("ConnectorStatusInfo")
    for source in (payload, status if isinstance(status, dict) else {}):
        for key in _RECORD_KEYS:
            if isinstance(source.get(key), str):
                return source[key]
    return ""


def _keep_rejection(reception: Reception, caller: Caller, exchange_id: int) -> None:
    """A message refused for its business fields is a rejected record too, with its rules, like a pulled one: the
    data-quality report counts what operators push, not only what the portal pulls."""
    problems = reception.problems
    RejectedRecord.objects.create(
        operator=caller.party,
        exchange_id=exchange_id,
        interface=reception.interface,
        record_key=safe_text(_record_key(reception.request), 64),
        rules=sorted({p.rule for p in problems}),
        reasons=[p.message for p in problems][:50],
        payload=storable(reception.request),
    )


def _journal_row(reception: Reception) -> int:
    envelope = reception.envelope
    return journal_insert(
        operator=reception.caller.party if reception.caller is not None else None,
        claimed_operator_id=reception.claimed_operator_id,
        interface=reception.interface,
        direction=Direction.IN,
        timestamp=reception.timestamp,
        seq=reception.seq,
        ret=envelope.ret if envelope is not None else None,
        msg=envelope.msg if envelope is not None else "",
        http_status=200,
        latency_ms=reception.latency_ms,
        request=reception.request,
        response=reception.response,
        error=reception.error,
        remote_addr=reception.remote_addr,
    )


def _journal(reception: Reception) -> None:
    """The journal row of a refused message, written after its transaction was rolled back."""
    try:
        row = _journal_row(reception)
        if reception.problems and reception.caller is not None:
            _keep_rejection(reception, reception.caller, row)
    except Exception:  # the answer matters more than its journal row; the failure is logged
        logger.exception("journal write failed for %s", reception.interface)


PIPELINE = Pipeline(
    callers=_caller,
    routes=REGISTRY,
    tokens=_token_valid,
    replay=_first_sight,
    clock=timezone.now,
    window=lambda: conf().protocol.clock_skew_seconds,
    atomic=transaction.atomic,
    admit=_admit,
    classify=_classify,
    token_refusal="Token错误：无效、已过期或运营商已暂停接入",  # noqa: S106 - a message, not a credential
    record=_journal_row,
    mark=_mark,
)


@csrf_exempt
def endpoint(request: HttpRequest, interface: str | None = None, legacy: bool = False) -> HttpResponse:
    """The protocol as a Django view (the test client and ProtocolMiddleware); `answer` does the work."""
    body = answer(request.META, request.read, interface or "", legacy=legacy)
    # The length up front: the middleware that would add it is not run here, and an envelope is never streamed.
    return HttpResponse(body, content_type=JSON, headers={"Content-Length": str(len(body))})


def answer(meta: Mapping[str, Any], read: Callable[[int], bytes], interface: str, *, legacy: bool = False) -> bytes:
    """The envelope answering one request under the protocol prefix: read, received, journalled and counted.

    `meta` is the WSGI environ (or a Django request's META), `read` reads the declared body. Never raises."""
    # Every path under the prefix comes here: `a/b` or a NUL is an unknown interface, answered with an envelope.
    call = Request(
        method=(meta.get("REQUEST_METHOD") or "").upper(),
        interface=interface.removesuffix("/"),
        body=b"",
        authorization=meta.get("HTTP_AUTHORIZATION"),
        remote_addr=meta.get("REMOTE_ADDR"),
        variant=LEGACY if legacy else "",
    )
    try:
        try:
            reception = PIPELINE.receive(dataclasses.replace(call, body=_read_body(meta, read, call.interface)))
        except _Unreadable as exc:
            known = _caller(exc.caller, False) if exc.caller is not None else None
            reception = PIPELINE.refuse(call, exc.error, caller=known)
    except Exception:  # the pipeline never raises; this is the line behind it, so the answer is still an envelope
        logger.exception("protocol endpoint failed for %s", call.interface)
        reception = PIPELINE.refuse(call, InternalError())
    if not reception.recorded:
        _journal(reception)
    _observe(reception)
    return reception.body()


def _observe(reception: Reception) -> None:
    """Count the exchange just journalled (apps.core.metrics); a metrics failure never costs the peer its answer."""
    try:
        name = reception.interface if reception.interface in REGISTRY else "unknown"
        ret = reception.envelope.ret if reception.envelope is not None else None
        caller = reception.caller
        stored = caller is not None and reception.ok and name.startswith("notification_")
        exchange_observe(
            name, ret, reception.latency_ms / 1000, push_of=caller.operator_id if stored and caller else None
        )
    except Exception:
        logger.exception("metrics failed for %s", reception.interface)


def _prefixes() -> list[tuple[str, bool]]:
    """The protocol's path prefixes without their slashes, each with whether it is the legacy one."""
    return [(conf().protocol.prefix.strip("/"), False), (conf().protocol.legacy_prefix.strip("/"), True)]


def _protocol_path(path: str, prefixes: list[tuple[str, bool]]) -> tuple[str, bool] | None:
    """(interface, legacy) of a path under a protocol prefix, else None. Leading slashes are folded, so a peer whose
    base URL ends in a slash (`//evcs/v1/…`) is served too."""
    path = path.lstrip("/")
    for prefix, legacy in prefixes:
        if path == prefix or path.startswith(prefix + "/"):
            return path[len(prefix) + 1 :], legacy
    return None


class ProtocolMiddleware:
    """Serves every path under the protocol prefixes before the rest of the middleware runs (requests that come
    through Django's handler: the test client, a server given Django's own WSGI application).

    The protocol has its own authentication and answers only envelopes: the host check (an HTML 400 for a Host
    outside ALLOWED_HOSTS), sessions, CSRF, users and messages belong to the people's pages.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        self.prefixes = _prefixes()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        found = _protocol_path(request.path_info, self.prefixes)
        if found is not None:
            return endpoint(request, found[0], legacy=found[1])
        return self.get_response(request)


_HEADERS = [("Content-Type", JSON)]


def _tidy_connection() -> None:
    """What Django's request signals do for a request that only uses the database: a connection past CONN_MAX_AGE,
    or left broken by an error, is closed (before and after each request). Not sent as the signals: their other
    receivers — DEBUG's query log, caches, the URLconf — cost a tenth of a push for nothing the protocol uses.
    A connection inside a transaction at a request's boundary is held by its caller (a test's transaction, which
    Django's test client shields from the signals in the same way) and is left alone."""
    db = connections[DEFAULT_DB_ALIAS]
    if not db.in_atomic_block:
        db.close_if_unusable_or_obsolete()


class ProtocolDispatch:
    """The portal's WSGI application: a path under a protocol prefix goes straight to `answer`, everything else
    (admin, API, pages) to Django's full handler.

    A signed envelope needs none of what Django builds around a view — the request object with its lazy GET, POST,
    cookies and content-type parsing, the URL resolver, the middleware chain, the response object — and on a
    status push that machinery cost about as much CPU as the push's own work. The database connection is looked
    after as Django's request signals would (closed when too old or broken), so a worker's connection behaves the
    same whichever path a request took.
    """

    def __init__(self, django_application: Callable[..., Any]) -> None:
        self.django = django_application
        self.prefixes = _prefixes()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        found = _protocol_path(get_path_info(environ), self.prefixes)
        if found is None:
            return self.django(environ, start_response)
        _tidy_connection()
        try:
            body = answer(environ, environ["wsgi.input"].read, found[0], legacy=found[1])
        finally:
            _tidy_connection()
        start_response("200 OK", [*_HEADERS, ("Content-Length", str(len(body)))])
        return [body]
