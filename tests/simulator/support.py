"""Test helpers: key sets, a portal stand-in that receives the simulator's pushes over HTTP, raw envelope exchanges."""

from __future__ import annotations

import json
import secrets
import threading
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests

from apps.protocol import (
    CST,
    STANDARD,
    Dialect,
    KeySet,
    MemoryTokenStore,
    PeerClient,
    ProtocolError,
    ResponseEnvelope,
    SignatureError,
    TokenError,
    build_request,
    build_response,
    error_response,
    open_request,
    open_response,
    parse_authorization,
    parse_request,
    parse_response,
    verify_request,
)
from apps.simulator.clock import SimClock
from apps.simulator.config import PORTAL_OPERATOR_ID, SimulatorConfig
from apps.simulator.faults import Faults
from apps.simulator.simulator import Simulator

SIM_ID = "123456789"
SIM2_ID = "MA0SIM002"
# inbound = the portal issued them (the simulator calls the portal); outbound = the simulator issued them.
INBOUND = KeySet("in-operator-sec1", "inDataSecret0001", "inDataSecretIV01", "in-sig-secret-01")
OUTBOUND = KeySet("out-operator-sec", "outDataSecret001", "outDataSecretIV1", "out-sig-secret-1")
INBOUND2 = KeySet("in2-operator-sec", "in2DataSecret001", "in2DataSecretIV1", "in2-sig-secret-1")
OUTBOUND2 = KeySet("out2-operator-se", "out2DataSecret01", "out2DataSecretI1", "out2-sig-secret1")
# public-information.md appendix: GB/T 2260 codes of Beijing's 16 districts.
AREA_CODES = frozenset(f"1101{n:02d}" for n in (1, 2, 5, 6, 7, 8, 9, 11, 12, 13, 14, 15, 16, 17, 18, 19))
# A Monday at 09:00 in Beijing (flat tariff until the 10:00 peak).
START = datetime(2024, 5, 20, 9, 0, 0, tzinfo=CST)


def keys_file(operator_id: str = SIM_ID, inbound: KeySet = INBOUND, outbound: KeySet = OUTBOUND) -> dict[str, Any]:
    """The JSON `operator_provision` prints for an operator."""

    def dump(keys: KeySet) -> dict[str, str]:
        return {
            "OperatorSecret": keys.operator_secret,
            "DataSecret": keys.data_secret,
            "DataSecretIV": keys.data_secret_iv,
            "SigSecret": keys.sig_secret,
        }

    return {"OperatorID": operator_id, "inbound": dump(inbound), "outbound": dump(outbound)}


def make_config(**overrides: Any) -> SimulatorConfig:
    """A quiet simulator (no walk-ins, incidents or churn) unless a test asks for activity."""
    faults = overrides.pop("faults", "")
    seed = overrides.get("seed", 1)
    values: dict[str, Any] = {
        "operator_id": SIM_ID,
        "inbound": INBOUND,
        "outbound": OUTBOUND,
        "stations": 20,
        "walkin_rate": 0.0,
        "incident_rate": 0.0,
        "churn_per_day": 0.0,
        "faults": Faults.parse(faults, seed=seed) if isinstance(faults, str) else faults,
        "timeout_hold": 1.0,
        "read_timeout": 5.0,
    }
    values.update(overrides)
    return SimulatorConfig(**values)


def make_sim(start: datetime = START, wall: Any = None, **overrides: Any) -> Simulator:
    """A started simulator on an ephemeral port, on a frozen simulated clock (tests move it with advance())."""
    kwargs: dict[str, Any] = {"clock": SimClock(start=start, speed=0)}
    if wall is not None:
        kwargs["wall"] = wall
    return Simulator(make_config(**overrides), **kwargs).start()


def portal_client(sim: Simulator, keys: KeySet = OUTBOUND, **kwargs: Any) -> PeerClient:
    """The codec's client acting as the portal (OperatorID MA01HLHT0, the keys the simulator issued)."""
    return PeerClient(sim.base_url, PORTAL_OPERATOR_ID, keys, MemoryTokenStore(), **kwargs)


def usable(sim: Simulator, count: int = 1) -> list[str]:
    """IDs of idle connectors at stations in service, one per station (so they never share a station)."""
    found = [
        st.equipments[0].connectors[0].id
        for st in sim.directory.stations
        if st.in_service and st.equipments[0].connectors[0].status == 1
    ]
    assert len(found) >= count, "not enough stations in service"
    return found[:count]


