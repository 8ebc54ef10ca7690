"""The simulator's HTTP side: the one receive pipeline (apps/protocol/receive.py) on stdlib http.server, with answer
faults and dialects.

The pipeline's order holds here as in the portal; the simulator's own parts are in memory: the portal is its only
caller, tokens and replay marks live in the Simulator, and answer faults strike once a business call is
authenticated, before its Data is decrypted. Always HTTP 200 with a JSON envelope; 500 for anything unexpected.
"""

from __future__ import annotations

import json
import logging
import socketserver
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from apps.protocol import (
    BusyError,
    EnvelopeError,
    InternalError,
    ProtocolError,
    ResponseEnvelope,
    SignatureError,
    error_response,
    schema,
    sign_request,
    verify,
)
from apps.protocol.envelope import REQUEST_FIELDS
from apps.protocol.names import Interface
from apps.protocol.receive import Caller, NoAnswer, Pipeline, Request, Route

from .handlers import INTERFACES
from .platform import Platform
from .pushes import to_variant_spelling

logger = logging.getLogger(__name__)

MAX_BODY = 2 * 1024 * 1024
JSON_TYPE = "application/json;charset=utf-8"


def _route(sim: Platform, name: str) -> Route:
    request_struct = schema.INTERFACES[name][0] if name in schema.INTERFACES else None  # the test hook has none

    def validate(payload: dict[str, Any]) -> None:
        # The shared part-2/3 schema first (4004 naming every bad field), then the handler's own semantic checks.
        if request_struct is not None:
            schema.check(payload, request_struct)

    def handle(ctx: Any, payload: dict[str, Any]) -> Any:
        # Looked up per call, so a test may swap a handler in the table for a misbehaving one.
        answer = INTERFACES[name](sim, ctx.envelope, payload)
        if "late_answer" in sim.faults and name != Interface.QUERY_TOKEN:
            time.sleep(sim.faults.param("late_answer"))  # carried out, answered late: a caller may die waiting
        return answer

    return Route(
        name=name,
        handler=handle,
        token_required=name != Interface.QUERY_TOKEN,
        validate=validate,
    )


