"""The one receive pipeline of T/CEC 102.4 §6, shared by the portal, the simulator and the tests' peers.

Order: envelope fields (4003) → caller known (4003, unsigned) → Sig (4001) → interface known and allowed (4003) →
token (4002) → TimeStamp window (4003) → replay (4003) → decrypt (4003) → business fields (4004) → handler.

What differs between servers is passed in: how a caller is found, how a token is checked, where replay marks live,
the table of interfaces and what runs around the handler (a database transaction in the portal). Every request gets
a `Reception`: the response envelope (HTTP 200, signed whenever the caller's keys are known) and what the pipeline
learnt on the way, from which a host writes its journal whatever happened.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .dialect import STANDARD, Dialect, parse_authorization
from .envelope import (
    KeySet,
    Payload,
    RequestEnvelope,
    ResponseEnvelope,
    build_response,
    error_response,
    open_request,
    parse_request,
    verify_request,
)
from .errors import (
    BusinessError,
    BusyError,
    EnvelopeError,
    InternalError,
    ParameterError,
    ProtocolError,
    Ret,
    SignatureError,
    TokenError,
)
from .text import safe_text
from .timestamps import is_operator_id

__all__ = [
    "MARK_BAD_TOKEN",
    "MARK_FIRST",
    "MARK_REPLAY",
    "Caller",
    "Context",
    "NoAnswer",
    "Pipeline",
    "Reception",
    "Request",
    "Route",
]

logger = logging.getLogger(__name__)

INTERFACE_NAME_LIMIT = 64  # the longest name the pipeline reports back or records; real names are under 45


class NoAnswer(Exception):
    """Raised by a host's hook to close the connection without any answer (a simulated timeout)."""


@dataclass(frozen=True, slots=True)
class Caller:
    """A platform the server knows: its key sets (the current one first, then rotated ones inside their overlap),
    the deviations it is allowed, its kind (who may call what) and whatever the host keeps about it (`party`)."""

    operator_id: str
    keysets: Sequence[KeySet]
    dialect: Dialect = STANDARD
    kind: str = ""
    kind_label: str = ""  # how a refusal names the kind (第三方平台…)
    party: Any = None


@dataclass(frozen=True, slots=True)
class Context:
    """What a handler knows about the call it answers."""

    caller: Caller
    keys: KeySet
    envelope: RequestEnvelope
    remote_addr: str | None = None


Handler = Callable[[Context, dict[str, Any]], Payload]
# Raises BusinessError (4004) naming each bad field.
Validator = Callable[[dict[str, Any]], None]


@dataclass(frozen=True, slots=True)
class Route:
    """One interface a server answers: its handler, whether a Bearer token is needed, its business-field check and
    which kinds of caller may use it (None: every kind)."""

    name: str
    handler: Handler
    token_required: bool = True
    validate: Validator | None = None
    callers: frozenset[str] | None = None


@dataclass(frozen=True, slots=True)
class Request:
    """One HTTP request as the pipeline needs it; `variant` names a second URL family a host serves (legacy paths).

    `body` may be a bytearray a host hands over (a large body read into one buffer): the pipeline empties it once
    the envelope is parsed."""

    method: str
    interface: str
    body: bytes | bytearray
    authorization: str | None = None
    remote_addr: str | None = None
    variant: str = ""


@dataclass(slots=True)
class Reception:
    """The answer to one request and everything learnt on the way, for the host's journal."""

    interface: str
    remote_addr: str | None
    started: float
    envelope: ResponseEnvelope | None = None
    claimed_operator_id: str = ""
    caller: Caller | None = None
    keys: KeySet | None = None
    timestamp: str = ""
    seq: str = ""
    request: Any = None  # the decrypted Data, once it was
    response: Any = None  # the Data answered, on success
    error: str = ""  # why the request failed ("" on success); never sent to the peer
    authenticated: bool = False  # past Sig, token, clock window and replay
    problems: list[Any] = field(default_factory=list)  # the schema's Problems behind a 4004, for the host to keep
    recorded: bool = False  # the `record` hook wrote this exchange's record in the message's own transaction

    @property
    def caller_id(self) -> str:
        return self.caller.operator_id if self.caller is not None else self.claimed_operator_id

    @property
    def ok(self) -> bool:
        return self.envelope is not None and self.envelope.ret == Ret.OK

    @property
    def latency_ms(self) -> float:
        return (time.perf_counter() - self.started) * 1000

    def body(self) -> bytes:
        return (
            self.envelope.to_json()
            if self.envelope is not None
            else error_response(error_of(Ret.SYSTEM), None).to_json()
        )


