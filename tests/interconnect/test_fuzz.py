"""Property: malformed input never makes the server fail, answer non-JSON, or write domain data."""

from __future__ import annotations

import base64
import json

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from apps.interconnect.models import AccessToken, Exchange, SeenEnvelope
from apps.protocol import build_request, sign_request

from .conftest import OPERATOR_ID

FIELDS = ("OperatorID", "Data", "TimeStamp", "Seq", "Sig")
text = st.text(max_size=40)
envelope_values = st.one_of(st.none(), st.integers(), st.booleans(), text, st.lists(text, max_size=2))
QUICK = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _assert_envelope(response):
    assert response.status_code == 200
    answer = json.loads(response.content)
    assert set(answer) == {"Ret", "Msg", "Data", "Sig"}
    assert answer["Ret"] in (-1, 4001, 4002, 4003, 4004)  # never 500 for bad input, never 0 for garbage
    return answer


def _post(client, body: bytes, interface: str = "query_token"):
    return client.post(f"/evcs/v1/{interface}", data=body, content_type="application/json")


def _nothing_written():
    assert not AccessToken.objects.exists()
    assert not SeenEnvelope.objects.exists()


@QUICK
@given(body=st.binary(max_size=400))
def test_arbitrary_bytes(caller, body):
    before = Exchange.objects.count()
    _assert_envelope(_post(caller.client, body))
    _nothing_written()
    assert Exchange.objects.count() == before + 1  # the rejected message has its journal row


@QUICK
@given(fields=st.dictionaries(st.sampled_from(FIELDS), envelope_values, max_size=5))
def test_malformed_envelopes(caller, fields):
    _assert_envelope(_post(caller.client, json.dumps(fields).encode()))
    _nothing_written()


@QUICK
@given(cut=st.integers(min_value=1, max_value=40), pad=st.sampled_from(["", "=", "==", "===", "\r\n", "%%"]))
def test_truncated_or_mispadded_data_signed_correctly(caller, cut, pad):
    # The Sig is valid for the damaged Data, so the failure must come from decoding: 4003 or 4004, never a crash.
    env = caller.envelope({"OperatorID": OPERATOR_ID, "OperatorSecret": caller.keys.operator_secret})
    damaged = env["Data"][:-cut] + pad
    # Padding alone is not damage (the codec tolerates missing "="): only cuts that change the ciphertext count.
    assume(damaged.strip().rstrip("=") != env["Data"].rstrip("="))
    env["Data"] = damaged
    env["Sig"] = sign_request(caller.keys.sig_secret, OPERATOR_ID, env["Data"], env["TimeStamp"], env["Seq"])
    answer = _assert_envelope(_post(caller.client, json.dumps(env).encode()))
    assert answer["Ret"] in (4003, 4004)
    _nothing_written()


@QUICK
@given(plaintext=st.binary(max_size=200))
def test_non_utf8_or_non_json_plaintext(caller, plaintext):
    from Crypto.Cipher import AES
    from Crypto.Util.Padding import pad

    cipher = AES.new(caller.keys.data_secret.encode(), AES.MODE_CBC, caller.keys.data_secret_iv.encode())
    data = base64.b64encode(cipher.encrypt(pad(plaintext, 16))).decode()
    env = caller.envelope({})
    env["Data"] = data
    env["Sig"] = sign_request(caller.keys.sig_secret, OPERATOR_ID, data, env["TimeStamp"], env["Seq"])
    answer = _assert_envelope(_post(caller.client, json.dumps(env).encode()))
    assert answer["Ret"] in (4003, 4004)
    _nothing_written()


@QUICK
@given(secret=st.text(min_size=1, max_size=16).filter(lambda s: len(s.encode()) != 16 or s.isascii()))
def test_wrong_keys(caller, secret):
    from apps.protocol import KeySet

    key = (secret * 16)[:16] if len(secret.encode()) == len(secret) else "k" * 16
    if key == caller.keys.sig_secret:
        return
    wrong = KeySet(key, key, key, key)
    env = build_request(OPERATOR_ID, {"OperatorID": OPERATOR_ID, "OperatorSecret": "x"}, wrong).to_dict()
    answer = _assert_envelope(_post(caller.client, json.dumps(env).encode()))
    assert answer["Ret"] == 4001
    _nothing_written()


def test_huge_body_is_refused_without_reading_it(caller, settings):
    settings.HLHT_MAX_BODY_BYTES = 10_000
    answer = _assert_envelope(_post(caller.client, b"{" + b" " * 50_000 + b"}"))
    assert answer["Ret"] == 4003
    _nothing_written()
