"""PeerClient against a real local HTTP peer: tokens, 4002 re-auth, error mapping, journal, concurrency."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
import requests

from apps.protocol import (
    ClientError,
    ExchangeRecord,
    KeySet,
    MemoryTokenStore,
    PeerClient,
    PermanentError,
    TokenRefused,
    TokenRejected,
    TransientError,
    UnverifiedAnswer,
)
from apps.protocol.names import TokenFailReason

from .peer_server import PeerServer
from .support import OTHER_KEYS

PORTAL_ID = "MA01H3BQ2"
PAYLOAD = {"StationIDs": ["110108000000000001"], "PageNo": 1}


@pytest.fixture
def peer() -> Iterator[PeerServer]:
    with PeerServer(OTHER_KEYS) as server:
        yield server


@pytest.fixture
def records() -> list[ExchangeRecord]:
    return []


@pytest.fixture
def make_client(peer: PeerServer, records: list[ExchangeRecord]) -> Iterator[Callable[..., PeerClient]]:
    sessions: list[requests.Session] = []

    def factory(**overrides: object) -> PeerClient:
        session = requests.Session()
        session.trust_env = False  # a proxy from the environment must not intercept 127.0.0.1
        sessions.append(session)
        options: dict[str, object] = {"read_timeout": 2.0, "session": session, "on_exchange": records.append}
        options.update(overrides)
        return PeerClient(peer.base_url, PORTAL_ID, OTHER_KEYS, MemoryTokenStore(), **options)  # type: ignore[arg-type]

    yield factory
    for session in sessions:
        session.close()


def test_token_fetched_once_and_reused(peer: PeerServer, make_client: Callable[..., PeerClient]) -> None:
    client = make_client()
    assert client.call("query_stations_info", PAYLOAD) == {"Echo": PAYLOAD}
    assert client.call("query_stations_info", {"PageNo": 2}) == {"Echo": {"PageNo": 2}}
    assert len(peer.state.calls("query_token")) == 1
    assert len(peer.state.calls("query_stations_info")) == 2


def test_headers_no_authorization_on_query_token_and_bearer_elsewhere(
    peer: PeerServer, make_client: Callable[..., PeerClient]
) -> None:
    make_client().call("query_stations_info", PAYLOAD)
    (token_call,) = peer.state.calls("query_token")
    (business_call,) = peer.state.calls("query_stations_info")
    assert "Authorization" not in token_call.headers
    assert token_call.payload == {"OperatorID": PORTAL_ID, "OperatorSecret": OTHER_KEYS.operator_secret}
    assert business_call.headers["Authorization"] == f"Bearer {peer.state.tokens[0]}"
    for call in (token_call, business_call):
        assert call.headers["Content-Type"] == "application/json;charset=utf-8"
        assert call.path.startswith("/evcs/v1/")


def test_base_url_with_or_without_trailing_slash(peer: PeerServer) -> None:
    session = requests.Session()
    session.trust_env = False
    for base in (peer.base_url, peer.base_url.rstrip("/")):
        client = PeerClient(base, PORTAL_ID, OTHER_KEYS, MemoryTokenStore(), session=session)
        assert client.url("notification_stationStatus") == peer.base_url + "notification_stationStatus"
        client.call("notification_stationStatus", {})
    paths = {c.path for c in peer.state.calls("notification_stationStatus")}
    assert paths == {"/evcs/v1/notification_stationStatus"}
    session.close()


def test_refresh_when_token_near_expiry(peer: PeerServer, make_client: Callable[..., PeerClient]) -> None:
    now = [datetime(2024, 1, 1, tzinfo=UTC)]
    client = make_client(clock=lambda: now[0])
    client.call("query_stations_info", PAYLOAD)
    now[0] += timedelta(seconds=7200 - 61)  # still more than the 60 s margin left
    client.call("query_stations_info", PAYLOAD)
    assert len(peer.state.calls("query_token")) == 1
    now[0] += timedelta(seconds=2)  # now within the margin: refresh before calling
    client.call("query_stations_info", PAYLOAD)
    assert len(peer.state.calls("query_token")) == 2
    business = peer.state.calls("query_stations_info")
    assert business[-1].headers["Authorization"] == f"Bearer {peer.state.tokens[1]}"


def test_short_lived_tokens_are_still_used_once(peer: PeerServer, make_client: Callable[..., PeerClient]) -> None:
    peer.state.token_ttl = 30  # below the refresh margin: every call re-authenticates, none loops
    client = make_client()
    client.call("query_stations_info", PAYLOAD)
    client.call("query_stations_info", PAYLOAD)
    assert len(peer.state.calls("query_token")) == 2


def test_4002_once_reauthenticates_and_retries_once(
    peer: PeerServer, make_client: Callable[..., PeerClient], records: list[ExchangeRecord]
) -> None:
    client = make_client()
    client.call("query_stations_info", PAYLOAD)
    peer.state.modes.extend(["4002"])
    assert client.call("query_stations_info", PAYLOAD) == {"Echo": PAYLOAD}
    assert len(peer.state.calls("query_token")) == 2
    assert len(peer.state.calls("query_stations_info")) == 3
    assert client.token_store.get(client.token_key)[0] == peer.state.tokens[1]  # type: ignore[index]
    assert [(r.interface, r.ret) for r in records] == [
        ("query_token", 0),
        ("query_stations_info", 0),
        ("query_stations_info", 4002),
        ("query_token", 0),
        ("query_stations_info", 0),
    ]


def test_4002_twice_raises_token_rejected_without_looping(
    peer: PeerServer, make_client: Callable[..., PeerClient]
) -> None:
    client = make_client()
    peer.state.modes.extend(["4002", "4002", "4002"])
    with pytest.raises(TokenRejected) as info:
        client.call("query_stations_info", PAYLOAD)
    assert info.value.ret == 4002
    assert isinstance(info.value, PermanentError)
    assert len(peer.state.calls("query_stations_info")) == 2
    assert len(peer.state.calls("query_token")) == 2
    assert client.token_store.get(client.token_key) is None  # the dead token is not kept
    assert list(peer.state.modes) == ["4002"]


@pytest.mark.parametrize(
    ("mode", "ret", "http_status"),
    [
        pytest.param("busy", -1, 200, id="ret-minus-1"),
        pytest.param("500", 500, 200, id="ret-500"),
        pytest.param("http502", None, 502, id="http-502-html"),
    ],
)
def test_transient_failures(
    peer: PeerServer,
    make_client: Callable[..., PeerClient],
    records: list[ExchangeRecord],
    mode: str,
    ret: int | None,
    http_status: int,
) -> None:
    peer.state.modes.append(mode)
    with pytest.raises(TransientError) as info:
        make_client().call("query_stations_info", PAYLOAD)
    assert (info.value.ret, info.value.http_status, info.value.interface) == (ret, http_status, "query_stations_info")
    assert (records[-1].ret, records[-1].http_status) == (ret, http_status)
    assert records[-1].error is not None


def test_busy_message_reaches_the_caller(peer: PeerServer, make_client: Callable[..., PeerClient]) -> None:
    peer.state.modes.append("busy")
    with pytest.raises(TransientError) as info:
        make_client().call("query_stations_info", PAYLOAD)
    assert info.value.msg == "系统繁忙，此时请求方稍后重试"


def test_read_timeout_is_transient(
    peer: PeerServer, make_client: Callable[..., PeerClient], records: list[ExchangeRecord]
) -> None:
    client = make_client(read_timeout=0.3)
    client.call("query_stations_info", PAYLOAD)  # token first, so only the business call times out
    peer.state.sleep_seconds = 1.0
    peer.state.modes.append("sleep")
    with pytest.raises(TransientError, match="Timeout"):
        client.call("query_stations_info", PAYLOAD)
    last = records[-1]
    assert (last.ret, last.http_status) == (None, None)
    assert last.latency_ms >= 250
    assert "Timeout" in (last.error or "")


def test_connection_refused_is_transient(records: list[ExchangeRecord]) -> None:
    with socket.socket() as sock:  # grab a free port, then close it so nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    session = requests.Session()
    session.trust_env = False
    client = PeerClient(
        f"http://127.0.0.1:{port}/evcs/v1",
        PORTAL_ID,
        OTHER_KEYS,
        MemoryTokenStore(),
        session=session,
        on_exchange=records.append,
    )
    with pytest.raises(TransientError):
        client.call("query_stations_info", PAYLOAD)
    assert [(r.interface, r.error is not None) for r in records] == [("query_token", True)]
    session.close()


@pytest.mark.parametrize(
    ("mode", "ret", "text"),
    [
        pytest.param("4004", 4004, "Ret 4004", id="ret-4004"),
        pytest.param("badsig", 0, "bad response Sig", id="bad-sig"),
        pytest.param("garbage", None, "HTTP 200 without a protocol envelope", id="non-json-200"),
        pytest.param("http404", None, "HTTP 404", id="http-404"),
    ],
)
def test_permanent_failures(
    peer: PeerServer, make_client: Callable[..., PeerClient], mode: str, ret: int | None, text: str
) -> None:
    client = make_client()
    client.call("query_stations_info", PAYLOAD)
    peer.state.modes.append(mode)
    with pytest.raises(PermanentError, match=text) as info:
        client.call("query_stations_info", PAYLOAD)
    assert not isinstance(info.value, TokenRejected)
    assert info.value.ret == ret
    # Only a signed refusal says the peer did not carry the call out; an answer that cannot be trusted says nothing.
    assert isinstance(info.value, UnverifiedAnswer) == (mode != "4004")
    assert len(peer.state.calls("query_token")) == 1  # permanent errors never trigger re-authentication


def test_wrong_signature_keys_give_permanent_error(peer: PeerServer) -> None:
    # Same data keys, wrong SigSecret: the peer answers 4001, which must not be retried or re-authenticated.
    keys = KeySet(OTHER_KEYS.operator_secret, OTHER_KEYS.data_secret, OTHER_KEYS.data_secret_iv, "wrong-sig-secret")
    session = requests.Session()
    session.trust_env = False
    client = PeerClient(peer.base_url, PORTAL_ID, keys, MemoryTokenStore(), session=session)
    with pytest.raises(PermanentError) as info:
        client.authenticate()
    assert "bad response Sig" in str(info.value)  # the peer's 4001 answer is signed with keys we don't match
    session.close()


def test_query_token_failure_names_fail_reason(
    peer: PeerServer, make_client: Callable[..., PeerClient], records: list[ExchangeRecord]
) -> None:
    peer.state.token_mode = "fail"
    with pytest.raises(TokenRejected, match=r"FailReason=2 \(密钥错误\)") as info:
        make_client().call("query_stations_info", PAYLOAD)
    assert isinstance(info.value, PermanentError)
    assert isinstance(info.value, TokenRefused) and info.value.fail_reason == TokenFailReason.WRONG_SECRET
    assert peer.state.calls("query_stations_info") == []
    assert records[-1].response is not None
    assert records[-1].response["SuccStat"] == 1


def test_on_exchange_records_everything_with_secrets_redacted(
    peer: PeerServer, make_client: Callable[..., PeerClient], records: list[ExchangeRecord]
) -> None:
    make_client().call("query_stations_info", PAYLOAD)
    token_record, business_record = records
    assert token_record.interface == "query_token"
    assert token_record.request == {"OperatorID": PORTAL_ID, "OperatorSecret": "******"}
    assert token_record.response is not None
    assert token_record.response["AccessToken"] == "******"
    assert token_record.response["TokenAvailableTime"] == 7200
    assert business_record.request == PAYLOAD
    assert business_record.response == {"Echo": PAYLOAD}
    for record in records:
        assert record.ret == 0
        assert record.msg == ""
        assert record.http_status == 200
        assert record.error is None
        assert record.latency_ms > 0
        assert record.url.startswith(peer.base_url)
        assert len(record.timestamp) == 14
        assert len(record.seq) == 4


def test_failing_journal_does_not_break_the_call(peer: PeerServer, make_client: Callable[..., PeerClient]) -> None:
    def broken(record: ExchangeRecord) -> None:
        raise RuntimeError("journal down")

    assert make_client(on_exchange=broken).call("query_stations_info", PAYLOAD) == {"Echo": PAYLOAD}


def test_concurrent_callers_trigger_one_query_token(peer: PeerServer, make_client: Callable[..., PeerClient]) -> None:
    peer.state.token_delay = 0.2  # long enough for all threads to pile up on the store lock
    client = make_client()
    barrier = threading.Barrier(8)
    results: list[object] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        barrier.wait()
        try:
            outcome: object = client.call("query_stations_info", {"N": n})
        except ClientError as exc:  # pragma: no cover - reported by the assertion below
            outcome = exc
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert sorted(r["Echo"]["N"] for r in results) == list(range(8))  # type: ignore[index]
    assert len(peer.state.calls("query_token")) == 1
    assert len(peer.state.calls("query_stations_info")) == 8


def test_query_token_is_not_a_business_call(make_client: Callable[..., PeerClient]) -> None:
    with pytest.raises(ValueError, match="authenticate"):
        make_client().call("query_token", {})


def test_bad_url_is_permanent(records: list[ExchangeRecord]) -> None:
    client = PeerClient("not-a-url", PORTAL_ID, OTHER_KEYS, MemoryTokenStore(), on_exchange=records.append)
    with pytest.raises(PermanentError, match="bad peer URL"):
        client.authenticate()
    client.close()


# -- call_later: the exchange on a background thread, the journal and errors on the caller's ------------------------


def test_call_later_journals_in_the_callers_thread_and_applies_then(
    peer: PeerServer, make_client: Callable[..., PeerClient]
) -> None:
    seen: list[tuple[str, str]] = []
    client = make_client(on_exchange=lambda r: seen.append((r.interface, threading.current_thread().name)))
    client.call("query_stations_info", PAYLOAD)  # the token, first
    workers: list[str] = []

    def then(data: dict) -> int:
        workers.append(threading.current_thread().name)
        return len(data["Echo"])

    pending = client.call_later("query_stations_info", {"PageNo": 2}, then=then)
    with pytest.raises(RuntimeError):
        client.call("query_stations_info", PAYLOAD)  # one call at a time: the session is in use
    assert pending.result() == ({"Echo": {"PageNo": 2}}, 1)
    assert workers == ["call_later query_stations_info"]  # `then` ran on the fetching thread
    assert seen[-1] == ("query_stations_info", threading.current_thread().name)  # journalled here, in order
    with pytest.raises(RuntimeError):
        pending.result()  # taken once: a second take would journal the exchange twice
    assert len(seen) == 3
    assert client.call_later("query_stations_info", PAYLOAD).result() == {"Echo": PAYLOAD}  # free again


def test_call_later_renews_the_token_after_4002_and_raises_in_result(
    peer: PeerServer, make_client: Callable[..., PeerClient], records: list[ExchangeRecord]
) -> None:
    client = make_client()
    client.call("query_stations_info", PAYLOAD)
    peer.state.modes.extend(["4002"])
    assert client.call_later("query_stations_info", PAYLOAD, then=len).result() == ({"Echo": PAYLOAD}, 1)
    assert [(r.interface, r.ret) for r in records[2:]] == [
        ("query_stations_info", 4002), ("query_token", 0), ("query_stations_info", 0),
    ]  # fmt: skip
    peer.state.modes.append("busy")
    pending = client.call_later("query_stations_info", PAYLOAD, then=len)
    with pytest.raises(TransientError):
        pending.result()
    assert records[-1].ret == -1 and records[-1].error


def test_call_later_hands_a_bug_in_then_to_result(make_client: Callable[..., PeerClient]) -> None:
    client = make_client()

    def broken(data: dict) -> None:
        raise KeyError("NoSuchField")

    pending = client.call_later("query_stations_info", PAYLOAD, then=broken)
    with pytest.raises(KeyError):
        pending.result()
    assert client.call("query_stations_info", PAYLOAD) == {"Echo": PAYLOAD}  # the client is usable afterwards
