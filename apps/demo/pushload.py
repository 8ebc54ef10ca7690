"""The status-push benchmark's Django-free parts: the floor (a bare WSGI app doing a push's work) and the load.

`floor_app` is what `hlht_bench_push` measures the portal against: the same work per push with nothing of a
framework around it — verify Sig, check the TimeStamp window, check the Bearer token, mark the envelope seen,
decrypt, insert the history row and upsert the current status in one statement, write the journal row in the same
transaction, then encrypt and sign the answer. It speaks to the portal's own tables through psycopg2; its settings
come from the environment (HLHT_FLOOR_DSN, HLHT_FLOOR_CONFIG as JSON), written by the benchmark command.

`asyncio_load` is the load generator: pre-signed requests sent over keep-alive connections (reconnecting when a
server closes them, as gunicorn's sync workers do), each answer's Ret read from its envelope.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import resource
import time
from datetime import UTC, datetime
from typing import Any

from apps.protocol.crypto import decrypt, sign_request, verify
from apps.protocol.envelope import KeySet, build_response, error_response
from apps.protocol.errors import ProtocolError, Ret
from apps.protocol.timestamps import parse_timestamp

# -- the floor -------------------------------------------------------------------------------------------------------

_state: dict[str, Any] = {}


def _floor_setup() -> dict[str, Any]:
    import psycopg2  # imported here: the load generator and the tests of this module never need it

    config = json.loads(os.environ["HLHT_FLOOR_CONFIG"])
    keys = config["keys"]
    config["keyset"] = KeySet(keys["OperatorSecret"], keys["DataSecret"], keys["DataSecretIV"], keys["SigSecret"])
    config["db"] = psycopg2.connect(os.environ["HLHT_FLOOR_DSN"])
    t = config["tables"]
    config["sql_token"] = (
        f"SELECT 1 FROM {t['token']} t JOIN {t['operator']} o ON o.operator_id = t.operator_id "  # noqa: S608
        "WHERE t.token_hash = %s AND t.operator_id = %s AND t.expires_at > now() AND o.status = ANY(%s)"
    )
    config["sql_seen"] = (
        f"INSERT INTO {t['seen']} (operator_id, timestamp, seq, sig, received_at) "  # noqa: S608
        "VALUES (%s, %s, %s, %s, now()) ON CONFLICT DO NOTHING"
    )
    columns = "connector_id, status, park_status, lock_status, status_time, source, created, updated"
    config["sql_status"] = (
        f"WITH c AS (SELECT id FROM {t['connector']} WHERE operator_id = %(op)s AND connector_id = %(cid)s "  # noqa: S608
        "FOR UPDATE), "
        f"h AS (INSERT INTO {t['history']} ({columns}) "
        "SELECT id, %(s)s, %(p)s, %(l)s, %(t)s, %(src)s, now(), now() FROM c RETURNING connector_id) "
        f"INSERT INTO {t['current']} AS cur ({columns}) "
        "SELECT connector_id, %(s)s, %(p)s, %(l)s, %(t)s, %(src)s, now(), now() FROM h "
        "ON CONFLICT (connector_id) DO UPDATE SET status = EXCLUDED.status, park_status = EXCLUDED.park_status, "
        "lock_status = EXCLUDED.lock_status, status_time = EXCLUDED.status_time, source = EXCLUDED.source, "
        "updated = EXCLUDED.updated WHERE cur.status_time <= EXCLUDED.status_time"
    )
    config["sql_journal"] = (
        f"INSERT INTO {t['journal']} (operator_id, claimed_operator_id, interface, direction, timestamp, seq, ret, "  # noqa: S608
        "msg, http_status, latency_ms, request, response, error, remote_addr, created) "
        "VALUES (%s, %s, %s, %s, %s, %s, 0, '', 200, %s, %s, %s, '', %s, now())"
    )
    return config


def _floor_push(environ: dict[str, Any], started: float) -> bytes:
    c = _state.get("config") or _state.setdefault("config", _floor_setup())
    keys: KeySet = c["keyset"]
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    envelope = json.loads(body)
    operator_id, data, timestamp, seq = (
        envelope["OperatorID"],
        envelope["Data"],
        envelope["TimeStamp"],
        envelope["Seq"],
    )
    if operator_id != c["operator_id"]:
        return error_response(ProtocolError("unknown operator", ret=Ret.PARAMETERS), None).to_json()
    if not verify(sign_request(keys.sig_secret, operator_id, data, timestamp, seq), envelope["Sig"]):
        return error_response(ProtocolError("Sig", ret=Ret.SIGNATURE), keys).to_json()
    if abs((datetime.now(UTC) - parse_timestamp(timestamp)).total_seconds()) > c["window"]:
        return error_response(ProtocolError("TimeStamp", ret=Ret.PARAMETERS), keys).to_json()
    token = environ.get("HTTP_AUTHORIZATION", "").removeprefix("Bearer ")
    db = c["db"]
    with db.cursor() as cursor:
        digest = hashlib.sha256(token.encode()).hexdigest()
        cursor.execute(c["sql_token"], (digest, operator_id, c["connected"]))
        if cursor.fetchone() is None:
            db.rollback()
            return error_response(ProtocolError("Token", ret=Ret.TOKEN), keys).to_json()
        cursor.execute(c["sql_seen"], (operator_id, timestamp, seq, envelope["Sig"].upper()))
        if cursor.rowcount != 1:
            db.rollback()
            return error_response(ProtocolError("replay", ret=Ret.PARAMETERS), keys).to_json()
        payload = json.loads(decrypt(data, keys.data_secret, keys.data_secret_iv))
        info = payload["ConnectorStatusInfo"]
        cursor.execute(
            c["sql_status"],
            {
                "op": operator_id,
                "cid": info["ConnectorID"],
                "s": info["Status"],
                "p": info.get("ParkStatus"),
                "l": info.get("LockStatus"),
                "t": parse_timestamp(timestamp),
                "src": c["source"],
            },
        )
        answer = {"Status": 0}
        cursor.execute(
            c["sql_journal"],
            (
                operator_id,
                operator_id,
                c["interface"],
                c["direction"],
                timestamp,
                seq,
                (time.perf_counter() - started) * 1000,
                json.dumps(payload),
                json.dumps(answer),
                environ.get("REMOTE_ADDR"),
            ),
        )
    db.commit()
    return build_response(Ret.OK, "", answer, keys).to_json()


def floor_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """The floor as a WSGI application (served by gunicorn like the portal)."""
    started = time.perf_counter()
    try:
        body = _floor_push(environ, started)
    except Exception as exc:  # the floor answers like the portal does: an envelope, never a traceback
        if "config" in _state:
            _state["config"]["db"].rollback()
        body = error_response(ProtocolError(f"{type(exc).__name__}: {exc}", ret=Ret.SYSTEM), None).to_json()
    start_response("200 OK", [("Content-Type", "application/json;charset=utf-8"), ("Content-Length", str(len(body)))])
    return [body]


# -- the load --------------------------------------------------------------------------------------------------------


def http_request(host: str, port: int, path: str, body: bytes, token: str) -> bytes:
    """One pre-built HTTP/1.1 request, sent as it is."""
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json;charset=utf-8\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("ascii") + body


async def _connection(
    host: str,
    port: int,
    requests: list[bytes],
    position: list[int],
    deadline: float,
    latencies: list[float],
    rets: dict[int, int],
) -> None:
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    while position[0] < len(requests) and time.perf_counter() < deadline:
        request = requests[position[0]]
        position[0] += 1
        began = time.perf_counter()
        try:
            if reader is None or writer is None:  # set and cleared together
                reader, writer = await asyncio.open_connection(host, port)
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length, close = 0, False
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"connection" and value.strip().lower() == b"close":
                    close = True
            answer = await reader.readexactly(length)
            ret = json.loads(answer).get("Ret", -999)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            ret, close = -998, True  # a transport failure: counted, never mistaken for an answer
        latencies.append((time.perf_counter() - began) * 1000)
        rets[ret] = rets.get(ret, 0) + 1
        if close and writer is not None:
            writer.close()
            reader = writer = None
    if writer is not None:
        writer.close()


def asyncio_load(host: str, port: int, requests: list[bytes], connections: int, duration: float) -> dict[str, Any]:
    """Send `requests` in order over `connections` concurrent connections until they run out or `duration` ends."""

    async def main() -> float:
        position, deadline = [0], time.perf_counter() + duration
        began = time.perf_counter()
        await asyncio.gather(
            *(_connection(host, port, requests, position, deadline, latencies, rets) for _ in range(connections))
        )
        return time.perf_counter() - began

    latencies: list[float] = []
    rets: dict[int, int] = {}
    usage = resource.getrusage(resource.RUSAGE_SELF)
    elapsed = asyncio.run(main())
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = after.ru_utime + after.ru_stime - usage.ru_utime - usage.ru_stime
    return {"elapsed_s": elapsed, "latencies": latencies, "rets": rets, "cpu_s": cpu}


# wrk (Debian's package) with pre-signed bodies, one per line of HLHT_WRK_BODIES; each thread takes every n-th line,
# so no two threads send the same envelope. An answer counts as Ret 0 only when its envelope says so.
WRK_SCRIPT = r"""
local threads = {}
local counter = 0
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end
function init(args)
  local id, n = wrk.thread:get("id"), tonumber(os.getenv("HLHT_WRK_THREADS"))
  bodies, position, ok, other = {}, 0, 0, 0
  local i = 0
  for line in io.lines(os.getenv("HLHT_WRK_BODIES")) do
    if i % n == id then table.insert(bodies, line) end
    i = i + 1
  end
  headers = {["Content-Type"] = "application/json;charset=utf-8",
             ["Authorization"] = "Bearer " .. os.getenv("HLHT_WRK_TOKEN")}
end
function request()
  position = position % #bodies + 1
  return wrk.format("POST", os.getenv("HLHT_WRK_PATH"), headers, bodies[position])
end
function response(status, headers, body)
  if string.find(body, '"Ret":0,', 1, true) then ok = ok + 1 else other = other + 1 end
  wrk.thread:set("ok", ok)
  wrk.thread:set("other", other)
  wrk.thread:set("sent", position)
end
function done(summary, latency, requests)
  local ok, other, sent = 0, 0, 0
  for _, thread in ipairs(threads) do
    ok = ok + (thread:get("ok") or 0)
    other = other + (thread:get("other") or 0)
  end
  local e = summary.errors
  io.write(string.format('HLHT {"ok": %d, "other": %d, "requests": %d, "duration_us": %d, "errors": %d, '
                         .. '"p50_us": %d, "p95_us": %d, "p99_us": %d}\n',
    ok, other, summary.requests, summary.duration, e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"""
