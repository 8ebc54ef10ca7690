"""Decimal-preserving JSON: amounts keep their scale on the way out and come back as Decimal."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.protocol import dumps, loads
from apps.protocol.jsoncodec import MAX_NUMBER_CHARS, ImplausibleNumber, _encode


def test_decimal_keeps_scale() -> None:
    assert dumps({"Money": Decimal("1.50")}) == '{"Money":1.50}'
    assert dumps([Decimal("0.0000"), Decimal("-2.10"), Decimal("100")]) == "[0.0000,-2.10,100]"


def test_decimal_never_uses_exponent() -> None:
    assert dumps([Decimal("1E+2"), Decimal("0E-8"), Decimal("1.5E-3")]) == "[100,0.00000000,0.0015]"


def test_round_trip_preserves_exponent() -> None:
    value = {"TotalMoney": Decimal("12.50"), "Power": Decimal("7.000"), "Count": 3}
    back = loads(dumps(value))
    assert back == value
    assert [str(back["TotalMoney"]), str(back["Power"])] == ["12.50", "7.000"]
    assert isinstance(back["Count"], int)


def test_loads_parses_floats_as_decimal_and_refuses_nan() -> None:
    assert loads('{"a":0.1}') == {"a": Decimal("0.1")}
    assert loads(b'{"a":1e2}')["a"] == Decimal("1E+2")
    for bad in ['{"a":NaN}', '{"a":Infinity}', '{"a":-Infinity}']:
        with pytest.raises(ValueError, match="not valid JSON"):
            loads(bad)


def test_compact_and_unescaped_chinese() -> None:
    text = dumps({"StationName": "充电站", "Tags": ["a", "b"], "Money": Decimal("1.0")})
    assert text == '{"StationName":"充电站","Tags":["a","b"],"Money":1.0}'


@pytest.mark.parametrize("bad", [Decimal("NaN"), Decimal("Infinity"), float("nan"), float("inf")])
def test_non_finite_numbers_refused(bad: object) -> None:
    with pytest.raises(ValueError, match="non-finite|not JSON compliant|Out of range"):
        dumps({"x": bad, "d": Decimal(1)})
    with pytest.raises(ValueError, match="non-finite|not JSON compliant|Out of range"):
        dumps({"x": bad})


def test_unsupported_types_refused() -> None:
    with pytest.raises(TypeError):
        dumps({"x": object(), "d": Decimal(1)})
    with pytest.raises(TypeError):
        dumps({(1, 2): 1, "d": Decimal(1)})


_json_leaf = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text()
_json_value = st.recursive(
    _json_leaf,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None, database=None)
@given(_json_value)
def test_python_encoder_matches_stdlib_for_decimal_free_values(value: object) -> None:
    # dumps() uses the C encoder when no Decimal is present and the Python one otherwise: both must agree.
    out: list[str] = []
    _encode(value, out)
    assert "".join(out) == json.dumps(value, ensure_ascii=False, separators=(",", ":")) == dumps(value)


@settings(max_examples=150, deadline=None, database=None)
@given(st.decimals(allow_nan=False, allow_infinity=False))
def test_any_finite_decimal_round_trips_by_value_or_is_refused_as_implausible(value: Decimal) -> None:
    text = dumps([value])
    if len(text) - 2 > MAX_NUMBER_CHARS:
        with pytest.raises(ImplausibleNumber) as refused:
            loads(text)
        assert refused.value.path == "[0]"
    else:
        assert loads(text)[0] == value


@pytest.mark.parametrize(
    "literal", ["1E+999999999", "0E-999999999", "1e31", "-1.5E-31", "1" * 41 + ".5", "0." + "0" * 39, "9" * 5000]
)
def test_a_number_no_field_could_hold_is_refused_at_parse_naming_where(literal):
    with pytest.raises(ImplausibleNumber) as refused:
        loads('{"TotalMoney":1,"ChargeDetails":[{"DetailPower":2},{"DetailPower":' + literal + "}]}")
    assert refused.value.path == "ChargeDetails[1].DetailPower"


def test_java_doubles_and_long_fractions_are_plausible():
    assert loads('{"a":1.0E-4,"b":1.2E7,"c":0.30000000000000004,"d":1e30}') == {
        "a": Decimal("0.00010"),
        "b": Decimal("1.2E+7"),
        "c": Decimal("0.30000000000000004"),
        "d": Decimal("1E+30"),
    }


def test_a_hostile_number_costs_no_more_than_an_ordinary_one():
    import timeit

    ordinary = '{"TotalMoney":15.00,"TotalPower":12.50,"ChargeDetails":[{"DetailPower":6.25}]}'
    hostile = ordinary.replace("6.25", "1E+999999999")

    def refuse():
        with pytest.raises(ImplausibleNumber):
            loads(hostile)

    assert timeit.timeit(refuse, number=2000) < 10 * timeit.timeit(lambda: loads(ordinary), number=2000)
