"""HTTP client for calling one peer's T/CEC 102 interfaces: token lifecycle, envelope codec, error mapping, journal."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol, TypedDict

import requests

from .addresses import AddressRefused, peer_session
from .dialect import STANDARD, Dialect
from .envelope import KeySet, build_request, encode_payload, open_response, parse_response
from .errors import (
    ClientError,
    EnvelopeError,
    PermanentError,
    ProtocolError,
    Ret,
    SignatureError,
    TokenRefused,
    TokenRejected,
    TransientError,
    UnverifiedAnswer,
)
from .names import Interface, TokenFailReason
from .text import redact_secrets
from .timestamps import SeqGenerator

__all__ = [
    "QUERY_TOKEN",
    "ExchangeRecord",
    "MemoryTokenStore",
    "PeerClient",
    "TokenStore",
]

logger = logging.getLogger(__name__)

QUERY_TOKEN = Interface.QUERY_TOKEN
MAX_TOKEN_SECONDS = 604_800  # the standard caps validity at 7 days; a larger value is a peer bug, not a promise
# Statuses where a plain retry later can succeed even though no protocol envelope came back.
_TRANSIENT_HTTP = frozenset({408, 425, 429})
# Ret codes a caller should retry with backoff; everything else non-zero (incl. invented 4005/4006) is permanent.
_TRANSIENT_RETS = frozenset({int(Ret.BUSY), int(Ret.SYSTEM)})


class _Facts(TypedDict):
    """What a ClientError carries about the exchange that failed (its keyword arguments)."""

    interface: str
    ret: int | None
    msg: str | None
    http_status: int | None


# requests exceptions that mean our configuration is wrong, so retrying cannot help.
_CONFIG_ERRORS = (
    requests.exceptions.InvalidURL,
    requests.exceptions.MissingSchema,
    requests.exceptions.InvalidSchema,
    requests.exceptions.InvalidHeader,
)


@dataclass(frozen=True, slots=True)
class ExchangeRecord:
    """One HTTP exchange as the journal stores it (plaintexts, with credentials redacted)."""

    interface: str
    url: str
    timestamp: str
    seq: str
    request: dict[str, Any]
    response: dict[str, Any] | None
    ret: int | None
    msg: str | None
    http_status: int | None
    latency_ms: float
    error: str | None


class TokenStore(Protocol):
    """Where access tokens live; `lock(key)` serialises refreshes (the Django side backs it with cache/DB locks)."""

    def get(self, key: str) -> tuple[str, datetime] | None: ...

    def set(self, key: str, token: str, expires_at: datetime) -> None: ...

    def delete(self, key: str) -> None: ...

    def lock(self, key: str) -> AbstractContextManager[object]: ...


class MemoryTokenStore:
    """Thread-safe in-process TokenStore (tests, simulator, single-process tools)."""

    def __init__(self) -> None:
        self._tokens: dict[str, tuple[str, datetime]] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, key: str) -> tuple[str, datetime] | None:
        with self._guard:
            return self._tokens.get(key)

    def set(self, key: str, token: str, expires_at: datetime) -> None:
        with self._guard:
            self._tokens[key] = (token, expires_at)

    def delete(self, key: str) -> None:
        with self._guard:
            self._tokens.pop(key, None)

    @contextmanager
    def lock(self, key: str) -> Iterator[None]:
        with self._guard:
            key_lock = self._locks.setdefault(key, threading.Lock())
        with key_lock:
            yield


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class _Sent:
    record: ExchangeRecord
    result: dict[str, Any] | None
    error: ClientError | None


class Pending:
    """A `PeerClient.call_later` on its way; `result()` waits for it and answers as `call` would."""

    def __init__(
        self,
        client: PeerClient,
        interface: str,
        payload: Mapping[str, Any],
        token: str,
        then: Callable[[dict[str, Any]], Any] | None = None,
    ) -> None:
        self._client, self._interface, self._payload, self._token = client, interface, payload, token
        self._then = then
        self._prepared: Any = None
        self._taken = False
        self._sent: _Sent | None = None
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=f"call_later {interface}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._sent = sent = self._client._send(self._interface, self._payload, self._token)
            if self._then is not None and sent.error is None:
                self._prepared = self._then(sent.result if sent.result is not None else {})
        except BaseException as exc:  # a bug, not the peer: handed to result(), which raises it where it is seen
            self._failure = exc

    def result(self) -> Any:
        """Wait for the exchange; journal it; Data for Ret 0 (with `then`'s outcome), else the ClientError (after
        one token renewal, whose answer `then` is applied to here)."""
        if self._taken:
            raise RuntimeError("result() of this call was already taken (its exchange is journalled once)")
        self._taken = True
        self._thread.join()
        client = self._client
        if client._pending is self:
            client._pending = None
        if self._failure is not None:
            raise self._failure
        sent = self._sent
        assert sent is not None  # _run sets one of the two
        try:
            data, prepared = client._settle(sent), self._prepared
        except TokenRejected:
            data = client._resend(self._interface, self._payload, rejected=self._token)
            prepared = self._then(data) if self._then is not None else None  # the resend's answer, checked here
        return data if self._then is None else (data, prepared)


class PeerClient:
    """Calls one peer: `call(interface, payload)` returns the decrypted Data dict or raises a ClientError subclass.

    `operator_id` is the portal's own 9-char ID (the envelope OperatorID); `keys` is the key set the PEER issued.
    Transient failures are not retried here: the caller (a Celery task) owns the backoff schedule. The one retry done
    here is the protocol's own: after Ret 4002, re-authenticate and resend once.
    """

    def __init__(
        self,
        base_url: str,
        operator_id: str,
        keys: KeySet,
        token_store: TokenStore,
        *,
        connect_timeout: float = 5.0,
        read_timeout: float = 20.0,
        session: requests.Session | None = None,
        on_exchange: Callable[[ExchangeRecord], None] | None = None,
        dialect: Dialect = STANDARD,
        refresh_margin: float = 60.0,
        token_key: str | None = None,
        seq_generator: SeqGenerator | None = None,
        clock: Callable[[], datetime] = _utcnow,
        public_only: bool = False,
    ) -> None:
        self.base_url = base_url.rstrip("/") + "/"
        self.operator_id = operator_id
        self.keys = keys
        self.token_store = token_store
        self.timeout = (connect_timeout, read_timeout)
        self._own_session = session is None
        # public_only: every connection of the client's own session checks the address it connects to
        # (apps/protocol/addresses.py); the portal's client to operators sets it, tests and the simulator do not.
        self.session = session if session is not None else peer_session(public_only=public_only)
        self.on_exchange = on_exchange
        self.dialect = dialect
        self.refresh_margin = timedelta(seconds=refresh_margin)
        # Default key: our identity at this peer URL — one token per direction of one partnership.
        self.token_key = token_key or f"{operator_id}@{self.base_url}"
        # None → the process-wide generator, so (TimeStamp, Seq) stays unique across every client in this process.
        self.seq_generator = seq_generator
        self.clock = clock
        self._pending: Pending | None = None
        # Exchanges made while the token store's lock is held, journalled once it is released (see _token_lock).
        self._held: list[ExchangeRecord] | None = None

    # -- public API -----------------------------------------------------------------------------------------------

    def url(self, interface: str) -> str:
        return self.base_url + interface.lstrip("/")

    def call(self, interface: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        """POST a business interface with the cached token; on Ret 4002 re-authenticate and resend exactly once."""
        token = self._begin(interface)
        try:
            return self._exchange(interface, payload, token)
        except TokenRejected:
            return self._resend(interface, payload, rejected=token)

    def call_later(
        self, interface: str, payload: Mapping[str, Any], *, then: Callable[[dict[str, Any]], Any] | None = None
    ) -> Pending:
        """`call`, started now and finished by `result()`: the HTTP exchange, the answer's Sig check, decryption and
        parse run on a background thread, while the caller goes on (a crawl writes one page while the next is on
        the wire). The journal, the token renewal after Ret 4002 and any error happen in `result()`, on the
        caller's thread, in the order of the calls. One call at a time: the client refuses another until then.

        `then`, a pure function of a Ret 0 answer's Data (no database, no shared state), also runs on that thread;
        `result()` then answers (Data, what `then` returned) — a crawl checks a page's records there."""
        token = self._begin(interface)
        self._pending = Pending(self, interface, payload, token, then)
        return self._pending

    def _begin(self, interface: str) -> str:
        """The checks before any business call, and the token it goes with."""
        if self._pending is not None:
            raise RuntimeError("this client has a call_later() whose result() was not taken yet")
        if interface == QUERY_TOKEN:
            raise ValueError("use authenticate() for query_token")
        return self._current_token()

    def _resend(self, interface: str, payload: Mapping[str, Any], *, rejected: str) -> dict[str, Any]:
        """After Ret 4002 with `rejected`: one resend with a fresh token."""
        token = self._replace_token(rejected=rejected)
        try:
            return self._exchange(interface, payload, token)
        except TokenRejected as exc:
            self._discard(token)  # the next call starts with a fresh query_token instead of this dead token
            raise TokenRejected(
                f"{interface}: Ret 4002 again right after a fresh query_token",
                interface=interface,
                ret=exc.ret,
                msg=exc.msg,
                http_status=exc.http_status,
            ) from exc

    def authenticate(self) -> tuple[str, datetime]:
        """Call query_token; return (AccessToken, expires_at UTC). SuccStat=1 raises TokenRejected with FailReason."""
        payload = {"OperatorID": self.operator_id, "OperatorSecret": self.keys.operator_secret}
        data = self._exchange(QUERY_TOKEN, payload, None)

        def fail(text: str) -> PermanentError:
            return PermanentError(f"query_token: {text}", interface=QUERY_TOKEN, ret=0)

        if data.get("SuccStat") != 0:
            reason = data.get("FailReason")
            label = TokenFailReason.describe(reason)
            raise TokenRefused(
                f"query_token refused: SuccStat={data.get('SuccStat')!r}, FailReason={reason!r} ({label})",
                fail_reason=reason,
                interface=QUERY_TOKEN,
                ret=0,
            )
        token = data.get("AccessToken")
        if not isinstance(token, str) or not token.strip():
            raise fail("AccessToken missing or blank")
        ttl = data.get("TokenAvailableTime")
        if isinstance(ttl, Decimal) and ttl == ttl.to_integral_value():
            ttl = int(ttl)
        if not isinstance(ttl, int) or isinstance(ttl, bool) or ttl < 0:
            raise fail(f"TokenAvailableTime must be a non-negative integer, got {ttl!r}")
        return token, self.clock() + timedelta(seconds=min(ttl, MAX_TOKEN_SECONDS))

    def close(self) -> None:
        if self._own_session:
            self.session.close()

    def __enter__(self) -> PeerClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- tokens ---------------------------------------------------------------------------------------------------

    def _is_fresh(self, cached: tuple[str, datetime] | None) -> bool:
        return cached is not None and cached[1] - self.refresh_margin > self.clock()

    def _fetch_and_store(self) -> str:
        token, expires_at = self.authenticate()
        self.token_store.set(self.token_key, token, expires_at)
        return token

    @contextmanager
    def _token_lock(self) -> Iterator[None]:
        """The token store's lock, with the journal of the query_token made under it written after its release: a
        store may lock with a database transaction, which rolls back when the query_token fails and would take that
        exchange's journal row with it — and the failures are the rows the journal is for."""
        outer = self._held
        held: list[ExchangeRecord] = []
        self._held = held
        try:
            with self.token_store.lock(self.token_key):
                yield
        finally:
            self._held = outer  # inside another such block, the records wait for the outermost release
            for record in held:
                self._journal(record)

    def _current_token(self) -> str:
        cached = self.token_store.get(self.token_key)
        if cached is not None and self._is_fresh(cached):
            return cached[0]
        with self._token_lock():
            # Re-check: whoever held the lock before us has probably just stored a fresh token.
            cached = self.token_store.get(self.token_key)
            if cached is not None and self._is_fresh(cached):
                return cached[0]
            return self._fetch_and_store()

    def _replace_token(self, *, rejected: str) -> str:
        with self._token_lock():
            cached = self.token_store.get(self.token_key)
            if cached is not None and cached[0] != rejected and self._is_fresh(cached):
                return cached[0]  # another worker already re-authenticated after the same 4002
            self.token_store.delete(self.token_key)
            return self._fetch_and_store()

    def _discard(self, token: str) -> None:
        with self._token_lock():
            cached = self.token_store.get(self.token_key)
            if cached is not None and cached[0] == token:
                self.token_store.delete(self.token_key)

    # -- one HTTP exchange ----------------------------------------------------------------------------------------

    def _exchange(self, interface: str, payload: Mapping[str, Any], token: str | None) -> dict[str, Any]:
        """Send one envelope, journal it, return Data (or {}) for Ret 0, raise the mapped ClientError otherwise."""
        return self._settle(self._send(interface, payload, token))

    def _send(self, interface: str, payload: Mapping[str, Any], token: str | None) -> _Sent:
        """The exchange itself, up to the decrypted answer: nothing journalled, nothing raised (the error is kept)."""
        url = self.url(interface)
        envelope = build_request(self.operator_id, encode_payload(payload), self.keys, seq_generator=self.seq_generator)
        headers = {"Content-Type": "application/json;charset=utf-8"}
        if token is not None:  # query_token is the only call without Authorization (§2)
            headers["Authorization"] = f"Bearer {token}"

        http_status: int | None = None
        ret: int | None = None
        msg: str | None = None
        result: dict[str, Any] | None = None
        error: ClientError | None = None
        content = b""
        started = time.perf_counter()
        try:
            # No redirects: a peer that answers 3xx would have the portal re-POST its envelope wherever it likes.
            response = self.session.post(
                url, data=envelope.to_json(), headers=headers, timeout=self.timeout, allow_redirects=False
            )
            content = response.content
            http_status = response.status_code
            if 300 <= http_status < 400:
                location = response.headers.get("Location", "")[:200]
                error = PermanentError(
                    f"{interface}: HTTP {http_status} redirect to {location!r} refused (no redirect is followed)",
                    interface=interface,
                    http_status=http_status,
                )
        except AddressRefused as exc:
            error = PermanentError(f"{interface}: {exc}", interface=interface)
        except _CONFIG_ERRORS as exc:
            error = PermanentError(f"{interface}: bad peer URL {url!r}: {exc}", interface=interface)
        except requests.RequestException as exc:
            # Timeouts, refused connections, resets, truncated bodies: the peer may well answer next time.
            error = TransientError(f"{interface}: {type(exc).__name__}: {exc}", interface=interface)
        latency_ms = (time.perf_counter() - started) * 1000.0

        if error is None:
            ret, msg, result, error = self._interpret(interface, content, http_status)
        record = ExchangeRecord(
            interface=interface,
            url=url,
            timestamp=envelope.timestamp,
            seq=envelope.seq,
            # Credentials must not end up in the exchange journal, which regulators and operators can read.
            request=redact_secrets(dict(payload)),
            response=redact_secrets(result),
            ret=ret,
            msg=msg,
            http_status=http_status,
            latency_ms=latency_ms,
            error=str(error) if error is not None else None,
        )
        return _Sent(record, result, error)

    def _settle(self, sent: _Sent) -> dict[str, Any]:
        """Journal a sent exchange, then answer its Data (or {}) or raise its error."""
        self._journal(sent.record)
        if sent.error is not None:
            raise sent.error
        return sent.result if sent.result is not None else {}

    def _interpret(
        self, interface: str, content: bytes, http_status: int | None
    ) -> tuple[int | None, str | None, dict[str, Any] | None, ClientError | None]:
        """Turn an HTTP answer into (Ret, Msg, Data, error) — error None only for a verified Ret 0."""
        try:
            envelope = parse_response(content, dialect=self.dialect)
        except EnvelopeError:
            # No envelope at all: a proxy/gateway page or a crash. Decide on the HTTP status alone.
            status = http_status or 0
            text = f"{interface}: HTTP {status} without a protocol envelope"
            if status >= 500 or status in _TRANSIENT_HTTP:
                return None, None, None, TransientError(text, interface=interface, http_status=http_status)
            return None, None, None, UnverifiedAnswer(text, interface=interface, http_status=http_status)

        ret, msg = envelope.ret, envelope.msg
        facts = _Facts(interface=interface, ret=ret, msg=msg, http_status=http_status)
        try:
            result = open_response(envelope, self.keys, dialect=self.dialect)
        except SignatureError:
            # An unsigned answer cannot be trusted, not even its Ret: report it as a configuration problem.
            return ret, msg, None, UnverifiedAnswer(f"{interface}: bad response Sig (Ret {ret})", **facts)
        except ProtocolError as exc:  # DecryptError (4003) or a non-object plaintext (4004)
            return ret, msg, None, UnverifiedAnswer(f"{interface}: undecryptable response Data: {exc.msg}", **facts)

        if ret == Ret.OK:
            return ret, msg, result, None
        text = f"{interface}: Ret {ret} {msg}"
        if ret == Ret.TOKEN:
            return ret, msg, result, TokenRejected(text, **facts)
        if ret in _TRANSIENT_RETS:
            return ret, msg, result, TransientError(text, **facts)
        return ret, msg, result, PermanentError(text, **facts)

    def _journal(self, record: ExchangeRecord) -> None:
        if self.on_exchange is None:
            return
        if self._held is not None:
            self._held.append(record)
            return
        try:
            self.on_exchange(record)
        except Exception:
            # A journal failure must not change the protocol outcome: re-raising here would make a caller
            # resend a call (e.g. query_start_charge) that the peer has already executed.
            logger.exception("on_exchange failed for %s", record.interface)
