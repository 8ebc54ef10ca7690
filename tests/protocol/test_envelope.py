"""Envelope parsing/validation (4003 naming the field), signature checks, response building and KeySet rules."""

from __future__ import annotations

import codecs
import json
from typing import Any

import pytest

from apps.protocol import (
    BusinessError,
    DecryptError,
    EnvelopeError,
    InvalidKeyError,
    KeySet,
    ParameterError,
    RequestEnvelope,
    Ret,
    SeqGenerator,
    SignatureError,
    TokenError,
    build_request,
    build_response,
    error_response,
    open_request,
    open_response,
    parse_request,
    parse_response,
    sign_request,
    verify_request,
)

from .support import EXAMPLE_KEY, EXAMPLE_KEYS, OPERATOR_ID, OTHER_KEYS

PAYLOAD = {"ConnectorStatusInfo": {"ConnectorID": "10000000000000000000000001", "Status": 3}}


def _body(**overrides: Any) -> bytes:
    fields: dict[str, Any] = build_request(
        OPERATOR_ID, PAYLOAD, EXAMPLE_KEYS, timestamp="20240101120001", seq="0002"
    ).to_dict()
    for name, value in overrides.items():
        if value is _MISSING:
            fields.pop(name)
        else:
            fields[name] = value
    return json.dumps(fields, ensure_ascii=False).encode()


_MISSING = object()


def test_round_trip() -> None:
    env = parse_request(_body())
    assert env.operator_id == OPERATOR_ID
    assert (env.timestamp, env.seq) == ("20240101120001", "0002")
    assert open_request(env, EXAMPLE_KEYS) == PAYLOAD
    assert env.time.isoformat() == "2024-01-01T12:00:01+08:00"


@pytest.mark.parametrize("field", ["OperatorID", "Data", "TimeStamp", "Seq", "Sig"])
def test_missing_field_is_4003_naming_it(field: str) -> None:
    with pytest.raises(EnvelopeError) as info:
        parse_request(_body(**{field: _MISSING}))
    assert info.value.ret == Ret.PARAMETERS == 4003
    assert field in info.value.msg


@pytest.mark.parametrize("field", ["OperatorID", "Data", "TimeStamp", "Seq", "Sig"])
@pytest.mark.parametrize("value", [None, 1, 1.5, True, [], {}], ids=["null", "int", "float", "bool", "list", "obj"])
def test_non_string_field_is_4003_naming_it(field: str, value: Any) -> None:
    with pytest.raises(EnvelopeError) as info:
        parse_request(_body(**{field: value}))
    assert field in info.value.msg
    assert "字符串" in info.value.msg


@pytest.mark.parametrize("field", ["OperatorID", "Data", "TimeStamp", "Seq", "Sig"])
@pytest.mark.parametrize("value", ["", "   "], ids=["empty", "spaces"])
def test_blank_field_is_4003_naming_it(field: str, value: str) -> None:
    with pytest.raises(EnvelopeError) as info:
        parse_request(_body(**{field: value}))
    assert field in info.value.msg


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("OperatorID", "12345678"),
        ("OperatorID", "1234567890"),
        ("OperatorID", "1234-6789"),
        ("OperatorID", "一二三四五六七八九"),
        ("TimeStamp", "2024010112000"),
        ("TimeStamp", "202401011200011"),
        ("TimeStamp", "2024-01-01 12:00:01"),
        ("TimeStamp", "20241301120001"),
        ("TimeStamp", "２０２４０１０１１２０００１"),
        ("TimeStamp", "1704081601000"),
        ("Seq", "1"),
        ("Seq", "00001"),
        ("Seq", "00a1"),
        ("Data", "密文"),
    ],
)
def test_bad_formats_are_4003_naming_the_field(field: str, value: str) -> None:
    with pytest.raises(EnvelopeError) as info:
        parse_request(_body(**{field: value}))
    assert field in info.value.msg


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"OperatorID=123456789&Data=x", id="form-encoded"),
        pytest.param(b"{'OperatorID': '123456789'}", id="python-repr"),
        pytest.param(b"[]", id="array"),
        pytest.param(b'"string"', id="string"),
        pytest.param(b"42", id="number"),
        pytest.param(b"null", id="null"),
        pytest.param(b"\xff\xfe{}", id="not-utf8"),
        pytest.param(b"[" * 200_000, id="deep-nesting"),
        pytest.param(b'{"a":' + b"9" * 10_000 + b"}", id="huge-int"),
    ],
)
def test_unusable_bodies_are_envelope_errors(body: bytes) -> None:
    with pytest.raises(EnvelopeError) as info:
        parse_request(body)
    assert info.value.ret == 4003