CallerLookup = Callable[[str, bool], Caller | None]  # (OperatorID, fresh) → the caller, or None when unknown
TokenCheck = Callable[[Caller, str], bool]
ReplayStore = Callable[[Caller, RequestEnvelope], bool]  # marks the envelope seen; False when it already was
Classifier = Callable[[Exception], ProtocolError | None]
# (caller, Bearer token or None when the route needs none, envelope) → one of the MARK_ verdicts: the token is
# checked and, when it is valid, the envelope marked seen, in one step.
Marker = Callable[[Caller, "str | None", RequestEnvelope], str]
MARK_FIRST, MARK_REPLAY, MARK_BAD_TOKEN = "first", "replay", "token"


@dataclass(slots=True)
class Pipeline:
    """The receive pipeline with a host's parts plugged in.

    - `callers(operator_id, fresh)`: the caller for an OperatorID, or None. `fresh=True` is asked once more when no
      key set verifies the Sig, so a set installed a moment ago works at once despite a host's cache.
    - `routes`: interface name → Route.
    - `tokens(caller, token)`: whether a Bearer token is valid for the caller now.
    - `replay(caller, envelope)`: marks (OperatorID, TimeStamp, Seq, Sig) seen; False for a replay.
    - `clock()` and `window()`: the server's time and the TimeStamp tolerance in seconds.
    - `atomic()`: wraps replay mark, decryption, validation and handler, so a failure anywhere leaves nothing behind
      (the portal's database transaction; nothing for an in-memory host).
    - `admit(request, caller)`: a host's own refusal after the Sig (ParameterError), e.g. a legacy path.
    - `authenticated(request, caller, route)`: runs once the call is authenticated, before decryption (the
      simulator's answer faults); may raise a ProtocolError or NoAnswer.
    - `classify(exc)`: maps a host's own exceptions to a ProtocolError; None (or no classifier) answers Ret 500.
    - `outgoing(caller, payload)`: rewrites an answer before encryption (a simulator speaking a dialect).
    - `mark(caller, token, envelope)`: `tokens` and `replay` in one step, inside `atomic()` (MARK_FIRST,
      MARK_REPLAY or MARK_BAD_TOKEN); used whenever the TimeStamp is inside the window.
    - `record(reception)`: writes the record of an accepted message inside `atomic()`, so both commit together
      (the portal's journal row); a refusal is left to the host (`reception.recorded` is False).
    - `busy_data`: Data of a Ret -1 answer (None: ""; the simulator sends an encrypted {} as vector V-C5 does).
    - `token_refusal`: the Msg of a 4002 (the portal adds that a suspended operator's tokens end at once).

    Body size is the HTTP layer's to bound, before it reads the body (`refuse()` answers what it would not read).
    """

    callers: CallerLookup
    routes: Mapping[str, Route]
    tokens: TokenCheck
    replay: ReplayStore
    clock: Callable[[], datetime]
    window: Callable[[], float]
    atomic: Callable[[], AbstractContextManager[Any]] = nullcontext
    admit: Callable[[Request, Caller], None] | None = None
    authenticated: Callable[[Request, Caller, Route], None] | None = None
    classify: Classifier | None = None
    outgoing: Callable[[Caller, Payload], Payload] | None = None
    busy_data: Payload | None = None
    record: Callable[[Reception], object] | None = None  # what it returns (a journal row id) is not used
    mark: Marker | None = None
    token_refusal: str = "Token错误：无效或已过期"  # noqa: S105 - a message, not a credential

    # -- the entry points ---------------------------------------------------------------------------------------------

    def receive(self, request: Request) -> Reception:
        """Answer one request; never raises (but NoAnswer, which a host's hook raises on purpose)."""
        reception = Reception(
            interface=safe_text(request.interface, INTERFACE_NAME_LIMIT),
            remote_addr=request.remote_addr,
            started=time.perf_counter(),
        )
        try:
            self._process(request, reception)
        except NoAnswer:
            raise
        except ProtocolError as exc:
            reception.response, reception.recorded = None, False  # nothing of the answer or its record stands
            reception.problems = list(getattr(exc, "problems", ()))
            self._refuse(reception, request, exc, exc.msg)
        except Exception as exc:
            reception.response, reception.recorded = None, False
            mapped = self.classify(exc) if self.classify is not None else None
            why = f"{type(exc).__name__}: {exc}"
            if mapped is None:
                # The last line: a traceback goes to the host's log, never to the peer.
                logger.exception("unexpected error answering %s from %s", reception.interface, reception.caller_id)
                mapped = InternalError()
            elif not isinstance(mapped, BusinessError):
                logger.warning("%s answering %s from %s: %s", mapped.msg, reception.interface, reception.caller_id, why)
            self._refuse(reception, request, mapped, why)
        return reception

    def refuse(self, request: Request, error: ProtocolError, *, caller: Caller | None = None) -> Reception:
        """Refuse a request the HTTP layer would not read (a body too large or of unknown length): unsigned, unless
        the host knows the caller from the request's headers (its Bearer token), whose current keys then sign it."""
        reception = Reception(
            interface=safe_text(request.interface, INTERFACE_NAME_LIMIT),
            remote_addr=request.remote_addr,
            started=time.perf_counter(),
        )
        keys = None
        if caller is not None and caller.keysets:
            keys = caller.keysets[0]
            reception.caller, reception.claimed_operator_id = caller, caller.operator_id
        reception.envelope, reception.error = error_response(error, keys), error.msg
        return reception

    # -- the steps ---------------------------------------------------------------------------------------------------

    def _process(self, request: Request, reception: Reception) -> None:
        if request.method != "POST":
            raise EnvelopeError("POST参数不合法，接口只接受POST请求")
        envelope = parse_request(request.body, dialect=lambda operator_id: self._resolve(reception, operator_id))
        if isinstance(request.body, bytearray):
            # A buffer the host handed over (a large body): the envelope holds what is needed of it now, and a
            # refusal from here on is signed with the resolved caller's keys, so the body need not be held twice.
            request.body.clear()
        reception.timestamp, reception.seq = envelope.wire_timestamp, envelope.seq
        caller = reception.caller
        if caller is None:  # parse_request resolved the caller or raised
            raise InternalError()

        # Sig: the current set first, then one rotated out but still inside its overlap window; if every set fails,
        # ask the host again without its cache, in case a set was installed a moment ago.
        keys = _verifying_keys(envelope, caller.keysets)
        if keys is None:
            fresh = self.callers(envelope.operator_id, True)
            if fresh is not None and fresh.keysets:
                caller = reception.caller = fresh
                keys = _verifying_keys(envelope, caller.keysets)
        if keys is None:
            reception.keys = caller.keysets[0]  # sign the refusal with the keys the caller should be using
            raise SignatureError("签名错误")
        reception.keys = keys

        if self.admit is not None:
            self.admit(request, caller)
        route = self.routes.get(request.interface)
        if route is None:
            raise ParameterError(f"POST参数不合法，不支持的接口：{reception.interface or '(空)'}")
        if route.callers is not None and caller.kind not in route.callers:
            raise ParameterError(f"POST参数不合法，{caller.kind_label or caller.kind}不能调用接口 {route.name}")
        token = parse_authorization(request.authorization, caller.dialect) if route.token_required else None
        skew = abs((self.clock() - envelope.time).total_seconds())
        window = self.window()
        stale = skew > window
        # With a `mark` hook the token check and the replay mark are one step (one round trip in the portal); the
        # refusals keep their order: a bad token is 4002 even when the TimeStamp is stale too.
        mark = None if stale else self.mark
        if token is not None and mark is None and not self.tokens(caller, token):
            raise TokenError(self.token_refusal)
        if stale:
            raise EnvelopeError(f"POST参数不合法，TimeStamp与平台时间相差{skew:.1f}秒，超过{window:g}秒")

        # The replay mark, the decryption and the handler's writes happen inside one `atomic()`: a message that
        # fails anywhere leaves nothing behind and may be sent again; one that succeeded can never apply twice.
        with self.atomic():
            if mark is not None:
                verdict = mark(caller, token, envelope)
                if verdict == MARK_BAD_TOKEN:
                    raise TokenError(self.token_refusal)
                first = verdict == MARK_FIRST
            else:
                first = self.replay(caller, envelope)
            if not first:
                raise EnvelopeError("POST参数不合法，重复的请求：相同的 TimeStamp、Seq 和 Sig 已经处理过")
            reception.authenticated = True
            if self.authenticated is not None:
                self.authenticated(request, caller, route)
            payload = open_request(envelope, keys, dialect=caller.dialect, verified=True)  # the Sig was checked above
            reception.request = payload
            if route.validate is not None:
                route.validate(payload)
            context = Context(caller=caller, keys=keys, envelope=envelope, remote_addr=request.remote_addr)
            result = route.handler(context, payload)
            answer = self.outgoing(caller, result) if self.outgoing is not None else result
            reception.envelope = build_response(Ret.OK, "", answer, keys)
            reception.response = result  # recorded only once it was really answered
            if self.record is not None:
                # The record of an accepted message commits with the message: one transaction, never one without
                # the other. A refused one is the host's to record after the rollback (`recorded` stays False).
                self.record(reception)
                reception.recorded = True

    def _resolve(self, reception: Reception, operator_id: str) -> Dialect:
        reception.claimed_operator_id = operator_id
        caller = self.callers(operator_id, False)
        if caller is None or not caller.keysets:
            raise EnvelopeError(f"POST参数不合法，未知的运营商：{operator_id}")
        reception.caller = caller
        return caller.dialect

    def _refuse(self, reception: Reception, request: Request, error: ProtocolError, why: str) -> None:
        reception.error = safe_text(why)
        # A Msg may quote what the peer sent: escaped, it can be signed (a lone surrogate has no UTF-8 to sign).
        msg = safe_text(error.msg)
        try:
            keys = reception.keys or self._refusal_keys(reception, request)
            if isinstance(error, BusyError) and self.busy_data is not None and keys is not None:
                reception.envelope = build_response(error.ret, msg, self.busy_data, keys)
            else:
                reception.envelope = error_response(ProtocolError(msg, ret=error.ret), keys)
        except Exception:  # the host's store failing on the refusal path: an unsigned answer is still an answer
            logger.exception("refusing %s from %s", reception.interface, reception.caller_id)
            reception.envelope = error_response(ProtocolError(msg, ret=error.ret), None)

    def _refusal_keys(self, reception: Reception, request: Request) -> KeySet | None:
        """Keys to sign a refusal of an envelope rejected before its caller was resolved (a field missing, say).

        Only a well-formed OperatorID (9 ASCII letters or digits) is looked up: whatever else a peer put there
        (NUL, surrogates, a megabyte) never reaches the host's store.
        """
        if reception.caller is not None:
            return reception.caller.keysets[0]
        if reception.claimed_operator_id:
            return None  # looked up already, and unknown
        try:
            claimed = json.loads(request.body).get("OperatorID") if request.body else None
        except (ValueError, AttributeError, RecursionError):
            return None
        if not isinstance(claimed, str):
            return None
        reception.claimed_operator_id = safe_text(claimed, INTERFACE_NAME_LIMIT)
        if not is_operator_id(claimed):
            return None
        caller = self.callers(claimed, False)
        if caller is None or not caller.keysets:
            return None
        reception.caller = caller
        return caller.keysets[0]


def error_of(ret: int) -> ProtocolError:
    """A ProtocolError carrying `ret` with the standard's text, for answers built outside a raise."""
    return ProtocolError(ret=ret)


def _verifying_keys(envelope: RequestEnvelope, keysets: Sequence[KeySet]) -> KeySet | None:
    for keys in keysets:
        try:
            verify_request(envelope, keys)
        except SignatureError:
            continue
        return keys
    return None
