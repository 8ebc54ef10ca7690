"""Hypothesis: validate() and the helpers never raise on arbitrary JSON-like values and always return Problem lists."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.protocol.schema import (
    CONNECTOR_INFO,
    INTERFACES,
    OPERATOR_INFO,
    Date,
    DateTime,
    Problem,
    Struct,
    consistency_problems,
    status_infos,
    validate,
    validate_status_notification,
)
from apps.protocol.timestamps import parse_date, parse_datetime

from .test_schema_examples import EXAMPLES

# database=None: nothing written to .hypothesis/ in the working tree; deadline=None: shared CI boxes are noisy.
FAST = settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

STRUCTS: list[Struct] = sorted(
    {s for pair in INTERFACES.values() for s in pair} | {OPERATOR_INFO}, key=lambda s: s.name
)
# Keys the schemas know, so generated dicts hit real fields instead of being ignored as extras.
KNOWN_KEYS = sorted({f.name for s in STRUCTS for f in s.fields})

_leaf = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.decimals(allow_nan=True, allow_infinity=True)
    | st.floats()
    | st.text(max_size=40)
    | st.sampled_from(["", "2024-05-14 08:30:59", "2024-05-14", "083000", "MA01H3BQ2", "MA01H3BQ2202405140830591234"])
)
_json = st.recursive(
    _leaf,
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(st.sampled_from(KNOWN_KEYS) | st.text(max_size=8), children, max_size=8)
    ),
    max_leaves=40,
)


def _is_problem_list(result: Any) -> bool:
    return isinstance(result, list) and all(isinstance(p, Problem) and p.path is not None and p.rule for p in result)


@FAST
@given(payload=_json, struct=st.sampled_from(STRUCTS))
def test_validate_never_raises(payload: Any, struct: Struct) -> None:
    assert _is_problem_list(validate(payload, struct))


@FAST
@given(payload=_json)
def test_helpers_never_raise(payload: Any) -> None:
    assert _is_problem_list(consistency_problems(payload))
    assert _is_problem_list(validate_status_notification(payload))
    assert isinstance(status_infos(payload), list)


@FAST
@given(
    interface=st.sampled_from(sorted(EXAMPLES)),
    side=st.integers(0, 1),
    key=st.sampled_from(KNOWN_KEYS),
    value=_json,
)
def test_one_field_damaged_in_a_valid_payload(interface: str, side: int, key: str, value: Any) -> None:
    """Damaging one top-level field of a valid example only ever produces Problems, never an exception."""
    payload = dict(EXAMPLES[interface][side]) | {key: value}
    problems = validate(payload, INTERFACES[interface][side])
    assert _is_problem_list(problems)
    # Whatever is reported concerns that field, or a cross-field rule it takes part in.
    for problem in problems:
        assert problem.path.startswith(key) or problem.rule in {"count", "time_order", "required"}, problem


@FAST
@given(
    st.decimals(allow_nan=False, allow_infinity=False, places=1, min_value=0, max_value=Decimal("999999.9"))
)  # numeric(7, 1)
def test_any_one_decimal_power_passes(power: Decimal) -> None:
    payload = {
        "ConnectorID": "C1",
        "ConnectorType": 4,
        "VoltageUpperLimits": 750,
        "VoltageLowerLimits": 200,
        "Current": 250,
        "Power": power,
        "NationalStandard": 2,
    }
    assert validate(payload, CONNECTOR_INFO) == []


_DT_TEXT = (
    st.from_regex(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}", fullmatch=True)
    | st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)).map(str).map(lambda t: t[:19])
    | st.text(alphabet="0123456789-: ٣０²T", min_size=17, max_size=21)
)
_DATE_TEXT = (
    st.from_regex(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", fullmatch=True)
    | st.dates().map(str)
    | st.text(alphabet="0123456789-٣０²/", min_size=8, max_size=11)
)
_TIMES = Struct("T", "测试", [DateTime("At", "时间"), Date("On", "日期")])


def _parses(parser: Any, text: str) -> bool:
    try:
        parser(text)
    except ValueError:
        return False
    return True


@FAST
@given(text=_DT_TEXT)
def test_datetime_check_agrees_with_parse_datetime(text: str) -> None:
    # schema/engine.py re-implements the check without regex for speed; it must accept exactly what timestamps accepts.
    problems = validate({"At": text, "On": "2024-01-01"}, _TIMES)
    assert (problems == []) == _parses(parse_datetime, text), text


@FAST
@given(text=_DATE_TEXT)
def test_date_check_agrees_with_parse_date(text: str) -> None:
    problems = validate({"At": "2024-01-01 00:00:00", "On": text}, _TIMES)
    assert (problems == []) == _parses(parse_date, text), text
