"""JSON for Data plaintexts: Decimal amounts go out as numbers with their scale and come back as Decimal."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

__all__ = ["dumps", "loads"]

# The C string encoder that json.dumps(ensure_ascii=False) uses: escapes quotes/controls, keeps Chinese as UTF-8.
_encode_str = json.encoder.encode_basestring  # type: ignore[attr-defined]
_float_repr = float.__repr__


def _encode(value: Any, out: list[str]) -> None:
    # Order: the common leaf types first; bool before int because bool is an int subclass.
    if isinstance(value, str):
        out.append(_encode_str(value))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(int.__repr__(value))
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"cannot encode non-finite Decimal {value}")
        # "f" keeps the scale (Decimal("1.50") → 1.50) and never emits exponents such as 1E+2 or 0E-8,
        # which some Java parsers of peers read into the wrong type.
        out.append(format(value, "f"))
    elif isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"cannot encode non-finite float {value}")
        out.append(_float_repr(value))
    elif isinstance(value, dict):
        out.append("{")
        first = True
        for key, item in value.items():
            if isinstance(key, str):
                name = key
            elif isinstance(key, int) and not isinstance(key, bool):  # as json.dumps does for int keys
                name = int.__repr__(key)
            else:
                raise TypeError(f"JSON object keys must be str or int, not {type(key).__name__}")
            if not first:
                out.append(",")
            first = False
            out.append(_encode_str(name))
            out.append(":")
            _encode(item, out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _encode(item, out)
        out.append("]")
    else:
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _has_decimal(value: Any) -> bool:
    if isinstance(value, Decimal):
        return True
    if isinstance(value, dict):
        return any(_has_decimal(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_has_decimal(v) for v in value)
    return False


def dumps(value: Any) -> str:
    """Compact JSON (no spaces, ensure_ascii=False); Decimal emitted as a plain number keeping its scale."""
    # The stdlib C encoder is several times faster, and most payloads (status pushes) carry no Decimal at all;
    # it cannot print a Decimal as a raw number, so only those payloads take the small Python encoder.
    if not _has_decimal(value):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    out: list[str] = []
    _encode(value, out)
    return "".join(out)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def loads(text: str | bytes) -> Any:
    """Parse JSON with non-integer numbers as Decimal (exact money) and NaN/Infinity refused (not JSON)."""
    return json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)


# The deepest structure of parts 2–4 (a StationInfo page) nests 7 levels; nothing legitimate comes near this.
MAX_DEPTH = 32


def nested_deeper_than(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether objects and arrays nest more than `limit` levels; iterative, so a hostile depth cannot overflow."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False
