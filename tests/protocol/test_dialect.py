"""Dialect flags: the standard refuses each known deviation, the operator's flag accepts it."""

from __future__ import annotations

import copy
import json
from decimal import Decimal

import pytest

from apps.protocol import (
    STANDARD,
    Dialect,
    EnvelopeError,
    ParameterError,
    RequestEnvelope,
    TokenError,
    build_base_url,
    build_response,
    encrypt,
    normalise_aliases,
    normalise_timestamp,
    open_request,
    open_response,
    parse_authorization,
    parse_request,
    parse_response,
    sign_request,
)

from .support import EXAMPLE_KEY, EXAMPLE_KEYS, OPERATOR_ID

XIAOJU_STYLE = {
    "StartChargeSeq": "123456789201605140830591234",
    "TotalServiceMoney": Decimal("3.20"),
    "ChargeDetails": [
        {"DetailServiceMoney": Decimal("1.20"), "ServicePrice": Decimal("0.8000"), "ElecPrice": Decimal("1.0000")},
        {"DetailServiceMoney": Decimal("2.00"), "ServicePrice": Decimal("0.8000")},
    ],
    "ServiceMoney": Decimal("3.20"),
    "ElectMoney": Decimal("5.00"),
}
STANDARD_SPELLING = {
    "StartChargeSeq": "123456789201605140830591234",
    "TotalSeviceMoney": Decimal("3.20"),
    "ChargeDetails": [
        {"DetailSeviceMoney": Decimal("1.20"), "SevicePrice": Decimal("0.8000"), "ElecPrice": Decimal("1.0000")},
        {"DetailSeviceMoney": Decimal("2.00"), "SevicePrice": Decimal("0.8000")},
    ],
    "SeviceMoney": Decimal("3.20"),
    "ElecMoney": Decimal("5.00"),
}
SPELLING = Dialect(service_spelling=True)


def test_dialect_defaults_are_all_false() -> None:
    assert Dialect() == STANDARD
    assert not any(
        [
            STANDARD.lowercase_sig,
            STANDARD.bare_token,
            STANDARD.millisecond_timestamp,
            STANDARD.service_spelling,
            STANDARD.no_v_base_url,
        ]
    )


# -- service spelling -------------------------------------------------------------------------------------------------


def test_standard_dialect_leaves_variant_keys_alone() -> None:
    assert normalise_aliases(XIAOJU_STYLE, STANDARD) is XIAOJU_STYLE


def test_service_spelling_renames_recursively_without_mutating_input() -> None:
    before = copy.deepcopy(XIAOJU_STYLE)
    assert normalise_aliases(XIAOJU_STYLE, SPELLING) == STANDARD_SPELLING
    assert before == XIAOJU_STYLE


def test_standard_spelling_wins_when_both_present() -> None:
    mixed = {"SeviceMoney": Decimal(1), "ServiceMoney": Decimal(2)}
    assert normalise_aliases(mixed, SPELLING) == {"SeviceMoney": Decimal(1)}
    mixed_reversed = {"ServiceMoney": Decimal(2), "SeviceMoney": Decimal(1)}
    assert normalise_aliases(mixed_reversed, SPELLING) == {"SeviceMoney": Decimal(1)}


def test_aliases_only_rename_keys_not_values() -> None:
    payload = {"Note": "ServiceMoney", "List": ["ElectMoney"]}
    assert normalise_aliases(payload, SPELLING) == payload


def test_open_request_and_response_apply_the_dialect() -> None:
    from apps.protocol import build_request, dumps

    env = build_request(OPERATOR_ID, dumps(XIAOJU_STYLE), EXAMPLE_KEYS)
    assert open_request(parse_request(env.to_json()), EXAMPLE_KEYS) == XIAOJU_STYLE
    assert open_request(parse_request(env.to_json()), EXAMPLE_KEYS, dialect=SPELLING) == STANDARD_SPELLING
    response = parse_response(build_response(0, "", XIAOJU_STYLE, EXAMPLE_KEYS).to_json())
    assert open_response(response, EXAMPLE_KEYS, dialect=SPELLING) == STANDARD_SPELLING