class Gateway:
    """Turns one HTTP request into the bytes of one response envelope (or None: close without answering)."""

    def __init__(self, sim: Platform) -> None:
        self.sim = sim
        self._lock = threading.Lock()
        self._stops_refused = 0
        cfg = sim.config
        portal = Caller(operator_id=cfg.portal_operator_id, keysets=(cfg.outbound,), dialect=cfg.dialect)
        self.pipeline = Pipeline(
            callers=lambda operator_id, fresh: portal if operator_id == cfg.portal_operator_id else None,
            routes={name: _route(sim, name) for name in INTERFACES},
            tokens=lambda caller, token: sim.token_valid(token),
            replay=lambda caller, envelope: sim.first_sight(envelope.wire_timestamp, envelope.seq, envelope.sig),
            clock=sim.wall,
            window=lambda: cfg.clock_window,
            authenticated=self._answer_faults,
            outgoing=self._outgoing,
            busy_data={},  # Ret -1 with an encrypted {} (vector V-C5), the form most platforms send
        )

    def answer(self, method: str, path: str, authorization: str | None, body: bytes) -> bytes | None:
        request = Request(
            method=method, interface=_interface(path, self.sim.config.base_path), body=body, authorization=authorization
        )
        if self.sim.config.sig_first and not self._sig_holds(body):
            return error_response(SignatureError("签名错误"), self.sim.config.outbound).to_json()
        try:
            reception = self.pipeline.receive(request)
        except NoAnswer:
            return None
        envelope = reception.envelope
        if envelope is None:  # receive() always answers; the check only narrows the type
            return reception.body()
        if envelope.sig:
            business = reception.authenticated and request.interface != Interface.QUERY_TOKEN
            envelope = self._deviate(envelope, business)
        if self.sim.config.dialect.lowercase_keys:  # the FastAPI operator server's answers: ret, msg, data, sig
            return json.dumps({k.lower(): v for k, v in envelope.to_dict().items()}, ensure_ascii=False).encode()
        return envelope.to_json()

    def _sig_holds(self, body: bytes) -> bool:
        """`sig_first`: False only for the portal's envelope whose Sig does not match its fields as they are; anything
        else (not JSON, a field missing, another caller) goes on to the pipeline, which refuses it in its own order."""
        try:
            obj = json.loads(body)
        except ValueError:
            return True
        if not isinstance(obj, dict) or not all(isinstance(obj.get(name), str) for name in REQUEST_FIELDS):
            return True
        if obj["OperatorID"] != self.sim.config.portal_operator_id:
            return True
        keys = self.sim.config.outbound
        expected = sign_request(keys.sig_secret, obj["OperatorID"], obj["Data"], obj["TimeStamp"], obj["Seq"])
        return verify(expected, obj["Sig"])

    def refuse(self, error: ProtocolError) -> bytes:
        """An unsigned refusal for a request we would not even read (a body too large or of unknown length)."""
        return error_response(error, None).to_json()

    def _outgoing(self, caller: Caller, payload: Any) -> Any:
        if self.sim.config.dialect.service_spelling and isinstance(payload, dict):
            payload = to_variant_spelling(payload)
        if self.sim.config.dialect.lower_camel_fields and isinstance(payload, dict):
            payload = _lower_camel(payload)
        return payload

    def _deviate(self, envelope: ResponseEnvelope, business: bool) -> ResponseEnvelope:
        sig = envelope.sig
        if business and self.sim.faults.roll("bad_sig"):
            sig = ("0" if sig[0] != "0" else "1") + sig[1:]
        if self.sim.config.dialect.lowercase_sig:
            sig = sig.lower()
        return ResponseEnvelope(envelope.ret, envelope.msg, envelope.data, sig) if sig != envelope.sig else envelope

    def _answer_faults(self, request: Request, caller: Caller, route: Route) -> None:
        """Faults hit business calls only, so a client can always authenticate and meet them on the data call."""
        if route.name == Interface.QUERY_TOKEN:
            return
        faults, cfg = self.sim.faults, self.sim.config
        if route.name == Interface.QUERY_STOP_CHARGE and "down_during_stop" in faults:
            with self._lock:
                self._stops_refused += 1
                down = self._stops_refused <= faults.param("down_during_stop")
            if down:
                raise NoAnswer  # the connection is closed unanswered, as by a platform that is down
        if "slow" in faults:
            time.sleep(faults.param("slow"))
        if faults.roll("timeout"):
            time.sleep(cfg.timeout_hold)
            raise NoAnswer
        if faults.roll("busy"):
            raise BusyError()
        if faults.roll("error500"):
            raise InternalError()


def _lower_camel(value: Any) -> Any:
    """succStat, accessToken, stationInfos, connectorID: Data keys with a lower-case first letter."""
    if isinstance(value, dict):
        return {(k[:1].lower() + k[1:] if isinstance(k, str) else k): _lower_camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_lower_camel(v) for v in value]
    return value


def _interface(path: str, base_path: str) -> str:
    route = path.split("?", 1)[0]
    if not route.startswith(base_path):
        return ""
    return route[len(base_path) :].strip("/")


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.1 keep-alive: a crawl of thousands of pages reuses one connection instead of one per page.
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, the body waits for the client's delayed ACK (~40 ms).
    disable_nagle_algorithm = True
    server: SimulatorHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s %s", self.address_string(), format % args)

    def _serve(self) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        gateway = self.server.gateway
        if length < 0 or length > MAX_BODY:
            answer: bytes | None = gateway.refuse(EnvelopeError(f"请求体过大或长度未知，不能超过{MAX_BODY}字节"))
            self.close_connection = True  # the unread body would otherwise be parsed as the next request
        else:
            body = self.rfile.read(length)
            answer = gateway.answer(self.command, self.path, self.headers.get("Authorization"), body)
        if answer is None:
            self.close_connection = True
            return
        self.send_response(200)
        self.send_header("Content-Type", JSON_TYPE)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    do_POST = do_GET = do_PUT = do_DELETE = do_PATCH = _serve


class SimulatorHTTPServer(ThreadingHTTPServer):
    """Threaded stdlib server bound to the simulator's gateway."""

    daemon_threads = True
    block_on_close = False
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], sim: Platform) -> None:
        self.gateway = Gateway(sim)
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind calls socket.getfqdn(), a reverse-DNS lookup that can stall for seconds.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (the timeout fault, a benchmark stopped midway) leaves a broken pipe: not our error.
        logger.debug("connection from %s ended abnormally", client_address, exc_info=True)
