"""Every vector of shared/spec/test-vectors.json, byte for byte, through the low-level and the envelope APIs."""

from __future__ import annotations

import json
from typing import Any

import pytest

from apps.protocol import (
    BusinessError,
    Ret,
    build_request,
    build_response,
    decrypt,
    decrypt_request,
    decrypt_response,
    encrypt,
    open_request,
    open_response,
    parse_request,
    parse_response,
    sign_request,
    sign_response,
    verify,
    verify_request,
    verify_response,
)

from .support import VECTORS_PATH, keys_of, vectors

REQUESTS = vectors("request")
RESPONSES = vectors("response")
WITH_PLAINTEXT = [v for v in vectors() if v["plaintext"] is not None]


def _ids(items: list[dict[str, Any]]) -> list[str]:
    return [v["id"] for v in items]


def test_vector_file_is_found_and_complete() -> None:
    assert VECTORS_PATH.is_file()
    assert _ids(vectors()) == ["P1", "P2", "P3", "C1", "C2", "C3", "C4", "C5"]


@pytest.mark.parametrize("vector", WITH_PLAINTEXT, ids=_ids(WITH_PLAINTEXT))
def test_encrypt_gives_data_exactly(vector: dict[str, Any]) -> None:
    k = vector["keys"]
    assert encrypt(vector["plaintext"], k["DataSecret"], k["DataSecretIV"]) == vector["Data"]


@pytest.mark.parametrize("vector", WITH_PLAINTEXT, ids=_ids(WITH_PLAINTEXT))
def test_decrypt_gives_plaintext_exactly(vector: dict[str, Any]) -> None:
    k = vector["keys"]
    assert decrypt(vector["Data"], k["DataSecret"], k["DataSecretIV"]) == vector["plaintext"]


@pytest.mark.parametrize("vector", REQUESTS, ids=_ids(REQUESTS))
def test_request_sig(vector: dict[str, Any]) -> None:
    sig = sign_request(
        vector["keys"]["SigSecret"], vector["OperatorID"], vector["Data"], vector["TimeStamp"], vector["Seq"]
    )
    assert sig == vector["Sig"]


@pytest.mark.parametrize("vector", RESPONSES, ids=_ids(RESPONSES))
def test_response_sig(vector: dict[str, Any]) -> None:
    assert sign_response(vector["keys"]["SigSecret"], vector["Ret"], vector["Msg"], vector["Data"]) == vector["Sig"]


@pytest.mark.parametrize("vector", REQUESTS, ids=_ids(REQUESTS))
def test_build_request_reproduces_vector(vector: dict[str, Any]) -> None:
    # The plaintext is passed as a str: P1 is not valid JSON and P2 has a raw LF, both must go out verbatim.
    env = build_request(
        vector["OperatorID"], vector["plaintext"], keys_of(vector), timestamp=vector["TimeStamp"], seq=vector["Seq"]
    )
    assert (env.data, env.sig) == (vector["Data"], vector["Sig"])


@pytest.mark.parametrize("vector", REQUESTS, ids=_ids(REQUESTS))
def test_parse_and_decrypt_request_vector(vector: dict[str, Any]) -> None:
    body = json.dumps({f: vector[f] for f in ("OperatorID", "Data", "TimeStamp", "Seq", "Sig")}).encode()
    env = parse_request(body)
    assert decrypt_request(env, keys_of(vector)) == vector["plaintext"]


def test_p1_raw_string_is_not_json_so_open_request_says_4004() -> None:
    (p1,) = [v for v in REQUESTS if v["id"] == "P1"]
    body = json.dumps({f: p1[f] for f in ("OperatorID", "Data", "TimeStamp", "Seq", "Sig")}).encode()
    with pytest.raises(BusinessError) as info:
        open_request(parse_request(body), keys_of(p1))
    assert info.value.ret == Ret.BUSINESS