# -- Authorization header ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    ["Bearer abc123", "bearer abc123", "BEARER abc123", "Bearer  abc123", " Bearer abc123 ", "Bearer a-b.c_d~e+f/g="],
)
@pytest.mark.parametrize("dialect", [STANDARD, Dialect(bare_token=True)], ids=["standard", "bare"])
def test_bearer_forms_always_accepted(header: str, dialect: Dialect) -> None:
    assert parse_authorization(header, dialect) == header.split()[-1]


def test_bare_token_refused_by_standard_accepted_by_flag() -> None:
    with pytest.raises(TokenError) as info:
        parse_authorization("abc123", STANDARD)
    assert info.value.ret == 4002
    assert parse_authorization("abc123", Dialect(bare_token=True)) == "abc123"
    # Without a space "Bearerabc" is no scheme at all: a bare token for the flag, an error for the standard.
    assert parse_authorization("Bearerabc", Dialect(bare_token=True)) == "Bearerabc"
    with pytest.raises(TokenError):
        parse_authorization("Bearerabc", STANDARD)


@pytest.mark.parametrize(
    "header",
    [None, "", "   ", "Bearer", "Bearer ", "Bearer a b", "Basic dXNlcjpwYXNz", "Bearer 令牌", "Token abc"],
)
@pytest.mark.parametrize("dialect", [STANDARD, Dialect(bare_token=True)], ids=["standard", "bare"])
def test_malformed_authorization_is_4002(header: str | None, dialect: Dialect) -> None:
    with pytest.raises(TokenError):
        parse_authorization(header, dialect)


# -- millisecond TimeStamp --------------------------------------------------------------------------------------------

MS = "1704081601000"  # 2024-01-01 12:00:01 Asia/Shanghai
MS_DIALECT = Dialect(millisecond_timestamp=True)


def _ms_body() -> bytes:
    data = encrypt('{"Status":0}', EXAMPLE_KEY, EXAMPLE_KEY)
    sig = sign_request(EXAMPLE_KEY, OPERATOR_ID, data, MS, "0001")  # the peer signs what it sends
    return json.dumps({"OperatorID": OPERATOR_ID, "Data": data, "TimeStamp": MS, "Seq": "0001", "Sig": sig}).encode()


def test_millisecond_timestamp_refused_by_standard() -> None:
    with pytest.raises(EnvelopeError, match="TimeStamp"):
        parse_request(_ms_body())
    with pytest.raises(EnvelopeError, match="TimeStamp"):
        normalise_timestamp(MS)


def test_millisecond_timestamp_normalised_and_still_verifiable_under_flag() -> None:
    env = parse_request(_ms_body(), dialect=MS_DIALECT)
    assert env.timestamp == "20240101120001"
    assert env.wire_timestamp == MS
    assert env.to_dict()["TimeStamp"] == MS
    assert open_request(env, EXAMPLE_KEYS) == {"Status": 0}


def test_dialect_can_be_looked_up_from_the_operator_id() -> None:
    seen: list[str] = []

    def lookup(operator_id: str) -> Dialect:
        seen.append(operator_id)
        return MS_DIALECT

    assert parse_request(_ms_body(), dialect=lookup).timestamp == "20240101120001"
    assert seen == [OPERATOR_ID]

    def unknown(operator_id: str) -> Dialect:
        raise ParameterError(f"未知的运营商{operator_id}")

    with pytest.raises(ParameterError, match="未知"):
        parse_request(_ms_body(), dialect=unknown)


