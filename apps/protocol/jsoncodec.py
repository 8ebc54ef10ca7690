"""JSON for Data plaintexts: Decimal amounts go out as numbers with their scale and come back as Decimal."""

from __future__ import annotations

import json
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

__all__ = ["MAX_EXPONENT", "MAX_NUMBER_CHARS", "ImplausibleNumber", "dumps", "loads"]

# The C string encoder that json.dumps(ensure_ascii=False) uses: escapes quotes/controls, keeps Chinese as UTF-8.
_encode_str = json.encoder.encode_basestring
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


# No field of the protocol needs a number written with more characters or a larger exponent than this: the widest
# column is numeric(16, 4), and Java peers write doubles such as 1.0E-4 or 1.2E7. `1E+999999999` is a valid Decimal
# that prints as a gigabyte (the order's digest, the journal); it is refused while it is parsed.
MAX_NUMBER_CHARS = 40
MAX_EXPONENT = 30


class ImplausibleNumber(ValueError):
    """A number no field could hold, refused at parse: `path` names where it was (`ChargeDetails[0].DetailPower`)."""

    def __init__(self, path: str, literal: str) -> None:
        super().__init__(f"{path}: implausible number {literal[:MAX_NUMBER_CHARS]}")
        self.path = path
        self.literal = literal


class _Implausible(ValueError):
    """Raised by the number hook: aborts the fast parse at once, whatever follows in the text."""


def _plausible(literal: str) -> bool:
    if len(literal) > MAX_NUMBER_CHARS:
        return False
    mark = literal.find("e")
    if mark < 0:
        mark = literal.find("E")
    # The exponent is at most MAX_NUMBER_CHARS digits long here, so int() of it is cheap.
    return mark < 0 or abs(int(literal[mark + 1 :])) <= MAX_EXPONENT


def _decimal(literal: str) -> Decimal:
    # The common short plain literal skips the check.
    if (len(literal) > 24 or "e" in literal or "E" in literal) and not _plausible(literal):
        raise _Implausible(literal)
    return Decimal(literal)


class _Marker:
    __slots__ = ("literal",)

    def __init__(self, literal: str) -> None:
        self.literal = literal


def _marked(literal: str) -> Any:
    return Decimal(literal) if _plausible(literal) else _Marker(literal)


def _marked_int(literal: str) -> Any:
    return int(literal) if len(literal) <= MAX_NUMBER_CHARS else _Marker(literal)


def _first_marker(value: Any) -> tuple[str, str] | None:
    """(path, literal) of the first marked number, walking iteratively (the depth was not checked yet)."""
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, _Marker):
            return path or "Data", item.literal
        if isinstance(item, dict):
            stack.extend((f"{path}.{key}" if path else str(key), child) for key, child in reversed(item.items()))
        elif isinstance(item, list):
            stack.extend((f"{path}[{index}]", child) for index, child in reversed(list(enumerate(item))))
    return None


def loads(text: str | bytes) -> Any:
    """Parse JSON with non-integer numbers as Decimal (exact money) and NaN/Infinity refused (not JSON).

    A number longer than MAX_NUMBER_CHARS or with an exponent beyond MAX_EXPONENT raises ImplausibleNumber naming
    where it was: found by a second parse that marks such numbers (and integers too long for int()), which only
    text that failed the first one ever pays for.
    """
    try:
        return json.loads(text, parse_float=_decimal, parse_constant=_reject_constant)
    except ValueError as exc:
        try:
            marked = json.loads(text, parse_float=_marked, parse_int=_marked_int, parse_constant=_reject_constant)
        except (ValueError, RecursionError):
            raise exc from None
        found = _first_marker(marked)
        if found is None:
            raise
        raise ImplausibleNumber(*found) from None


# The deepest structure of parts 2–4 (a StationInfo page) nests 7 levels; nothing legitimate comes near this.
MAX_DEPTH = 32


def nested_deeper_than(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether objects and arrays nest more than `limit` levels; iterative, so a hostile depth cannot overflow."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children: Iterable[Any]
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