def serial(n: int, prefix: str = PORTAL_OPERATOR_ID) -> str:
    """A 27-char serial number of the portal's (its StartChargeSeq, EquipAuthSeq…)."""
    return f"{prefix}{n:018d}"


@dataclass
class Raw:
    """One raw exchange: what came back over HTTP, and the Data plaintext when it could be opened."""

    status: int
    content_type: str
    envelope: ResponseEnvelope
    data: dict[str, Any] | None


def exchange(
    sim: Simulator,
    interface: str,
    payload: dict[str, Any] | str,
    *,
    token: str | None = None,
    operator_id: str = PORTAL_OPERATOR_ID,
    keys: KeySet = OUTBOUND,
    body: dict[str, Any] | bytes | None = None,
    method: str = "POST",
    timestamp: str | None = None,
    seq: str | None = None,
    authorization: str | None = None,
) -> Raw:
    """Send one hand-built envelope (or `body` verbatim) and open the answer with the simulator's outbound keys."""
    if body is None:
        kwargs = {"timestamp": timestamp, "seq": seq} if timestamp else {}
        body = build_request(operator_id, payload, keys, **kwargs).to_dict()
    raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json;charset=utf-8"}
    if authorization is not None:
        headers["Authorization"] = authorization
    elif token is not None:
        headers["Authorization"] = f"Bearer {token}"
    response = requests.request(method, sim.base_url + interface, data=raw, headers=headers, timeout=10)
    envelope = parse_response(response.content)
    data = None
    if envelope.sig and envelope.data:
        try:
            data = open_response(envelope, OUTBOUND)
        except SignatureError:  # the bad_sig fault: the caller checks the envelope itself
            data = None
    return Raw(response.status_code, response.headers.get("Content-Type", ""), envelope, data)


def token_for(sim: Simulator) -> str:
    client = portal_client(sim)
    try:
        return client.authenticate()[0]
    finally:
        client.close()


# ----------------------------------------------------------------------------------------------------------------------
# The portal stand-in: query_token + notification_* + check_charge_orders, over real HTTP, verifying every envelope.
# ----------------------------------------------------------------------------------------------------------------------


@dataclass
class Received:
    """One push as the stand-in received it."""

    operator_id: str
    interface: str
    headers: dict[str, str]
    envelope: dict[str, Any]
    payload: dict[str, Any] | None
    ret: int


def default_answer(interface: str, payload: dict[str, Any]) -> dict[str, Any]:
    """What a well-behaved portal answers to each push."""
    seq = payload.get("StartChargeSeq", "")
    if interface == "notification_stationStatus":
        return {"Status": 0}
    if interface in ("notification_start_charge_result", "notification_stop_charge_result"):
        return {"StartChargeSeq": seq, "SuccStat": 0, "FailReason": 0}
    if interface == "notification_equip_charge_status":
        return {"StartChargeSeq": seq, "SuccStat": 0}
    if interface in ("notification_charge_order_info", "notification_charge_order_info_for_bonus"):
        return {"StartChargeSeq": seq, "ConnectorID": payload.get("ConnectorID", ""), "ConfirmResult": 0}
    if interface == "check_charge_orders":
        return {
            "CheckOrderSeq": payload.get("CheckOrderSeq", ""),
            "StartTime": payload.get("StartTime", ""),
            "EndTime": payload.get("EndTime", ""),
            "TotalDisputeOrder": 0,
            "TotalDisputePower": Decimal("0.0000"),
            "TotalDisputeMoney": Decimal("0.00"),
            "DisputeOrders": [],
        }
    raise KeyError(interface)


@dataclass
class Partner:
    keys: KeySet
    dialect: Dialect = STANDARD
    tokens: set[str] = field(default_factory=set)