def test_utf8_bom_and_str_bodies_are_accepted() -> None:
    assert parse_request(codecs.BOM_UTF8 + _body()).seq == "0002"
    assert parse_request(_body().decode()).seq == "0002"


def test_extra_fields_are_ignored() -> None:
    body = json.loads(_body())
    body["Extra"] = 1
    assert parse_request(json.dumps(body).encode()).operator_id == OPERATOR_ID


def test_bad_sig_is_4001() -> None:
    env = parse_request(_body(Sig="0" * 32))
    with pytest.raises(SignatureError) as info:
        open_request(env, EXAMPLE_KEYS)
    assert info.value.ret == Ret.SIGNATURE == 4001


def test_tampered_data_fails_sig_before_decryption() -> None:
    original = json.loads(_body())
    env = parse_request(_body(Data="A" + original["Data"][1:]))
    with pytest.raises(SignatureError):
        open_request(env, EXAMPLE_KEYS)


def test_wrong_partner_keys_fail_signature() -> None:
    with pytest.raises(SignatureError):
        open_request(parse_request(_body()), OTHER_KEYS)


def test_right_sig_wrong_data_key_is_4003_decrypt_error() -> None:
    # Same SigSecret, different DataSecret: Sig passes, decryption must fail cleanly.
    keys = KeySet(EXAMPLE_KEY, "fedcba0987654321", EXAMPLE_KEY, EXAMPLE_KEY)
    with pytest.raises(DecryptError) as info:
        open_request(parse_request(_body()), keys)
    assert info.value.ret == 4003


@pytest.mark.parametrize("plaintext", ["[1,2]", '"text"', "not json", "{bad json}", "NaN"])
def test_decrypted_data_that_is_not_an_object_is_4004(plaintext: str) -> None:
    env = build_request(OPERATOR_ID, plaintext, EXAMPLE_KEYS)
    with pytest.raises(BusinessError) as info:
        open_request(parse_request(env.to_json()), EXAMPLE_KEYS)
    assert info.value.ret == 4004


def test_mime_wrapped_data_verifies_over_raw_string_then_decrypts() -> None:
    data = build_request(OPERATOR_ID, {"Text": "x" * 200}, EXAMPLE_KEYS).data
    wrapped = "\r\n".join(data[i : i + 76] for i in range(0, len(data), 76))
    sig = sign_request(EXAMPLE_KEY, OPERATOR_ID, wrapped, "20240101120001", "0001")
    env = RequestEnvelope(OPERATOR_ID, wrapped, "20240101120001", "0001", sig)
    assert open_request(parse_request(env.to_json()), EXAMPLE_KEYS) == {"Text": "x" * 200}


def test_build_request_uses_seq_generator_and_requires_both_or_neither() -> None:
    clock_value = parse_request(_body()).time
    gen = SeqGenerator(clock=lambda: clock_value)
    first = build_request(OPERATOR_ID, {}, EXAMPLE_KEYS, seq_generator=gen)
    second = build_request(OPERATOR_ID, {}, EXAMPLE_KEYS, seq_generator=gen)
    assert (first.timestamp, first.seq, second.seq) == ("20240101120001", "0001", "0002")
    with pytest.raises(ValueError, match="both"):
        build_request(OPERATOR_ID, {}, EXAMPLE_KEYS, timestamp="20240101120001")
    verify_request(first, EXAMPLE_KEYS)


