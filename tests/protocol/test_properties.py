"""Hypothesis properties: codec round trips, and parsers that only ever fail with their own protocol errors."""

from __future__ import annotations

import base64
import json
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.protocol import (
    DecryptError,
    EnvelopeError,
    KeySet,
    ProtocolError,
    RequestEnvelope,
    build_request,
    build_response,
    decrypt,
    encrypt,
    open_request,
    open_response,
    parse_request,
    parse_response,
    sign_request,
)

from .support import EXAMPLE_KEYS

# database=None: nothing written to .hypothesis/ in the working tree; deadline=None: shared CI boxes are noisy.
FAST = settings(max_examples=120, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

_ascii_key = st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=16, max_size=16)
_operator_id = st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=9, max_size=9)
_money = st.decimals(min_value=Decimal("-1e9"), max_value=Decimal("1e9"), places=2, allow_nan=False)
_leaf = st.none() | st.booleans() | st.integers(-(2**63), 2**63) | _money | st.text(max_size=40)
_payload_value = st.recursive(
    _leaf,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=25,
)
_payload = st.dictionaries(st.text(max_size=20), _payload_value, max_size=6)


@FAST
@given(text=st.text(), key=_ascii_key, iv=_ascii_key)
def test_encrypt_decrypt_round_trip(text: str, key: str, iv: str) -> None:
    data = encrypt(text, key, iv)
    assert decrypt(data, key, iv) == text


@FAST
@given(payload=_payload, operator_id=_operator_id, key=_ascii_key, sig_key=st.text(min_size=1, max_size=64))
def test_request_envelope_round_trip(payload: dict[str, Any], operator_id: str, key: str, sig_key: str) -> None:
    keys = KeySet("secret", key, key[::-1], sig_key)
    env = build_request(operator_id, payload, keys)
    parsed = parse_request(env.to_json())
    assert parsed == env
    assert open_request(parsed, keys) == payload


@FAST
@given(payload=st.none() | _payload, ret=st.sampled_from([-1, 0, 4001, 4002, 4003, 4004, 500]), msg=st.text())
def test_response_envelope_round_trip(payload: dict[str, Any] | None, ret: int, msg: str) -> None:
    env = build_response(ret, msg, payload, EXAMPLE_KEYS)
    parsed = parse_response(env.to_json())
    assert parsed == env
    assert open_response(parsed, EXAMPLE_KEYS) == payload


@FAST
@given(body=st.binary(max_size=600))
def test_parse_request_on_arbitrary_bytes_only_raises_envelope_error(body: bytes) -> None:
    try:
        parse_request(body)
    except EnvelopeError:
        pass


_json_any = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=10,
)
_field_value = (
    _json_any
    | _operator_id
    | st.text(alphabet="0123456789", min_size=13, max_size=15)
    | st.text(alphabet="0123456789", min_size=3, max_size=5)
    | st.text(alphabet="ABCDEFabcdef0123456789+/=\r\n \ud800", max_size=80)
)
_envelope_like = st.dictionaries(
    st.sampled_from(["OperatorID", "Data", "TimeStamp", "Seq", "Sig", "Ret", "Msg", "Other"]), _field_value
)


@FAST
@given(obj=_envelope_like)
def test_request_pipeline_on_envelope_shaped_json_only_raises_protocol_errors(obj: dict[str, Any]) -> None:
    # Goes past parsing: a structurally valid envelope with junk Data/Sig must end in 4001/4003/4004, not a crash.
    body = json.dumps(obj).encode()
    try:
        open_request(parse_request(body), EXAMPLE_KEYS)
    except ProtocolError:
        pass


@FAST
@given(obj=_envelope_like | _json_any, raw=st.binary(max_size=200))
def test_response_parsing_only_raises_protocol_errors(obj: Any, raw: bytes) -> None:
    for body in (json.dumps(obj).encode(), raw):
        try:
            open_response(parse_response(body), EXAMPLE_KEYS)
        except ProtocolError:
            pass


@FAST
@given(data=st.text(max_size=120))
def test_decrypt_of_arbitrary_text_only_raises_decrypt_error(data: str) -> None:
    try:
        decrypt(data, "1234567890abcdef", "1234567890abcdef")
    except DecryptError:
        pass


@FAST
@given(
    data=st.text(alphabet="ABCDEFGHabcdefgh0123456789+/=\r\n ", min_size=1, max_size=120)
    | st.builds(lambda raw: base64.b64encode(raw).decode(), st.binary(min_size=1, max_size=96))
)
def test_correctly_signed_junk_data_ends_in_4003_or_4004(data: str) -> None:
    # The Sig is valid, so the pipeline reaches Base64/AES/UTF-8/JSON: each failure must be a ProtocolError.
    if not data.strip():
        return
    sig = sign_request(EXAMPLE_KEYS.sig_secret, "123456789", data, "20240101120001", "0001")
    env = RequestEnvelope("123456789", data, "20240101120001", "0001", sig)
    ret: int | None = None
    try:
        result = open_request(parse_request(env.to_json()), EXAMPLE_KEYS)
    except ProtocolError as exc:
        ret = exc.ret
    else:
        assert isinstance(result, dict)
    assert ret in (None, 4003, 4004)
