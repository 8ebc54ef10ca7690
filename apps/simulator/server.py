"""The simulator's HTTP side: the portal's strict receive pipeline, answer faults and dialects, on stdlib http.server.

Order (as the portal's own server): envelope fields (4003) → caller known (4003, unsigned) → Sig (4001) →
interface known (4003) → token (4002) → TimeStamp window (4003) → replay (4003) → answer faults → decrypt (4003)
→ business fields (4004) → handler. Always HTTP 200 with a JSON envelope; 500 for anything unexpected.
"""

from __future__ import annotations

import json
import logging
import socketserver
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from apps.interconnect.protocol import (
    BusyError,
    Dialect,
    EnvelopeError,
    InternalError,
    KeySet,
    ParameterError,
    ProtocolError,
    ResponseEnvelope,
    Ret,
    TokenError,
    build_response,
    error_response,
    open_request,
    parse_authorization,
    parse_request,
    schema,
    verify_request,
)

from .handlers import INTERFACES
from .pushes import to_variant_spelling

if TYPE_CHECKING:
    from .simulator import Simulator

logger = logging.getLogger(__name__)

MAX_BODY = 2 * 1024 * 1024
JSON_TYPE = "application/json;charset=utf-8"


class Unanswered(Exception):
    """The timeout fault: hold the connection, then close it without an answer."""


@dataclass(slots=True)
class _Call:
    """What the pipeline learnt: the keys to sign with, and whether the call got past authentication."""

    interface: str
    keys: KeySet | None = None
    authenticated: bool = False


class Gateway:
    """Turns one HTTP request into the bytes of one response envelope (or None: close without answering)."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim

    def answer(self, method: str, path: str, authorization: str | None, body: bytes) -> bytes | None:
        sim = self.sim
        call = _Call(_interface(path, sim.config.base_path))
        try:
            if method != "POST":
                raise EnvelopeError("POST参数不合法，接口只接受POST请求")
            call.keys = self._keys_for(body)
            payload = self._process(call, authorization, body)
            if sim.config.dialect.service_spelling and isinstance(payload, dict):
                payload = to_variant_spelling(payload)
            envelope = build_response(Ret.OK, "", payload, sim.config.outbound)
        except Unanswered:
            return None
        except BusyError as exc:
            # Ret -1 with an encrypted {} (vector V-C5), the form most platforms send.
            envelope = build_response(exc.ret, exc.msg, {}, sim.config.outbound)
        except ProtocolError as exc:
            envelope = error_response(exc, call.keys)
        except Exception:  # the last line: a traceback goes to our log, never to the peer
            logger.exception("unexpected error answering %s", call.interface)
            envelope = error_response(InternalError(), call.keys)
        if envelope.sig:
            envelope = self._deviate(envelope, call.authenticated and call.interface != "query_token")
        return envelope.to_json()

    def refuse(self, error: ProtocolError) -> bytes:
        """An unsigned refusal for a request we would not even read (a body too large or of unknown length)."""
        return error_response(error, None).to_json()

    def _keys_for(self, body: bytes) -> KeySet | None:
        """Our outbound keys when the body claims to come from the portal (so even a refusal is signed)."""
        try:
            claimed = json.loads(body).get("OperatorID") if body else None
        except (ValueError, AttributeError, RecursionError):
            return None
        return self.sim.config.outbound if claimed == self.sim.config.portal_operator_id else None

    def _deviate(self, envelope: ResponseEnvelope, business: bool) -> ResponseEnvelope:
        sig = envelope.sig
        if business and self.sim.faults.roll("bad_sig"):
            sig = ("0" if sig[0] != "0" else "1") + sig[1:]
        if self.sim.config.dialect.lowercase_sig:
            sig = sig.lower()
        return ResponseEnvelope(envelope.ret, envelope.msg, envelope.data, sig) if sig != envelope.sig else envelope

    def _process(self, call: _Call, authorization: str | None, body: bytes) -> Any:
        sim = self.sim
        cfg = sim.config
        interface = call.interface

        def resolve(operator_id: str) -> Dialect:
            if operator_id != cfg.portal_operator_id:
                raise EnvelopeError(f"POST参数不合法，未知的运营商：{operator_id}")
            return cfg.dialect

        envelope = parse_request(body, dialect=resolve)
        verify_request(envelope, cfg.outbound)
        handler = INTERFACES.get(interface)
        if handler is None:
            raise ParameterError(f"POST参数不合法，不支持的接口：{interface or '(空)'}")
        if interface != "query_token":
            token = parse_authorization(authorization, cfg.dialect)
            if not sim.token_valid(token):
                raise TokenError("Token错误：无效或已过期")
        skew = abs((sim.wall() - envelope.time).total_seconds())
        if skew > cfg.clock_window:
            raise EnvelopeError(f"POST参数不合法，TimeStamp与平台时间相差{int(skew)}秒，超过{cfg.clock_window}秒")
        if not sim.first_sight(envelope.wire_timestamp, envelope.seq, envelope.sig):
            raise EnvelopeError("POST参数不合法，重复的请求：相同的 TimeStamp、Seq 和 Sig 已经处理过")
        call.authenticated = True
        if interface != "query_token":
            self._answer_faults()
        payload = open_request(envelope, cfg.outbound, dialect=cfg.dialect)
        # The shared part-2/3 schema first (4004 naming every bad field), then the handler's own semantic checks.
        schema.check(payload, schema.INTERFACES[interface][0])
        return handler(sim, envelope, payload)

    def _answer_faults(self) -> None:
        """Faults hit business calls only, so a client can always authenticate and meet them on the data call."""
        faults, cfg = self.sim.faults, self.sim.config
        if "slow" in faults:
            time.sleep(faults.param("slow"))
        if faults.roll("timeout"):
            time.sleep(cfg.timeout_hold)
            raise Unanswered
        if faults.roll("busy"):
            raise BusyError()
        if faults.roll("error500"):
            raise InternalError()


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

    def __init__(self, address: tuple[str, int], sim: Simulator) -> None:
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
