"""A tiny threaded T/CEC 102 peer (query_token + echo) built on the codec itself, scriptable to misbehave."""

from __future__ import annotations

import threading
import time
import uuid
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from apps.protocol import (
    BusinessError,
    BusyError,
    InternalError,
    KeySet,
    now,
)
from apps.protocol.names import Interface
from apps.protocol.receive import Caller, Pipeline, Request, Route

# Modes a test can queue for the next business calls (query_token is steered by `token_mode`):
#   ok        echo the payload back as {"Echo": payload}
#   4002      Ret 4002 whatever the token          busy     Ret -1 with encrypted {}
#   500       Ret 500, Data ""                      4004     Ret 4004
#   badsig    a correct answer with a wrong Sig     garbage  HTTP 200 with a non-JSON body
#   http502   HTTP 502 with an HTML page            http404  HTTP 404 with an HTML page
#   sleep     sleep `sleep_seconds`, then answer (the client should have timed out)


@dataclass
class Seen:
    """One request as the peer received it."""

    interface: str
    path: str
    headers: dict[str, str]
    payload: dict[str, Any] | None


@dataclass
class PeerState:
    keys: KeySet
    operator_id: str
    token_ttl: int = 7200
    token_mode: str = "ok"  # ok | fail
    token_delay: float = 0.0
    sleep_seconds: float = 1.0
    modes: deque[str] = field(default_factory=deque)
    seen: list[Seen] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)
    replay_marks: set[tuple[str, str, str, str]] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def calls(self, interface: str) -> list[Seen]:
        with self.lock:
            return [s for s in self.seen if s.interface == interface]

    def next_mode(self) -> str:
        with self.lock:
            return self.modes.popleft() if self.modes else "ok"


class _Handler(BaseHTTPRequestHandler):
    server: _PeerHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep pytest output clean

    def _send(self, status: int, body: bytes, content_type: str = "application/json;charset=utf-8") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        state = self.server.state
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        interface = self.path.rstrip("/").rsplit("/", 1)[-1]
        mode = state.next_mode() if interface != Interface.QUERY_TOKEN else "ok"
        if mode in ("http502", "http404", "garbage"):
            self._record(interface, None)
            if mode == "garbage":
                self._send(200, b"OK")
            else:
                status = 502 if mode == "http502" else 404
                self._send(status, f"<html><body><h1>{status}</h1></body></html>".encode(), "text/html")
            return
        if mode == "sleep":
            time.sleep(state.sleep_seconds)
        request = Request("POST", interface, body, self.headers.get("Authorization"))
        reception = _pipeline(state, mode).receive(request)
        self._record(interface, reception.request)
        answer = reception.envelope
        if mode == "badsig" and reception.ok:
            answer = type(answer)(answer.ret, answer.msg, answer.data, "0" * 32)
        self._send(200, answer.to_json())

    def _record(self, interface: str, payload: dict[str, Any] | None) -> None:
        state = self.server.state
        with state.lock:
            state.seen.append(Seen(interface, self.path, dict(self.headers.items()), payload))


class _EveryName(Mapping[str, Route]):
    """The peer answers any interface name: query_token as the standard says, anything else per its mode."""

    def __init__(self, token: Route, business: Route) -> None:
        self.token, self.business = token, business

    def __getitem__(self, name: str) -> Route:
        return self.token if name == Interface.QUERY_TOKEN else self.business

    def __iter__(self) -> Iterator[str]:
        return iter((Interface.QUERY_TOKEN,))

    def __len__(self) -> int:
        return 1


def _pipeline(state: PeerState, mode: str) -> Pipeline:
    """The one receive pipeline with the peer's parts: any caller with the peer's keys, its tokens, the mode."""
    seen: set[tuple[str, str, str, str]] = state.replay_marks

    def first_sight(caller: Caller, envelope) -> bool:
        key = (envelope.operator_id, envelope.wire_timestamp, envelope.seq, envelope.sig.upper())
        with state.lock:
            if key in seen:
                return False
            seen.add(key)
            return True

    def token_valid(caller: Caller, token: str) -> bool:
        with state.lock:
            return mode != "4002" and token in state.tokens

    def query_token(ctx, payload: dict[str, Any]) -> dict[str, Any]:
        time.sleep(state.token_delay)  # widens the window in which concurrent clients could race
        if state.token_mode == "fail" or payload.get("OperatorSecret") != state.keys.operator_secret:
            return {"OperatorID": state.operator_id, "SuccStat": 1, "AccessToken": "", "TokenAvailableTime": 0,
                    "FailReason": 2}  # fmt: skip
        token = uuid.uuid4().hex
        with state.lock:
            state.tokens.append(token)
        return {
            "OperatorID": payload.get("OperatorID"),
            "SuccStat": 0,
            "AccessToken": token,
            "TokenAvailableTime": state.token_ttl,
            "FailReason": 0,
        }

    def business(ctx, payload: dict[str, Any]) -> dict[str, Any]:
        if mode == "busy":
            raise BusyError()
        if mode == "500":
            raise InternalError()
        if mode == "4004":
            raise BusinessError("缺少ConnectorID")
        return {"Echo": payload}

    return Pipeline(
        callers=lambda operator_id, fresh: Caller(operator_id=operator_id, keysets=(state.keys,)),
        routes=_EveryName(
            Route(Interface.QUERY_TOKEN, query_token, token_required=False), Route("*", business, token_required=True)
        ),
        tokens=token_valid,
        replay=first_sight,
        clock=now,
        window=lambda: 300,
        busy_data={},
    )


class _PeerHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: PeerState) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = state

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that timed out leaves a broken pipe behind; that is the scenario, not a failure


class PeerServer:
    """Context manager running the peer on 127.0.0.1 in a background thread."""

    def __init__(self, keys: KeySet, operator_id: str = "PEER00001") -> None:
        self.state = PeerState(keys=keys, operator_id=operator_id)
        self._server = _PeerHTTPServer(self.state)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/evcs/v1/"

    def __enter__(self) -> PeerServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
