"""The receive pipeline: every Ret path, tokens, rotation, replay, dialects, limits, and the journal."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import OperationalError
from django.test import override_settings
from django.utils import timezone

from apps.interconnect.choices import Direction
from apps.interconnect.keys import keyset_rotate
from apps.interconnect.models import AccessToken, Exchange, OperatorKeySet, SeenEnvelope
from apps.interconnect.registry import REGISTRY, interface
from apps.operators.models import Operator
from apps.protocol import KeySet, Ret, format_timestamp, sign_response
from tests import factories

from .conftest import OPERATOR_ID, Caller, keyset

pytestmark = pytest.mark.django_db


@pytest.fixture
def echo():
    """A handler for tests: answers with the payload it was given (after aliases were normalised)."""

    @interface("test_echo")
    def handler(ctx, payload):
        return {"Echo": payload, "Caller": ctx.operator.operator_id}

    yield
    REGISTRY.pop("test_echo", None)


def _signed_by(answer, keys: KeySet) -> bool:
    env = answer.envelope
    return env.sig == sign_response(keys.sig_secret, env.ret, env.msg, env.data)


# --- query_token ---------------------------------------------------------------------------------------------------


def test_query_token_issues_a_token(caller, settings):
    answer = caller.call("query_token", {"OperatorID": OPERATOR_ID, "OperatorSecret": caller.keys.operator_secret})
    assert answer.status == 200
    assert answer.ret == 0
    assert _signed_by(answer, caller.keys)
    assert answer.data["SuccStat"] == 0
    assert answer.data["FailReason"] == 0
    assert answer.data["OperatorID"] == OPERATOR_ID
    assert answer.data["TokenAvailableTime"] == settings.HLHT_TOKEN_LIFETIME
    assert len(answer.data["AccessToken"]) >= 32
    stored = AccessToken.objects.get()
    assert stored.token_hash != answer.data["AccessToken"]  # only a digest is kept


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"OperatorID": OPERATOR_ID, "OperatorSecret": "wrong-secret"}, 2),
        ({"OperatorID": "987654321", "OperatorSecret": "whatever"}, 1),
    ],
)
def test_query_token_refusals(caller, data, reason):
    answer = caller.call("query_token", data)
    assert answer.ret == 0
    assert answer.data["SuccStat"] == 1
    assert answer.data["FailReason"] == reason
    assert answer.data["AccessToken"] == ""
    assert not AccessToken.objects.exists()


@pytest.mark.parametrize("status", ["applied", "suspended"])
def test_only_active_and_testing_operators_get_tokens(caller, status):
    Operator.objects.filter(pk=OPERATOR_ID).update(status=status)
    answer = caller.call("query_token", {"OperatorID": OPERATOR_ID, "OperatorSecret": caller.keys.operator_secret})
    assert answer.data["SuccStat"] == 1
    assert answer.data["FailReason"] == 3
    Operator.objects.filter(pk=OPERATOR_ID).update(status="testing")
    assert (
        caller.call("query_token", {"OperatorID": OPERATOR_ID, "OperatorSecret": caller.keys.operator_secret}).data[
            "SuccStat"
        ]
        == 0
    )


def test_query_token_business_fields_are_validated(caller):
    answer = caller.call("query_token", {"OperatorID": OPERATOR_ID})
    assert answer.ret == Ret.BUSINESS
    assert "OperatorSecret" in answer.envelope.msg
    assert _signed_by(answer, caller.keys)


# --- envelope and caller (4003, 4001) -------------------------------------------------------------------------------


@pytest.mark.parametrize("missing", ["OperatorID", "Data", "TimeStamp", "Seq", "Sig"])
def test_missing_envelope_field_is_4003_naming_it(caller, missing):
    env = caller.envelope({"OperatorID": OPERATOR_ID, "OperatorSecret": "x"})
    del env[missing]
    answer = caller.call("query_token", envelope=env)
    assert answer.ret == Ret.PARAMETERS
    assert missing in answer.envelope.msg
    if missing != "OperatorID":  # the caller is still known from OperatorID, so the refusal is signed
        assert _signed_by(answer, caller.keys)


def test_unknown_operator_is_4003_unsigned(caller):
    stranger = Caller(client=caller.client, operator_id="MA5STRANG", keys=caller.keys)
    answer = stranger.call("query_token", {"OperatorID": "MA5STRANG", "OperatorSecret": "x"})
    assert answer.ret == Ret.PARAMETERS
    assert "MA5STRANG" in answer.envelope.msg
    assert answer.envelope.sig == ""


def test_bad_signature_is_4001_signed_with_the_right_keys(caller):
    env = caller.envelope({"OperatorID": OPERATOR_ID, "OperatorSecret": caller.keys.operator_secret})
    env["Sig"] = "0" * 32
    answer = caller.call("query_token", envelope=env)
    assert answer.ret == Ret.SIGNATURE
    assert _signed_by(answer, caller.keys)
    assert not AccessToken.objects.exists()


def test_signature_is_case_insensitive_on_input(caller):
    env = caller.envelope({"OperatorID": OPERATOR_ID, "OperatorSecret": caller.keys.operator_secret})
    env["Sig"] = env["Sig"].lower()
    assert caller.call("query_token", envelope=env).data["SuccStat"] == 0


def test_wrong_data_key_is_4001(caller):
    other = KeySet("x" * 16, "y" * 16, "z" * 16, "w" * 16)
    answer = caller.call("query_token", {"OperatorID": OPERATOR_ID}, keys=other)
    assert answer.ret == Ret.SIGNATURE


def test_undecryptable_data_is_4003(caller):
    from apps.protocol import sign_request

    env = caller.envelope({})
    env["Data"] = "bm90IGEgY2lwaGVydGV4dA=="  # valid Base64, not a multiple of the AES block
    env["Sig"] = sign_request(caller.keys.sig_secret, OPERATOR_ID, env["Data"], env["TimeStamp"], env["Seq"])
    answer = caller.call("query_token", envelope=env)
    assert answer.ret == Ret.PARAMETERS
    assert _signed_by(answer, caller.keys)


def test_data_that_is_not_an_object_is_4004(caller):
    answer = caller.call("query_token", "[1, 2, 3]")
    assert answer.ret == Ret.BUSINESS


@pytest.mark.parametrize(
    "body", [b"", b"not json", b"[]", b'{"OperatorID": 5}', '{"a":"\udcff"}'.encode("utf-8", "surrogatepass")]
)
def test_garbage_bodies_get_an_envelope(caller, body):
    response = caller.post_raw("query_token", body)
    assert response.status_code == 200
    answer = json.loads(response.content)
    assert answer["Ret"] == Ret.PARAMETERS
    assert set(answer) == {"Ret", "Msg", "Data", "Sig"}


def test_get_and_unknown_interface_answer_with_envelopes(caller):
    got = caller.client.get("/evcs/v1/query_token")
    assert got.status_code == 200
    assert json.loads(got.content)["Ret"] == Ret.PARAMETERS
    answer = caller.call("query_nonsense", {"a": 1})
    assert answer.ret == Ret.PARAMETERS
    assert "query_nonsense" in answer.envelope.msg
    assert _signed_by(answer, caller.keys)


def test_trailing_slash_is_accepted(caller):
    answer = caller.call("query_token/", {"OperatorID": OPERATOR_ID, "OperatorSecret": caller.keys.operator_secret})
    assert answer.data["SuccStat"] == 0


@override_settings(HLHT_MAX_BODY_BYTES=2048)
def test_oversized_body_is_refused(caller):
    env = caller.envelope({"OperatorID": OPERATOR_ID, "OperatorSecret": "x" * 3000})
    answer = caller.call("query_token", envelope=env)
    assert answer.ret == Ret.PARAMETERS
    assert "2048" in answer.envelope.msg


# --- tokens (4002) --------------------------------------------------------------------------------------------------


def test_token_required_except_for_query_token(caller, echo):
    assert caller.call("test_echo", {"A": 1}).ret == Ret.TOKEN  # no Authorization at all
    caller.token = "not-a-token"
    assert caller.call("test_echo", {"A": 1}).ret == Ret.TOKEN
    caller.login()
    answer = caller.call("test_echo", {"A": 1})
    assert answer.ret == 0
    assert answer.data == {"Echo": {"A": 1}, "Caller": OPERATOR_ID}


def test_expired_token_is_4002(caller, echo):
    caller.login()
    AccessToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    answer = caller.call("test_echo", {"A": 1})
    assert answer.ret == Ret.TOKEN
    assert _signed_by(answer, caller.keys)


def test_suspension_stops_tokens_at_once(caller, echo):
    caller.login()
    assert caller.call("test_echo", {"A": 1}).ret == 0
    Operator.objects.filter(pk=OPERATOR_ID).update(status="suspended")
    assert caller.call("test_echo", {"A": 2}).ret == Ret.TOKEN


def test_another_operators_token_is_refused(caller, client, echo):
    from apps.interconnect.services import operator_provision

    other_keys = operator_provision(operator_id="MA59CU773", name="另一运营商")["inbound"]
    other = Caller(client=client, operator_id="MA59CU773", keys=keyset(other_keys))
    other.login()
    caller.token = other.token
    assert caller.call("test_echo", {"A": 1}).ret == Ret.TOKEN


# --- time window and replay -----------------------------------------------------------------------------------------


def test_stale_or_future_timestamp_is_refused(caller, settings):
    for offset in (-settings.HLHT_CLOCK_SKEW - 60, settings.HLHT_CLOCK_SKEW + 60):
        ts = format_timestamp(timezone.now() + timedelta(seconds=offset))
        from apps.protocol import build_request

        env = build_request(
            OPERATOR_ID, {"OperatorID": OPERATOR_ID, "OperatorSecret": caller.keys.operator_secret}, caller.keys,
            timestamp=ts, seq="0001",
        ).to_dict()  # fmt: skip
        answer = caller.call("query_token", envelope=env)
        assert answer.ret == Ret.PARAMETERS
        assert "TimeStamp" in answer.envelope.msg
    assert not AccessToken.objects.exists()


def test_replayed_envelope_is_refused_and_not_applied_twice(caller):
    env = caller.envelope({"OperatorID": OPERATOR_ID, "OperatorSecret": caller.keys.operator_secret})
    first = caller.call("query_token", envelope=env)
    again = caller.call("query_token", envelope=env)
    assert first.data["SuccStat"] == 0
    assert again.ret == Ret.PARAMETERS
    assert "重复" in again.envelope.msg
    assert AccessToken.objects.count() == 1


def test_a_failed_message_may_be_sent_again(caller):
    env = caller.envelope({"OperatorID": OPERATOR_ID})  # fails validation (4004): nothing is recorded
    assert caller.call("query_token", envelope=env).ret == Ret.BUSINESS
    assert not SeenEnvelope.objects.exists()
    assert caller.call("query_token", envelope=env).ret == Ret.BUSINESS  # not "replay"


# --- unexpected failures (500, -1) ----------------------------------------------------------------------------------


def test_unexpected_error_is_500_signed_and_rolls_back(caller):
    @interface("test_boom")
    def boom(ctx, payload):
        factories.AccessTokenFactory(operator=ctx.operator, token_hash="h" * 64, expires_at=timezone.now())
        raise RuntimeError("kaboom")

    try:
        caller.login()
        before = AccessToken.objects.count()
        answer = caller.call("test_boom", {})
        assert answer.ret == Ret.SYSTEM
        assert "kaboom" not in answer.envelope.msg  # no internals to the peer
        assert _signed_by(answer, caller.keys)
        assert AccessToken.objects.count() == before
        assert "kaboom" in Exchange.objects.get(interface="test_boom").error
    finally:
        REGISTRY.pop("test_boom", None)


def test_database_busy_is_minus_1(caller):
    @interface("test_busy")
    def busy(ctx, payload):
        raise OperationalError("database is locked")

    try:
        caller.login()
        answer = caller.call("test_busy", {})
        assert answer.ret == Ret.BUSY
        assert answer.envelope.msg == "系统繁忙，此时请求方稍后重试"
        assert _signed_by(answer, caller.keys)
    finally:
        REGISTRY.pop("test_busy", None)


# --- key rotation ----------------------------------------------------------------------------------------------------


def test_rotation_keeps_old_keys_working_for_the_overlap(caller, client):
    old = caller.keys
    new = keyset(keyset_rotate(operator=Operator.objects.get(pk=OPERATOR_ID), overlap=timedelta(hours=1)))
    new_caller = Caller(client=client, operator_id=OPERATOR_ID, keys=new)
    assert new_caller.login()
    assert caller.login()  # the old set still verifies, and its answer is signed with the old set
    OperatorKeySet.objects.filter(retires_at__isnull=False).update(retires_at=timezone.now() - timedelta(seconds=1))
    # Past the overlap the old set is gone: its messages fail the Sig, answered with the keys now in force.
    answer = new_caller.call(
        "query_token", envelope=caller.envelope({"OperatorID": OPERATOR_ID, "OperatorSecret": old.operator_secret})
    )
    assert answer.ret == Ret.SIGNATURE
    assert _signed_by(answer, new)
    from apps.interconnect.tasks import protocol_housekeeping_task

    assert protocol_housekeeping_task()["key_sets"] == 1
    assert OperatorKeySet.objects.filter(operator_id=OPERATOR_ID, direction="inbound").count() == 1


# --- dialects ------------------------------------------------------------------------------------------------------


def test_bare_token_only_with_the_flag(caller, echo):
    token = caller.login()
    assert caller.call("test_echo", {"A": 1}, authorization=token).ret == Ret.TOKEN
    Operator.objects.filter(pk=OPERATOR_ID).update(dialect_bare_token=True)
    assert caller.call("test_echo", {"A": 1}, authorization=token).ret == 0


def test_millisecond_timestamp_only_with_the_flag(caller):
    from apps.protocol import build_request, sign_request

    def ms_envelope():
        env = build_request(
            OPERATOR_ID, {"OperatorID": OPERATOR_ID, "OperatorSecret": caller.keys.operator_secret}, caller.keys,
            seq_generator=caller.seq,
        ).to_dict()  # fmt: skip
        env["TimeStamp"] = str(int(timezone.now().timestamp() * 1000))
        env["Sig"] = sign_request(caller.keys.sig_secret, OPERATOR_ID, env["Data"], env["TimeStamp"], env["Seq"])
        return env

    assert caller.call("query_token", envelope=ms_envelope()).ret == Ret.PARAMETERS
    Operator.objects.filter(pk=OPERATOR_ID).update(dialect_millisecond_timestamp=True)
    assert caller.call("query_token", envelope=ms_envelope()).data["SuccStat"] == 0


def test_service_spelling_only_with_the_flag(caller, echo):
    caller.login()
    payload = {
        "PolicyInfos": [{"StartTime": "000000", "ElecPrice": 1, "ServicePrice": Decimal("0.8")}],
        "ElectMoney": 3,
    }
    strict = caller.call("test_echo", payload)
    assert strict.data["Echo"] == payload  # untouched: an unknown key that business validation would report
    Operator.objects.filter(pk=OPERATOR_ID).update(dialect_service_spelling=True)
    lenient = caller.call("test_echo", payload)
    assert lenient.data["Echo"] == {
        "PolicyInfos": [{"StartTime": "000000", "ElecPrice": 1, "SevicePrice": Decimal("0.8")}],
        "ElecMoney": 3,
    }


def test_no_v_base_url_only_with_the_flag(caller):
    data = {"OperatorID": OPERATOR_ID, "OperatorSecret": caller.keys.operator_secret}
    refused = caller.call("query_token", data, path="/evcs/20160701/")
    assert refused.ret == Ret.PARAMETERS
    assert "/evcs/v1/" in refused.envelope.msg
    Operator.objects.filter(pk=OPERATOR_ID).update(dialect_no_v_base_url=True)
    assert caller.call("query_token", data, path="/evcs/20160701/").data["SuccStat"] == 0


# --- the journal -----------------------------------------------------------------------------------------------------


def test_every_exchange_is_journalled_with_secrets_and_personal_data_masked(caller, echo):
    caller.login()
    caller.call("test_echo", {"PhoneNum": "13812345678", "PlateNum": "京AD12345", "Note": "车主13812345678"})
    caller.call("query_token", {"OperatorID": OPERATOR_ID, "OperatorSecret": "wrong"})
    bad = caller.envelope({})
    bad["Sig"] = "F" * 32
    caller.call("test_echo", envelope=bad)
    rows = list(Exchange.objects.order_by("created", "id"))
    assert [r.interface for r in rows] == ["query_token", "test_echo", "query_token", "test_echo"]
    assert all(r.direction == Direction.IN and r.operator_id == OPERATOR_ID for r in rows)
    token_row, echo_row, _, rejected = rows
    assert token_row.request["OperatorSecret"] == "******"
    assert token_row.response["AccessToken"] == "******"
    assert echo_row.request == {"PhoneNum": "138****5678", "PlateNum": "京A*****5", "Note": "车主138****5678"}
    assert "13812345678" not in json.dumps(echo_row.response, ensure_ascii=False)
    assert rejected.ret == Ret.SIGNATURE
    assert rejected.request is None
    assert all(r.latency_ms > 0 and r.timestamp and r.seq for r in rows)


def test_journal_purge_respects_retention(caller, settings):
    caller.login()
    Exchange.objects.update(created=timezone.now() - timedelta(days=settings.HLHT_JOURNAL_RETENTION_DAYS + 1))
    caller.login()
    from apps.interconnect.tasks import journal_purge_task

    assert journal_purge_task() == 1
    assert Exchange.objects.count() == 1


def test_an_empty_remote_address_is_journalled_as_none(caller, echo):
    # gunicorn on a unix socket (behind nginx) sets REMOTE_ADDR to "": the inet column must get NULL, not ''.
    caller.login()
    body = json.dumps(caller.envelope({"A": 1}), ensure_ascii=False)
    response = caller.client.post("/evcs/v1/test_echo", data=body, content_type="application/json;charset=utf-8",
                                  HTTP_AUTHORIZATION=f"Bearer {caller.token}", REMOTE_ADDR="")  # fmt: skip
    assert json.loads(response.content)["Ret"] == 0
    assert Exchange.objects.get(interface="test_echo").remote_addr is None


def test_journal_retention_per_interface(caller, echo, settings):
    settings.HLHT_JOURNAL_RETENTION = {"test_echo": 7}
    caller.login()
    assert caller.call("test_echo", {"A": 1}).ret == 0
    ten_days_ago = timezone.now() - timedelta(days=10)
    Exchange.objects.update(created=ten_days_ago)  # older than test_echo's 7 days, younger than the default 180
    from apps.interconnect.tasks import journal_purge_task

    assert journal_purge_task() == 1
    assert list(Exchange.objects.values_list("interface", flat=True)) == ["query_token"]


def test_secrets_are_sealed_at_rest(provisioned):
    row = OperatorKeySet.objects.get(operator_id=OPERATOR_ID, direction="inbound")
    for column, value in (
        ("sig_secret", provisioned["inbound"]["SigSecret"]),
        ("data_secret", provisioned["inbound"]["DataSecret"]),
    ):
        stored = getattr(row, column)
        assert value not in stored
        assert stored.startswith("gcm1:")


def test_an_interface_registered_twice_is_refused():
    @interface("test_twice")
    def first(ctx, payload):
        return {}

    try:
        with pytest.raises(ValueError, match="registered twice"):

            @interface("test_twice")
            def second(ctx, payload):
                return {}

        interface("test_twice")(first)  # the same handler again (a module imported twice) is not a conflict
    finally:
        REGISTRY.pop("test_twice", None)


# --- tokens are bounded (issue 21 item 8) ---------------------------------------------------------------------------


def test_a_new_token_retires_the_oldest_beyond_the_live_limit(caller, echo, settings):
    settings.HLHT_MAX_LIVE_TOKENS, settings.HLHT_TOKEN_RATE = 3, 100
    tokens = [caller.login() for _ in range(5)]
    live = AccessToken.objects.filter(operator_id=OPERATOR_ID, expires_at__gt=timezone.now())
    assert live.count() == 3
    for token, works in zip(tokens, [False, False, True, True, True], strict=True):
        caller.token = token
        assert (caller.call("test_echo", {"A": 1}).ret == Ret.OK) is works, token


def test_query_token_is_rate_limited_per_operator_with_fail_reason_4(caller, echo, settings):
    settings.HLHT_TOKEN_RATE = 4
    for _ in range(4):
        caller.login()
    refused = caller.call("query_token", {"OperatorID": OPERATOR_ID, "OperatorSecret": caller.keys.operator_secret})
    assert refused.ret == Ret.OK and refused.data["SuccStat"] == 1 and refused.data["FailReason"] == 4
    assert refused.data["AccessToken"] == ""
    assert caller.call("test_echo", {"A": 1}).ret == Ret.OK  # the tokens already issued keep working