def test_request_wire_is_compact_utf8_json() -> None:
    wire = build_request(OPERATOR_ID, {}, EXAMPLE_KEYS, timestamp="20240101120001", seq="0001").to_json()
    assert list(json.loads(wire)) == ["OperatorID", "Data", "TimeStamp", "Seq", "Sig"]
    assert b" " not in wire


# -- responses --------------------------------------------------------------------------------------------------------


def test_response_round_trip_with_decimal() -> None:
    from decimal import Decimal

    env = build_response(0, "", {"TotalMoney": Decimal("12.50")}, EXAMPLE_KEYS)
    payload = open_response(parse_response(env.to_json()), EXAMPLE_KEYS)
    assert payload is not None
    assert str(payload["TotalMoney"]) == "12.50"


def test_error_response_from_exception() -> None:
    env = error_response(TokenError(), EXAMPLE_KEYS)
    assert (env.ret, env.msg, env.data) == (4002, "Token错误", "")
    assert env.sig == "4DEBB0A4054B198749F284D77FB60359"  # vector C4


def test_error_response_without_keys_is_unsigned() -> None:
    env = error_response(ParameterError("未知的运营商"), None)
    assert env.to_dict() == {"Ret": 4003, "Msg": "未知的运营商", "Data": "", "Sig": ""}
    with pytest.raises(SignatureError):
        open_response(parse_response(env.to_json()), EXAMPLE_KEYS)


def test_response_bad_sig_raises_signature_error() -> None:
    env = build_response(0, "", {"Status": 0}, EXAMPLE_KEYS)
    tampered = json.loads(env.to_json())
    tampered["Msg"] = "changed"
    with pytest.raises(SignatureError):
        open_response(parse_response(json.dumps(tampered)), EXAMPLE_KEYS)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"Msg": "", "Data": "", "Sig": ""}, id="no-Ret"),
        pytest.param({"Ret": "0", "Msg": "", "Data": "", "Sig": ""}, id="Ret-string"),
        pytest.param({"Ret": True, "Msg": "", "Data": "", "Sig": ""}, id="Ret-bool"),
        pytest.param({"Ret": 0, "Data": "", "Sig": ""}, id="no-Msg"),
        pytest.param({"Ret": 0, "Msg": None, "Data": "", "Sig": ""}, id="Msg-null"),
        pytest.param({"Ret": 0, "Msg": "", "Data": {}, "Sig": ""}, id="Data-object"),
        pytest.param({"Ret": 0, "Msg": "", "Data": ""}, id="no-Sig"),
    ],
)
def test_malformed_responses(body: dict[str, Any]) -> None:
    with pytest.raises(EnvelopeError):
        parse_response(json.dumps(body).encode())


def test_keyset_validates_and_hides_secrets() -> None:
    assert EXAMPLE_KEY not in repr(EXAMPLE_KEYS)
    with pytest.raises(InvalidKeyError):
        KeySet("x", "short", EXAMPLE_KEY, EXAMPLE_KEY)
    with pytest.raises(InvalidKeyError):
        KeySet("x", EXAMPLE_KEY, EXAMPLE_KEY, "")


def test_ret_defaults_and_exception_hierarchy() -> None:
    from apps.protocol import ProtocolError, default_msg

    assert [int(r) for r in Ret] == [-1, 0, 4001, 4002, 4003, 4004, 500]
    assert Ret.SIGNATURE.default_msg == "签名错误"
    assert "OperatorID" in Ret.PARAMETERS.default_msg
    assert default_msg(4005)  # invented codes get a text, not a KeyError
    assert issubclass(EnvelopeError, ParameterError)
    assert issubclass(DecryptError, ParameterError)
    custom = ProtocolError("x", ret=4006)
    assert (custom.ret, custom.msg) == (4006, "x")
    assert TokenError().msg == "Token错误"
