"""The one receive pipeline on its own: the order of its checks, what a host plugs in, and what a Reception records."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

import pytest

from apps.protocol import (
    BusinessError,
    BusyError,
    KeySet,
    ParameterError,
    Ret,
    SeqGenerator,
    build_request,
    format_timestamp,
    now,
    open_response,
    sign_response,
)
from apps.protocol.receive import (
    MARK_BAD_TOKEN,
    MARK_FIRST,
    MARK_REPLAY,
    Caller,
    NoAnswer,
    Pipeline,
    Request,
    Route,
)
from apps.protocol.text import safe_text

KEYS = KeySet("secret0000000001", "data000000000001", "iv00000000000001", "sig0000000000001")
NEW_KEYS = KeySet("secret0000000002", "data000000000002", "iv00000000000002", "sig0000000000002")
OPERATOR = "123456789"
SEQ = SeqGenerator()  # one per test module: two sends in a second get different Seqs, so they are not replays
TOKEN = "good-token"


class Host:
    """An in-memory host that records what the pipeline asked of it."""

    def __init__(self) -> None:
        self.callers = {OPERATOR: Caller(OPERATOR, (KEYS,), kind="operator", kind_label="充电运营商")}
        self.fresh_callers: dict[str, Caller] = {}
        self.tokens = {"good-token"}
        self.seen: set[str] = set()
        self.asked: list[str] = []
        self.transactions: list[str] = []
        self.routes = {
            "echo": Route("echo", lambda ctx, payload: {"Echo": payload, "By": ctx.caller.operator_id}),
            "open": Route("open", lambda ctx, payload: {"Ok": 1}, token_required=False),
            "consumers": Route("consumers", lambda ctx, payload: {}, callers=frozenset({"consumer"})),
            "strict": Route("strict", lambda ctx, payload: {}, validate=self._validate),
            "busy": Route("busy", self._busy),
            "boom": Route("boom", self._boom),
        }

    @staticmethod
    def _validate(payload):
        if "Need" not in payload:
            raise BusinessError("缺少参数Need")

    @staticmethod
    def _busy(ctx, payload):
        raise BusyError()

    @staticmethod
    def _boom(ctx, payload):
        raise RuntimeError("kaboom secret detail")

    def lookup(self, operator_id: str, fresh: bool):
        self.asked.append(f"{operator_id}{' fresh' if fresh else ''}")
        if fresh and operator_id in self.fresh_callers:
            return self.fresh_callers[operator_id]
        return self.callers.get(operator_id)

    def replay(self, caller, envelope) -> bool:
        if envelope.sig in self.seen:
            return False
        self.seen.add(envelope.sig)
        return True

    @contextmanager
    def atomic(self):
        self.transactions.append("begin")
        try:
            yield
        except BaseException:
            self.transactions.append("rollback")
            raise
        self.transactions.append("commit")

    def pipeline(self, **extra) -> Pipeline:
        return Pipeline(
            callers=self.lookup,
            routes=self.routes,
            tokens=lambda caller, token: token in self.tokens,
            replay=self.replay,
            clock=now,
            window=lambda: 300,
            atomic=self.atomic,
            **extra,
        )


@pytest.fixture
def host() -> Host:
    return Host()


def send(pipeline, interface, payload=None, *, keys=KEYS, token=TOKEN, operator=OPERATOR, **request_fields):
    envelope = build_request(operator, payload if payload is not None else {}, keys, seq_generator=SEQ)
    authorization = f"Bearer {token}" if token else None
    return pipeline.receive(Request("POST", interface, envelope.to_json(), authorization, **request_fields))


def signed_by(reception, keys) -> bool:
    env = reception.envelope
    return env.sig == sign_response(keys.sig_secret, env.ret, env.msg, env.data)


def test_a_good_call_reaches_the_handler_inside_the_transaction(host):
    reception = send(host.pipeline(), "echo", {"A": 1})
    assert reception.ok and reception.authenticated
    assert open_response(reception.envelope, KEYS) == {"Echo": {"A": 1}, "By": OPERATOR}
    assert (reception.request, reception.response) == ({"A": 1}, {"Echo": {"A": 1}, "By": OPERATOR})
    assert host.transactions == ["begin", "commit"]
    assert reception.caller_id == OPERATOR and reception.timestamp and reception.seq


def test_an_unknown_caller_is_4003_unsigned(host):
    reception = send(host.pipeline(), "echo", operator="STRANGER1")
    assert (reception.envelope.ret, reception.envelope.sig) == (Ret.PARAMETERS, "")
    assert "STRANGER1" in reception.envelope.msg and reception.claimed_operator_id == "STRANGER1"
    assert not host.transactions


def test_a_wrong_sig_asks_the_host_once_more_without_its_cache(host):
    host.fresh_callers[OPERATOR] = Caller(OPERATOR, (NEW_KEYS,))
    reception = send(host.pipeline(), "echo", {"A": 1}, keys=NEW_KEYS)
    assert reception.ok and signed_by(reception, NEW_KEYS)
    assert host.asked == [OPERATOR, f"{OPERATOR} fresh"]


def test_a_sig_no_key_set_verifies_is_4001_signed_with_the_current_set(host):
    reception = send(host.pipeline(), "echo", keys=NEW_KEYS)
    assert reception.envelope.ret == Ret.SIGNATURE and signed_by(reception, KEYS)
    assert not reception.authenticated and not host.transactions


def test_a_rotated_set_inside_its_overlap_still_verifies(host):
    host.callers[OPERATOR] = Caller(OPERATOR, (NEW_KEYS, KEYS))
    reception = send(host.pipeline(), "echo", {"A": 1}, keys=KEYS)
    assert reception.ok and signed_by(reception, KEYS)  # answered with the set the caller used


def test_unknown_interface_and_kind_refusals_come_after_the_sig(host):
    unknown = send(host.pipeline(), "nothing_here")
    assert unknown.envelope.ret == Ret.PARAMETERS and "nothing_here" in unknown.envelope.msg
    assert signed_by(unknown, KEYS)
    bad_sig_unknown = send(host.pipeline(), "nothing_here", keys=NEW_KEYS)
    assert bad_sig_unknown.envelope.ret == Ret.SIGNATURE  # Sig first: a stranger learns nothing about the routes
    kind = send(host.pipeline(), "consumers")
    assert kind.envelope.ret == Ret.PARAMETERS and "充电运营商不能调用接口 consumers" in kind.envelope.msg


def test_the_host_may_refuse_after_the_sig(host):
    def admit(request, caller):
        if request.variant == "legacy":
            raise ParameterError("请使用新路径")

    assert send(host.pipeline(admit=admit), "echo", variant="legacy").envelope.msg == "请使用新路径"
    assert send(host.pipeline(admit=admit), "echo").ok


def test_token_window_and_replay_in_that_order(host):
    pipeline = host.pipeline()
    assert send(pipeline, "echo", token=None).envelope.ret == Ret.TOKEN
    assert send(pipeline, "echo", token="stolen").envelope.ret == Ret.TOKEN
    assert send(pipeline, "open", token=None).ok  # a route without a token (query_token)
    old = build_request(OPERATOR, {}, KEYS, timestamp=format_timestamp(now() - timedelta(seconds=301)), seq="0001")
    stale = pipeline.receive(Request("POST", "echo", old.to_json(), "Bearer good-token"))
    assert stale.envelope.ret == Ret.PARAMETERS and "TimeStamp" in stale.envelope.msg
    body = build_request(OPERATOR, {}, KEYS, seq_generator=SEQ).to_json()
    assert pipeline.receive(Request("POST", "echo", body, "Bearer good-token")).ok
    replay = pipeline.receive(Request("POST", "echo", body, "Bearer good-token"))
    assert replay.envelope.ret == Ret.PARAMETERS and "重复" in replay.envelope.msg


def test_a_mark_hook_checks_token_and_replay_in_one_step_keeping_the_refusals_order(host):
    asked = []

    def mark(caller, token, envelope):
        asked.append(token)
        if token is not None and token not in host.tokens:
            return MARK_BAD_TOKEN
        return MARK_FIRST if host.replay(caller, envelope) else MARK_REPLAY

    pipeline = host.pipeline(mark=mark)
    assert send(pipeline, "echo", token="stolen").envelope.ret == Ret.TOKEN
    assert send(pipeline, "open", token=None).ok and asked[-1] is None  # no token needed: only the replay mark
    body = build_request(OPERATOR, {}, KEYS, seq_generator=SEQ).to_json()
    assert pipeline.receive(Request("POST", "echo", body, "Bearer good-token")).ok
    replay = pipeline.receive(Request("POST", "echo", body, "Bearer good-token"))
    assert replay.envelope.ret == Ret.PARAMETERS and "重复" in replay.envelope.msg
    # Stale and a bad token: still 4002 first, answered by the plain token check (the mark is never asked).
    calls = len(asked)
    old = build_request(OPERATOR, {}, KEYS, timestamp=format_timestamp(now() - timedelta(seconds=301)), seq="0001")
    assert pipeline.receive(Request("POST", "echo", old.to_json(), "Bearer stolen")).envelope.ret == Ret.TOKEN
    stale = pipeline.receive(Request("POST", "echo", old.to_json(), "Bearer good-token"))
    assert stale.envelope.ret == Ret.PARAMETERS and "TimeStamp" in stale.envelope.msg
    assert len(asked) == calls
    assert host.transactions.count("begin") == 4  # the mark runs inside the message's transaction


def test_the_record_of_an_accepted_message_is_written_inside_its_transaction(host):
    records = []

    def record(reception):
        records.append((host.transactions[-1], reception.envelope.ret, reception.response))

    pipeline = host.pipeline(record=record)
    reception = send(pipeline, "echo", {"A": 1})
    assert reception.ok and reception.recorded
    assert records == [("begin", Ret.OK, {"Echo": {"A": 1}, "By": OPERATOR})]  # before the commit
    refused = send(pipeline, "strict", {"Other": 1})
    assert refused.envelope.ret == Ret.BUSINESS and not refused.recorded and len(records) == 1  # the host's to record


def test_a_record_that_fails_rolls_the_message_back_and_leaves_it_unrecorded(host):
    def record(reception):
        raise RuntimeError("journal table full")

    reception = send(host.pipeline(record=record), "echo", {"A": 1})
    assert reception.envelope.ret == Ret.SYSTEM and not reception.recorded and reception.response is None
    assert host.transactions == ["begin", "rollback"]


def test_a_validation_failure_is_4004_and_rolls_back(host):
    reception = send(host.pipeline(), "strict", {"Other": 1})
    assert reception.envelope.ret == Ret.BUSINESS and "Need" in reception.envelope.msg
    assert host.transactions == ["begin", "rollback"]
    assert reception.request == {"Other": 1}  # what was received is still there for the journal


def test_host_errors_are_classified_or_answered_500_without_internals(host):
    boom = send(host.pipeline(), "boom")
    assert boom.envelope.ret == Ret.SYSTEM and "kaboom" not in boom.envelope.msg
    assert "kaboom" in boom.error and signed_by(boom, KEYS)
    classified = send(host.pipeline(classify=lambda exc: BusinessError("映射后的错误")), "boom")
    assert (classified.envelope.ret, classified.envelope.msg) == (Ret.BUSINESS, "映射后的错误")


def test_busy_data_is_the_hosts_choice(host):
    plain = send(host.pipeline(), "busy")
    assert (plain.envelope.ret, plain.envelope.data) == (Ret.BUSY, "")
    with_data = send(host.pipeline(busy_data={}), "busy")
    assert with_data.envelope.ret == Ret.BUSY and open_response(with_data.envelope, KEYS) == {}


def test_the_authenticated_hook_runs_after_replay_and_may_withhold_the_answer(host):
    calls = []

    def faults(request, caller, route):
        calls.append(route.name)
        if route.name == "boom":
            raise NoAnswer

    pipeline = host.pipeline(authenticated=faults)
    assert send(pipeline, "echo").ok
    with pytest.raises(NoAnswer):
        send(pipeline, "boom")
    assert send(pipeline, "echo", token="stolen").envelope.ret == Ret.TOKEN
    assert calls == ["echo", "boom"]  # never for a call that failed authentication


def test_outgoing_rewrites_the_answer_but_not_the_record(host):
    reception = send(host.pipeline(outgoing=lambda caller, payload: {"Rewritten": True}), "echo", {"A": 1})
    assert open_response(reception.envelope, KEYS) == {"Rewritten": True}
    assert reception.response == {"Echo": {"A": 1}, "By": OPERATOR}


@pytest.mark.parametrize(
    "body", [b"", b"{", b"[]", b'{"OperatorID":"\\u0000"}', '{"OperatorID": "\ud800"}'.encode("utf-8", "surrogatepass")]
)
def test_garbage_is_4003_and_never_raises(host, body):
    reception = host.pipeline().receive(Request("POST", "echo", body))
    assert reception.envelope.ret == Ret.PARAMETERS
    assert host.asked == []  # nothing that is not a well-formed OperatorID is looked up


def test_a_missing_field_is_refused_signed_when_the_operator_id_is_well_formed(host):
    envelope = build_request(OPERATOR, {}, KEYS, seq_generator=SEQ).to_dict()
    del envelope["Seq"]
    body = str(envelope).replace("'", '"').encode()
    reception = host.pipeline().receive(Request("POST", "echo", body))
    assert reception.envelope.ret == Ret.PARAMETERS and "Seq" in reception.envelope.msg
    assert signed_by(reception, KEYS) and host.asked == [OPERATOR]


def test_only_post_is_served_and_refuse_is_unsigned(host):
    assert host.pipeline().receive(Request("GET", "echo", b"")).envelope.ret == Ret.PARAMETERS
    refused = host.pipeline().refuse(Request("POST", "x\x00y", b""), ParameterError("太大"))
    assert (refused.envelope.ret, refused.envelope.sig, refused.interface) == (Ret.PARAMETERS, "", "x\\x00y")


def test_safe_text_escapes_what_cannot_be_stored_and_bounds_the_length():
    assert safe_text("普通文本 a-b") == "普通文本 a-b"
    assert safe_text("a\x00b\ud800c\n") == "a\\x00b\\ud800c\\x0a"
    assert safe_text("\x00" * 100, 10) == "\\x00\\x00\\x"
    assert len(safe_text("x" * 10_000, 64)) == 64


def test_a_store_failing_on_the_refusal_path_still_gets_an_unsigned_answer(host):
    envelope = build_request(OPERATOR, {}, KEYS, seq_generator=SEQ).to_dict()
    del envelope["Sig"]  # refused before the caller is known: the refusal looks the caller up to sign

    def broken(operator_id, fresh):
        raise ConnectionError("database unreachable")

    host.lookup = broken
    reception = host.pipeline().receive(Request("POST", "echo", str(envelope).replace("'", '"').encode()))
    assert (reception.envelope.ret, reception.envelope.sig) == (Ret.PARAMETERS, "")
    assert "Sig" in reception.envelope.msg


def test_a_refusal_quoting_a_lone_surrogate_is_still_signed(host):
    def quoting(ctx, payload):
        raise BusinessError(f"参数“{payload['V']}”不合法")

    host.routes["quote"] = Route("quote", quoting)
    text = '{"V":"\\ud800"}'
    reception = send(host.pipeline(), "quote", text)
    assert reception.envelope.ret == Ret.BUSINESS and signed_by(reception, KEYS)
    assert "\\ud800" in reception.envelope.msg


def test_a_large_body_is_received_without_holding_several_copies_of_it(host):
    # 4 MB of Data whose payload is one string: what the pipeline allocates beyond the buffer the host handed over
    # is copies of the message, not parsed objects. Once: the envelope's text while it is parsed (then the buffer
    # is emptied), the Data, the ciphertext and the plaintext buffer, then the plaintext's text and the payload.
    import tracemalloc

    envelope = build_request(OPERATOR, {"Blob": "x" * 3_000_000}, KEYS, seq_generator=SEQ)
    body = bytearray(envelope.to_json())
    del envelope
    tracemalloc.start()
    try:
        reception = host.pipeline().receive(Request("POST", "open", body))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert reception.ok and len(reception.request["Blob"]) == 3_000_000
    # The old path held the body, its text, the Data, six copies inside the decryption and a joined Sig message.
    assert peak < 3.2 * 4_000_000, peak
    assert not body  # the pipeline emptied the buffer it was handed once the envelope was parsed