class Receiver:
    """Runs on 127.0.0.1:0; `script(interface, *answers)` queues special answers: an int is a Ret, a dict is Data."""

    def __init__(self) -> None:
        self.partners: dict[str, Partner] = {SIM_ID: Partner(INBOUND), SIM2_ID: Partner(INBOUND2)}
        self.received: list[Received] = []
        self.token_calls: defaultdict[str, int] = defaultdict(int)
        self.window = 300
        self._scripts: defaultdict[str, deque[int | dict[str, Any]]] = defaultdict(deque)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _ReceiverHandler)
        self._server.daemon_threads = True
        self._server.receiver = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/evcs/v1/"

    def start(self) -> Receiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def script(self, interface: str, *answers: int | dict[str, Any]) -> None:
        with self._lock:
            self._scripts[interface].extend(answers)

    def speak(self, operator_id: str, dialect: Dialect) -> None:
        self.partners[operator_id].dialect = dialect

    def pushes(self, interface: str | None = None, *, ok_only: bool = True) -> list[Received]:
        with self._lock:
            return [
                r
                for r in self.received
                if r.interface != "query_token"
                and (interface is None or r.interface == interface)
                and (not ok_only or r.ret == 0)
            ]

    def payloads(self, interface: str) -> list[dict[str, Any]]:
        return [r.payload for r in self.pushes(interface) if r.payload is not None]

    def clear(self) -> None:
        with self._lock:
            self.received.clear()

    # -- request handling ---------------------------------------------------------------------------------------------

    def handle(self, interface: str, headers: dict[str, str], body: bytes) -> bytes:
        partner: Partner | None = None
        envelope_dict: dict[str, Any] = {}
        payload: dict[str, Any] | None = None
        operator_id = ""
        try:
            envelope_dict = json.loads(body)
            operator_id = str(envelope_dict.get("OperatorID", ""))
            partner = self.partners.get(operator_id)
            dialect = partner.dialect if partner else STANDARD
            envelope = parse_request(body, dialect=dialect)
            if partner is None:
                raise ProtocolError("unknown operator", ret=4003)
            verify_request(envelope, partner.keys)
            if interface != "query_token":
                token = parse_authorization(headers.get("Authorization"), dialect)
                if token not in partner.tokens:
                    raise TokenError()
            skew = abs((datetime.now(CST) - envelope.time).total_seconds())
            if skew > self.window:
                raise ProtocolError(f"TimeStamp off by {int(skew)} s", ret=4003)
            payload = open_request(envelope, partner.keys, dialect=dialect)
            answer = self._answer(operator_id, partner, interface, payload)
        except ProtocolError as exc:
            answer = error_response(exc, partner.keys if partner else None)
        with self._lock:
            self.received.append(Received(operator_id, interface, headers, envelope_dict, payload, answer.ret))
        return answer.to_json()

    def _answer(self, operator_id: str, partner: Partner, interface: str, payload: dict[str, Any]) -> ResponseEnvelope:
        if interface == "query_token":
            with self._lock:
                self.token_calls[operator_id] += 1
            if payload.get("OperatorSecret") != partner.keys.operator_secret:
                data = {"OperatorID": operator_id, "SuccStat": 1, "AccessToken": "", "TokenAvailableTime": 0}
                return build_response(0, "", data | {"FailReason": 2}, partner.keys)
            token = secrets.token_hex(16)
            partner.tokens.add(token)
            data = {"OperatorID": operator_id, "SuccStat": 0, "AccessToken": token, "TokenAvailableTime": 7200}
            return build_response(0, "", data | {"FailReason": 0}, partner.keys)
        with self._lock:
            scripted = self._scripts[interface].popleft() if self._scripts[interface] else None
        if isinstance(scripted, int):
            return build_response(scripted, "scripted", None, partner.keys)
        data = default_answer(interface, payload)
        if isinstance(scripted, dict):
            data.update(scripted)
        return build_response(0, "", data, partner.keys)


class _ReceiverHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else every answer waits ~40 ms for a delayed ACK

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        interface = self.path.rstrip("/").rsplit("/", 1)[-1]
        answer = self.server.receiver.handle(interface, dict(self.headers.items()), body)  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", "application/json;charset=utf-8")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


def settle(sim: Simulator, seconds: float = 0.0) -> None:
    """Advance simulated time event by event (so pushes and retries go out in order) and wait for each to be sent."""
    target = sim.clock.time() + seconds
    while True:
        assert sim.flush(10), "pushes did not drain"
        due = sim.next_due()
        current = sim.clock.time()
        if due is None or due > target:
            if target > current:
                sim.advance(target - current)
                assert sim.flush(10), "pushes did not drain"
            return
        sim.advance(max(0.0, due - current))