@pytest.mark.parametrize("vector", REQUESTS, ids=_ids(REQUESTS))
def test_request_verification_accepts_lowercase_sig(vector: dict[str, Any]) -> None:
    body = json.dumps(
        {
            "OperatorID": vector["OperatorID"],
            "Data": vector["Data"],
            "TimeStamp": vector["TimeStamp"],
            "Seq": vector["Seq"],
            "Sig": vector["Sig"].lower(),
        }
    ).encode()
    verify_request(parse_request(body), keys_of(vector))  # no SignatureError
    assert verify(vector["Sig"], vector["Sig"].lower())


@pytest.mark.parametrize("vector", RESPONSES, ids=_ids(RESPONSES))
def test_build_response_reproduces_vector(vector: dict[str, Any]) -> None:
    env = build_response(vector["Ret"], vector["Msg"], vector["plaintext"], keys_of(vector))
    assert (env.data, env.sig) == (vector["Data"], vector["Sig"])


@pytest.mark.parametrize("vector", RESPONSES, ids=_ids(RESPONSES))
def test_parse_and_decrypt_response_vector(vector: dict[str, Any]) -> None:
    body = json.dumps({f: vector[f] for f in ("Ret", "Msg", "Data", "Sig")}, ensure_ascii=False).encode()
    env = parse_response(body)
    assert decrypt_response(env, keys_of(vector)) == vector["plaintext"]
    lowered = parse_response(body.replace(vector["Sig"].encode(), vector["Sig"].lower().encode()))
    verify_response(lowered, keys_of(vector))


def test_p3_crlf_plaintext_opens_as_token_reply() -> None:
    (p3,) = [v for v in RESPONSES if v["id"] == "P3"]
    env = parse_response(json.dumps({f: p3[f] for f in ("Ret", "Msg", "Data", "Sig")}))
    payload = open_response(env, keys_of(p3))
    assert payload == {
        "OperatorID": "123456789",
        "SuccStat": 0,
        "AccessToken": "kVnStIRknCCOBdXgJrmu8rb3pcccifKW2NcQrysKKIzb7iQBxkkjeq3WoGdjgrIL",
        "TokenAvailableTime": 7200,
        "FailReason": 0,
    }


def test_c4_empty_data_and_chinese_msg() -> None:
    (c4,) = [v for v in RESPONSES if v["id"] == "C4"]
    assert c4["Msg"] == Ret.TOKEN.default_msg
    env = build_response(Ret.TOKEN, Ret.TOKEN.default_msg, None, keys_of(c4))
    assert env.data == ""
    assert env.sig == c4["Sig"]
    wire = env.to_json()
    assert "Token错误".encode() in wire  # UTF-8 on the wire, not \u escapes
    assert open_response(parse_response(wire), keys_of(c4)) is None


def test_c5_busy_message_is_the_standard_text() -> None:
    (c5,) = [v for v in RESPONSES if v["id"] == "C5"]
    assert Ret.BUSY.default_msg == c5["Msg"] == "系统繁忙，此时请求方稍后重试"
    env = build_response(Ret.BUSY, Ret.BUSY.default_msg, {}, keys_of(c5))
    assert (env.data, env.sig) == (c5["Data"], c5["Sig"])
    assert open_response(parse_response(env.to_json()), keys_of(c5)) == {}


def test_c1_and_p2_share_first_block_because_iv_is_fixed() -> None:
    by_id = {v["id"]: v for v in vectors()}
    assert by_id["C1"]["Data"][:21] == by_id["P2"]["Data"][:21]  # 21 chars = 126 bits of block 1


def test_vendored_vectors_match_the_spec() -> None:
    from .support import SHARED_VECTORS_PATH, VENDORED_VECTORS_PATH

    vendored = json.loads(VENDORED_VECTORS_PATH.read_text(encoding="utf-8"))
    assert len(vendored["vectors"]) >= 8
    if SHARED_VECTORS_PATH.exists():  # always true in CI, where shared/ sits beside the checkout
        assert json.loads(SHARED_VECTORS_PATH.read_text(encoding="utf-8")) == vendored