def test_millisecond_flag_still_accepts_standard_and_rejects_junk() -> None:
    assert normalise_timestamp("20240101120001", MS_DIALECT) == "20240101120001"
    # (a 14-digit value such as 17040816010000 is a valid yyyyMMddHHmmss — year 1704 — and is left to the
    # freshness window, not to the format check)
    for bad in ["170408160100", "170408160100000", "17040816010a0", "-704081601000", "１７０４０８１６０１０００"]:
        with pytest.raises(EnvelopeError):
            normalise_timestamp(bad, MS_DIALECT)


# -- lowercase Sig and base URL ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("dialect", [STANDARD, Dialect(lowercase_sig=True)], ids=["standard", "flag"])
def test_lowercase_sig_is_accepted_regardless_of_flag(dialect: Dialect) -> None:
    data = encrypt("{}", EXAMPLE_KEY, EXAMPLE_KEY)
    sig = sign_request(EXAMPLE_KEY, OPERATOR_ID, data, "20240101120001", "0001").lower()
    env = RequestEnvelope(OPERATOR_ID, data, "20240101120001", "0001", sig)
    assert open_request(parse_request(env.to_json(), dialect=dialect), EXAMPLE_KEYS, dialect=dialect) == {}


def test_build_base_url() -> None:
    assert build_base_url("http://hlht.zc3u.com/", "20160701") == "http://hlht.zc3u.com/evcs/v20160701/"
    assert (
        build_base_url("http://hlht.zc3u.com", "20160701", Dialect(no_v_base_url=True))
        == "http://hlht.zc3u.com/evcs/20160701/"
    )
    assert build_base_url("https://x.example", "v1.0") == "https://x.example/evcs/v1.0/"


# -- lower-case envelope keys and lowerCamel Data (a FastAPI operator server met in the field) ------------------------


def test_lowercase_envelope_keys_only_under_their_flag():
    import json as _json

    from apps.protocol import EnvelopeError, KeySet, build_response, parse_response
    from apps.protocol.dialect import Dialect

    keys = KeySet("1234567890abcdef", "1234567890abcdef", "1234567890abcdef", "1234567890abcdef")
    standard = build_response(0, "", {"SuccStat": 0}, keys)
    lower = _json.dumps({k.lower(): v for k, v in standard.to_dict().items()}).encode()
    with pytest.raises(EnvelopeError):
        parse_response(lower)
    assert parse_response(lower, dialect=Dialect(lowercase_keys=True)) == standard
    assert parse_response(standard.to_json(), dialect=Dialect(lowercase_keys=True)) == standard


def test_lowercase_request_keys_looked_up_by_the_claimed_sender():
    import json as _json

    from apps.protocol import STANDARD, EnvelopeError, KeySet, build_request, parse_request
    from apps.protocol.dialect import Dialect

    keys = KeySet("1234567890abcdef", "1234567890abcdef", "1234567890abcdef", "1234567890abcdef")
    envelope = build_request("123456789", {"PageNo": 1}, keys)
    body = _json.dumps({k[:1].lower() + k[1:]: v for k, v in envelope.to_dict().items()}).encode()  # operatorID…
    assert parse_request(body, dialect=lambda oid: Dialect(lowercase_keys=True)).sig == envelope.sig
    with pytest.raises(EnvelopeError, match="OperatorID"):
        parse_request(body, dialect=lambda oid: STANDARD)


def test_lower_camel_data_renamed_only_under_its_flag():
    from apps.protocol.dialect import Dialect, normalise_aliases

    data = {"succStat": 0, "stationInfos": [{"stationID": "S1", "equipmentInfos": [{"connectorInfos": []}]}]}
    assert normalise_aliases(data, Dialect()) == data
    assert normalise_aliases(data, Dialect(lower_camel_fields=True)) == {
        "SuccStat": 0, "StationInfos": [{"StationID": "S1", "EquipmentInfos": [{"ConnectorInfos": []}]}],
    }  # fmt: skip
    both = {"succStat": 1, "SuccStat": 0}
    assert normalise_aliases(both, Dialect(lower_camel_fields=True)) == {"SuccStat": 0}
