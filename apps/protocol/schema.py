"""Declarative validation of T/CEC 102 Data payloads (parts 2–4 and Beijing's bonus order) reporting every problem."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import MAX_EMAX, MIN_EMIN, Context, Decimal, localcontext
from typing import Any, Final

from .errors import BusinessError
from .names import Interface
from .text import first_forbidden, safe_text
from .timestamps import FIRST_YEAR, LAST_YEAR

__all__ = [
    "BONUS_SEQ_MAX_LEN",
    "CHARACTERS",
    "CHARGE_DETAIL",
    "CHARGE_ORDER",
    "CHECK_CHARGE_ORDERS_REQUEST",
    "CHECK_CHARGE_ORDERS_RESPONSE",
    "CONNECTOR_INFO",
    "CONNECTOR_STATS_INFO",
    "CONNECTOR_STATUS_INFO",
    "CONSISTENCY",
    "COUNT",
    "DISPUTE_ORDER",
    "ENUM",
    "EQUIPMENT_INFO",
    "EQUIPMENT_STATS_INFO",
    "EQUIP_CHARGE_STATUS",
    "FIXED_LEN",
    "FORMAT",
    "INTERFACES",
    "MAX_INTEGER",
    "MAX_ITEMS",
    "MAX_LEN",
    "MAX_MEASURE",
    "MIN_ITEMS",
    "MIN_LEN",
    "NOTIFICATION_CHARGE_ORDER_INFO_FOR_BONUS_REQUEST",
    "NOTIFICATION_CHARGE_ORDER_INFO_FOR_BONUS_RESPONSE",
    "NOTIFICATION_CHARGE_ORDER_INFO_REQUEST",
    "NOTIFICATION_CHARGE_ORDER_INFO_RESPONSE",
    "NOTIFICATION_EQUIP_CHARGE_STATUS_REQUEST",
    "NOTIFICATION_EQUIP_CHARGE_STATUS_RESPONSE",
    "NOTIFICATION_START_CHARGE_RESULT_REQUEST",
    "NOTIFICATION_START_CHARGE_RESULT_RESPONSE",
    "NOTIFICATION_STATION_STATUS_REQUEST",
    "NOTIFICATION_STATION_STATUS_RESPONSE",
    "NOTIFICATION_STOP_CHARGE_RESULT_REQUEST",
    "NOTIFICATION_STOP_CHARGE_RESULT_RESPONSE",
    "OPERATOR_INFO",
    "POLICY_INFO",
    "QUERY_EQUIP_AUTH_REQUEST",
    "QUERY_EQUIP_AUTH_RESPONSE",
    "QUERY_EQUIP_BUSINESS_POLICY_REQUEST",
    "QUERY_EQUIP_BUSINESS_POLICY_RESPONSE",
    "QUERY_EQUIP_CHARGE_STATUS_REQUEST",
    "QUERY_EQUIP_CHARGE_STATUS_RESPONSE",
    "QUERY_START_CHARGE_REQUEST",
    "QUERY_START_CHARGE_RESPONSE",
    "QUERY_STATIONS_INFO_REQUEST",
    "QUERY_STATIONS_INFO_RESPONSE",
    "QUERY_STATION_STATS_REQUEST",
    "QUERY_STATION_STATS_RESPONSE",
    "QUERY_STATION_STATUS_REQUEST",
    "QUERY_STATION_STATUS_RESPONSE",
    "QUERY_STOP_CHARGE_REQUEST",
    "QUERY_STOP_CHARGE_RESPONSE",
    "QUERY_TOKEN_REQUEST",
    "QUERY_TOKEN_RESPONSE",
    "RANGE",
    "REQUIRED",
    "SCALE",
    "STATION_INFO",
    "STATION_STATS_INFO",
    "STATION_STATUS_INFO",
    "TIME_ORDER",
    "TYPE",
    "UNIQUE",
    "VOLTAGE_ORDER",
    "Date",
    "DateTime",
    "Field",
    "HHmmss",
    "Int",
    "InvalidPayload",
    "List",
    "Num",
    "Obj",
    "OperatorID",
    "Problem",
    "Serial27",
    "Str",
    "Struct",
    "check",
    "column_max",
    "consistency_problems",
    "status_infos",
    "validate",
    "validate_status_notification",
]

# Rule codes: short, stable, machine-readable (callers may map them to metrics or partner reports).
REQUIRED: Final = "required"
TYPE: Final = "type"
MIN_LEN: Final = "min_len"
MAX_LEN: Final = "max_len"
FIXED_LEN: Final = "fixed_len"
ENUM: Final = "enum"
SCALE: Final = "scale"
RANGE: Final = "range"
FORMAT: Final = "format"
MIN_ITEMS: Final = "min_items"
MAX_ITEMS: Final = "max_items"
UNIQUE: Final = "unique"
COUNT: Final = "count"
TIME_ORDER: Final = "time_order"
VOLTAGE_ORDER: Final = "voltage_order"
CONSISTENCY: Final = "consistency"
CHARACTERS: Final = "characters"

_MAX_SHOWN = 32  # characters of an offending value quoted in a message: enough to recognise it, bounded Msg size
_MSG_LIMIT = 480  # check(): keep the 4004 Msg under ~500 characters
_MSG_PROBLEMS = 5  # check(): problems quoted in the Msg; the rest are counted


@dataclass(frozen=True, slots=True)
class Problem:
    """One violation: where (`StationInfos[3].EquipmentInfos[0].Power`), which rule, and a Chinese message."""

    path: str
    rule: str
    message: str

    def __str__(self) -> str:
        return self.message


# --------------------------------------------------------------------------------------------------------------------
# Helpers shared by the field specs
# --------------------------------------------------------------------------------------------------------------------


def _characters_tail(match: re.Match[str]) -> str:
    code = ord(match.group())
    kind = "不成对的代理字符" if 0xD800 <= code <= 0xDFFF else "控制字符"
    return f"含有{kind} U+{code:04X}（第{match.start() + 1}个字符），不能包含控制字符或不成对的代理字符"


# Tuples, not `int | Decimal` unions: isinstance() with a tuple is several times faster on this hot path.
_SEQUENCE = (list, tuple)
_NUMBER = (int, Decimal, float)

# (rule, message tail) of a scalar problem; the caller prefixes the field's path and label.
Finding = tuple[str, str] | None


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _kind(value: Any) -> str:
    # bool first: it is an int subclass and must be named as what the peer actually sent.
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "布尔值"
    if isinstance(value, int):
        return "整数"
    if isinstance(value, Decimal | float):
        return "小数"
    if isinstance(value, str):
        return "字符串"
    if isinstance(value, dict):
        return "对象"
    if isinstance(value, _SEQUENCE):
        return "数组"
    return type(value).__name__


def _show(value: Any) -> str:
    if isinstance(value, str):
        # Escaped: a message quoting what a peer sent must itself be signable and storable.
        text = safe_text(value, _MAX_SHOWN) + ("…" if len(value) > _MAX_SHOWN else "")
        return f"“{text}”"
    if isinstance(value, int) and value.bit_length() > 100:
        # str() of a huge int raises past 4300 digits (CPython's DoS guard); the message only needs "too big".
        return f"{'-' if value < 0 else ''}{_MAX_SHOWN}位以上的整数"
    if isinstance(value, Decimal) and value.is_finite() and -_MAX_SHOWN < value.adjusted() < _MAX_SHOWN:
        # "f" shows Decimal("1E+2") as 100; big exponents stay in E-notation (1E+999999999 must not become 1 GB).
        text = format(value, "f")
    else:
        text = str(value)
    return text if len(text) <= _MAX_SHOWN else text[:_MAX_SHOWN] + "…"


def _is_number(value: Any) -> bool:
    """int (not bool), finite Decimal or finite float."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    if isinstance(value, Decimal):
        return value.is_finite()
    if isinstance(value, float):
        return value - value == 0  # False for NaN and ±inf without importing math
    return False


def _as_decimal(value: int | Decimal | float) -> Decimal:
    # repr(float) is the shortest round-tripping text, so 7.2 stays 7.2 instead of 7.2000000000000001776…
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


def _within_scale(value: Decimal, scale: int) -> bool:
    """At most `scale` decimals that carry information: 7.20 fits scale 1 (trailing zeros are scale, not precision)."""
    # str() of a Decimal is several times cheaper than as_tuple(); only exponent notation (1E-7) needs the slow path.
    text = str(value)
    if "E" not in text:
        dot = text.find(".")
        if dot < 0 or len(text) - dot - 1 <= scale:
            return True
        return len(text.rstrip("0")) - dot - 1 <= scale
    _, digits, exponent = value.as_tuple()
    if not isinstance(exponent, int) or exponent >= -scale:
        return True
    trailing = 0
    for digit in reversed(digits):
        if digit:
            break
        trailing += 1
    return exponent + trailing >= -scale


# --------------------------------------------------------------------------------------------------------------------
# Field specs
# --------------------------------------------------------------------------------------------------------------------


class Field:
    """A field's wire name, Chinese label and required flag; subclasses add the checks.

    Scalar specs implement `inspect(value) -> (rule, tail) | None` so a valid value costs no path string at all;
    containers (Obj, List) implement `check(value, path, out)` because their children need the path.
    """

    __slots__ = ("label", "name", "required")

    scalar = True
    # Strings may arrive as "" for "not given" (LastQueryTime, ProductionDate…); only string-typed specs set this.
    empty_is_absent = False

    def __init__(self, name: str = "", label: str = "", *, required: bool = True) -> None:
        self.name = name
        self.label = label
        self.required = required

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, {self.label!r}, required={self.required})"

    def describe(self, path: str) -> str:
        """How a message names the field: its path plus the Chinese label, e.g. `StationName（充电站名称）`."""
        return f"{path}（{self.label}）" if self.label else path

    def problem(self, path: str, rule: str, tail: str) -> Problem:
        return Problem(path, rule, self.describe(path) + tail)

    def inspect(self, value: Any) -> Finding:
        """The first problem of a present, non-null scalar value, or None."""
        raise NotImplementedError

    def check(self, value: Any, path: str, out: list[Problem]) -> None:
        """Append the problems of a present, non-null `value` found at `path` (the field's own full path)."""
        finding = self.inspect(value)
        if finding is not None:
            out.append(self.problem(path, *finding))


def _type_finding(value: Any, expected: str) -> tuple[str, str]:
    return TYPE, f"应为{expected}，实际为{_kind(value)}"


class Str(Field):
    """String with optional max/fixed/min length (in characters) and a precompiled regex or predicate."""

    __slots__ = (
        "allow_empty",
        "fixed_len",
        "format_name",
        "hi",
        "lo",
        "matches",
        "max_len",
        "min_len",
        "pattern",
        "predicate",
    )
    empty_is_absent = True

    def __init__(
        self,
        name: str = "",
        label: str = "",
        *,
        required: bool = True,
        max_len: int | None = None,
        fixed_len: int | None = None,
        min_len: int | None = None,
        pattern: str | re.Pattern[str] | None = None,
        predicate: Callable[[str], bool] | None = None,
        format_name: str = "",
        allow_empty: bool = False,
    ) -> None:
        super().__init__(name, label, required=required)
        self.max_len = max_len
        self.fixed_len = fixed_len
        self.min_len = min_len
        self.pattern = re.compile(pattern) if isinstance(pattern, str) else pattern
        self.predicate = predicate
        self.format_name = format_name or (self.pattern.pattern if self.pattern is not None else "")
        # A required string that is "" is as good as missing, except where the spec allows it (QRCode).
        self.allow_empty = allow_empty
        # Fast path: one length window test and at most one format call for the (overwhelmingly) valid case.
        self.lo = fixed_len if fixed_len is not None else max(min_len or 1, 1)
        self.hi = fixed_len if fixed_len is not None else (max_len if max_len is not None else sys.maxsize)
        self.matches = self._format_check()

    def _format_check(self) -> Callable[[str], bool] | None:
        predicate, pattern = self.predicate, self.pattern
        if pattern is None:
            return predicate
        if predicate is None:
            return lambda value: pattern.fullmatch(value) is not None
        return lambda value: predicate(value) and pattern.fullmatch(value) is not None

    def inspect(self, value: Any) -> Finding:
        if value.__class__ is not str and not isinstance(value, str):
            return _type_finding(value, "字符串")
        if (bad := first_forbidden(value)) is not None:
            return CHARACTERS, _characters_tail(bad)
        size = len(value)
        if self.lo <= size <= self.hi:
            if self.matches is None or self.matches(value):
                return None
            return FORMAT, f"格式应为{self.format_name}，实际为{_show(value)}"
        if size == 0:
            # Optional strings never get here as "" (absent); required ones may be "" only where allowed (QRCode).
            return (REQUIRED, "不能为空") if self.required and not self.allow_empty else None
        if self.fixed_len is not None:
            return FIXED_LEN, f"长度应为{self.fixed_len}，实际为{size}"
        if size > self.hi:
            return MAX_LEN, f"长度不能超过{self.max_len}，实际为{size}"
        return MIN_LEN, f"长度不能少于{self.min_len}，实际为{size}"


def _alnum_ascii(value: str) -> bool:
    # str methods beat a regex here; isascii() first because isalnum() alone accepts Chinese and full-width digits.
    return value.isascii() and value.isalnum()


class OperatorID(Str):
    """Exactly 9 ASCII letters/digits (组织机构代码 without '-', or characters 9–17 of a USCC)."""

    __slots__ = ()

    def __init__(self, name: str = "", label: str = "", *, required: bool = True) -> None:
        super().__init__(
            name, label, required=required, fixed_len=9, predicate=_alnum_ascii, format_name="9位字母或数字"
        )


class Serial27(Str):
    """Business serial number: exactly 27 ASCII letters/digits (OperatorID + 18-character unique suffix)."""

    __slots__ = ()

    def __init__(self, name: str = "", label: str = "", *, required: bool = True) -> None:
        super().__init__(
            name, label, required=required, fixed_len=27, predicate=_alnum_ascii, format_name="27位字母或数字"
        )


_DAYS_IN_MONTH = (0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _is_calendar_date(value: str) -> bool:
    """`yyyy-MM-dd` at the start of `value`: ASCII digits, a real date of a year FIRST_YEAR–LAST_YEAR."""
    if value[4] != "-" or value[7] != "-":
        return False
    digits = value[0:4] + value[5:7] + value[8:10]
    if not (digits.isascii() and digits.isdigit()):
        return False
    year, month, day = int(value[0:4]), int(value[5:7]), int(value[8:10])
    if not FIRST_YEAR <= year <= LAST_YEAR or not 1 <= month <= 12 or not 1 <= day <= _DAYS_IN_MONTH[month]:
        return False
    return month != 2 or day < 29 or (year % 4 == 0 and (year % 100 != 0 or year % 400 == 0))


# Same acceptance as timestamps.parse_datetime/parse_date (a property test keeps them in step), without the regex and
# the tz-aware datetime they build: these run on every time field of every order and status push.
def _is_datetime(value: str) -> bool:
    if len(value) != 19 or value[10] != " " or value[13] != ":" or value[16] != ":":
        return False
    clock = value[11:13] + value[14:16] + value[17:19]
    return (
        clock.isascii()
        and clock.isdigit()
        and clock[0:2] < "24"  # same-length digit strings compare like their numbers
        and clock[2:4] < "60"
        and clock[4:6] < "60"
        and _is_calendar_date(value)
    )


def _is_date(value: str) -> bool:
    return len(value) == 10 and _is_calendar_date(value)


def _is_hhmmss(value: str) -> bool:
    return (
        len(value) == 6
        and value.isascii()
        and value.isdigit()
        and value[0:2] < "24"
        and value[2:4] < "60"
        and value[4:6] < "60"
    )


_YEARS = f"（年份{FIRST_YEAR}–{LAST_YEAR}）"


class DateTime(Str):
    """`yyyy-MM-dd HH:mm:ss`, zero-padded, a real calendar date and time."""

    __slots__ = ()

    def __init__(self, name: str = "", label: str = "", *, required: bool = True) -> None:
        super().__init__(
            name, label, required=required, predicate=_is_datetime, format_name=f"yyyy-MM-dd HH:mm:ss{_YEARS}"
        )


class Date(Str):
    """`yyyy-MM-dd`, zero-padded, a real calendar date."""

    __slots__ = ()

    def __init__(self, name: str = "", label: str = "", *, required: bool = True) -> None:
        super().__init__(name, label, required=required, predicate=_is_date, format_name=f"yyyy-MM-dd{_YEARS}")


class HHmmss(Str):
    """Time of day as 6 digits `HHmmss` (PolicyInfo StartTime: a string, leading zeros matter)."""

    __slots__ = ()

    def __init__(self, name: str = "", label: str = "", *, required: bool = True) -> None:
        super().__init__(name, label, required=required, predicate=_is_hhmmss, format_name="6位数字HHmmss")


def _bounds_text(low: Any, high: Any) -> str:
    if low is not None and high is not None:
        return f"应在{low}到{high}之间"
    if low is not None:
        return f"不能小于{low}"
    return f"不能大于{high}"


class Int(Field):
    """JSON integer (never bool, never a number with a decimal point), with an enum, custom ranges and/or bounds."""

    __slots__ = ("allowed_text", "choices", "custom", "max", "min")

    def __init__(
        self,
        name: str = "",
        label: str = "",
        *,
        required: bool = True,
        choices: Iterable[int] | None = None,
        custom: Sequence[tuple[int, int]] = (),
        min: int | None = None,
        max: int | None = None,
    ) -> None:
        super().__init__(name, label, required=required)
        self.choices = frozenset(choices) if choices is not None else None
        self.custom = tuple(custom)  # inclusive (low, high) ranges the spec leaves to operators, e.g. 3–99 自定义
        self.min = min
        self.max = max
        parts = [str(v) for v in sorted(self.choices or ())] + [f"{lo}–{hi}自定义" for lo, hi in self.custom]
        self.allowed_text = "、".join(parts)

    def inspect(self, value: Any) -> Finding:
        # Exact-class test first (the JSON case); int subclasses such as Django IntegerChoices are fine, bool is not.
        if value.__class__ is not int and (not isinstance(value, int) or isinstance(value, bool)):
            return _type_finding(value, "整数")
        choices = self.choices
        if choices is not None and value not in choices:
            for low, high in self.custom:
                if low <= value <= high:
                    break
            else:
                return ENUM, f"取值{_show(int(value))}不在允许范围内（{self.allowed_text}）"
        low, high = self.min, self.max
        if (low is not None and value < low) or (high is not None and value > high):
            return RANGE, f"{_bounds_text(low, high)}，实际为{_show(int(value))}"
        return None


class Num(Field):
    """JSON number (int or Decimal; a finite float is tolerated) with a maximum number of decimals and bounds."""

    __slots__ = ("max", "min", "scale")

    def __init__(
        self,
        name: str = "",
        label: str = "",
        *,
        required: bool = True,
        scale: int | None = None,
        min: int | Decimal | None = None,
        max: int | Decimal | None = None,
    ) -> None:
        super().__init__(name, label, required=required)
        self.scale = scale
        # Decimal bounds: comparing Decimal with Decimal is about twice as fast as Decimal with int.
        self.min = Decimal(min) if min is not None else None
        self.max = Decimal(max) if max is not None else None

    def inspect(self, value: Any) -> Finding:
        cls = value.__class__
        if cls is Decimal:
            if not value.is_finite():
                return TYPE, f"应为有限数值，实际为{_show(value)}"
            if self.scale is not None and not _within_scale(value, self.scale):
                return SCALE, f"小数位数不能超过{self.scale}位，实际为{_show(value)}"
        elif cls is not int:
            if isinstance(value, bool) or not isinstance(value, _NUMBER):
                return _type_finding(value, "数值")
            if not _is_number(value):
                return TYPE, f"应为有限数值，实际为{_show(value)}"
            if (
                self.scale is not None
                and not isinstance(value, int)
                and not _within_scale(_as_decimal(value), self.scale)
            ):
                return SCALE, f"小数位数不能超过{self.scale}位，实际为{_show(value)}"
        if (self.min is not None and value < self.min) or (self.max is not None and value > self.max):
            return RANGE, f"{_bounds_text(self.min, self.max)}，实际为{_show(value)}"
        return None


class Obj(Field):
    """A nested object validated against a Struct."""

    __slots__ = ("struct",)
    scalar = False

    def __init__(self, name: str, label: str, struct: Struct, *, required: bool = True) -> None:
        super().__init__(name, label, required=required)
        self.struct = struct

    def check(self, value: Any, path: str, out: list[Problem]) -> None:
        if not isinstance(value, dict):
            out.append(self.problem(path, *_type_finding(value, "对象")))
            return
        self.struct.check_into(value, path, out)


class List(Field):
    """A JSON array of Structs or of scalar field specs, with item-count bounds and an optional unique key."""

    __slots__ = ("item", "max_items", "min_items", "struct", "unique_by")
    scalar = False

    def __init__(
        self,
        name: str,
        label: str,
        of: Struct | Field,
        *,
        required: bool = True,
        max_items: int | None = None,
        min_items: int | None = None,
        unique_by: str | None = None,
    ) -> None:
        super().__init__(name, label, required=required)
        if isinstance(of, Struct):
            self.struct: Struct | None = of
            self.item: Field | None = None
        else:
            self.struct = None
            # A scalar item spec is declared anonymously; it reports under the list's label.
            of.name = of.name or name
            of.label = of.label or label
            self.item = of
        self.max_items = max_items
        self.min_items = min_items
        # A key of the item objects (for scalar items: the items themselves) whose values may not repeat.
        self.unique_by = unique_by

    def check(self, value: Any, path: str, out: list[Problem]) -> None:
        if not isinstance(value, _SEQUENCE):
            out.append(self.problem(path, *_type_finding(value, "数组")))
            return
        count = len(value)
        if self.max_items is not None and count > self.max_items:
            # A batch over its bound is refused whole and not read further: its size is the problem, and checking
            # every item of a list a thousand times too long is the cost the bound is there to avoid.
            out.append(self.problem(path, MAX_ITEMS, f"最多{self.max_items}项，实际为{count}项"))
            return
        if self.min_items is not None and count < self.min_items:
            out.append(self.problem(path, MIN_ITEMS, f"至少{self.min_items}项，实际为{count}项"))
        struct, item, key = self.struct, self.item, self.unique_by
        seen: set[str] | None = set() if key is not None else None
        for index, element in enumerate(value):
            item_path = f"{path}[{index}]"
            if struct is not None:
                if not isinstance(element, dict):
                    out.append(
                        Problem(item_path, TYPE, f"{item_path}（{struct.label}）应为对象，实际为{_kind(element)}")
                    )
                    continue
                struct.check_into(element, item_path, out)
                if seen is not None:
                    _unique(element.get(key), struct.field(key), f"{item_path}.{key}", seen, out)
            elif item is not None:
                if element is None:
                    out.append(item.problem(item_path, REQUIRED, "数组元素不能为null"))
                    continue
                finding = item.inspect(element)
                if finding is not None:
                    out.append(item.problem(item_path, *finding))
                elif seen is not None:
                    _unique(element, item, item_path, seen, out)


def _unique(value: Any, field: Field | None, path: str, seen: set[str], out: list[Problem]) -> None:
    # Only well-formed strings take part; a wrong type or character has already been reported by the field itself.
    if not isinstance(value, str) or not value or first_forbidden(value) is not None:
        return
    if value in seen:
        label = field.label if field is not None else ""
        name = f"{path}（{label}）" if label else path
        out.append(Problem(path, UNIQUE, f"{name}重复：{_show(value)}"))
    else:
        seen.add(value)


# --------------------------------------------------------------------------------------------------------------------
# Structs
# --------------------------------------------------------------------------------------------------------------------

# A cross-field rule sees the (dict) payload, its path and the output list; it must tolerate any value types.
Rule = Callable[[dict[Any, Any], str, list[Problem]], None]


class Struct:
    """A named set of field specs plus cross-field rules; immutable once built (module-level constants)."""

    __slots__ = ("by_name", "fields", "label", "name", "plan", "rules")

    def __init__(self, name: str, label: str, fields: Sequence[Field], rules: Sequence[Rule] = ()) -> None:
        self.name = name
        self.label = label
        self.fields = tuple(fields)
        self.by_name = {f.name: f for f in self.fields}
        self.rules = tuple(rules)
        # Everything the hot loop needs, resolved once: bound methods and flags instead of per-value attribute lookups.
        self.plan = tuple(
            (f.name, f.inspect if f.scalar else None, f.check, f.required, f.empty_is_absent and not f.required, f)
            for f in self.fields
        )

    def __repr__(self) -> str:
        return f"Struct({self.name!r}, {len(self.fields)} fields)"

    def field(self, name: str | None) -> Field | None:
        return self.by_name.get(name) if name is not None else None

    def check_into(self, payload: dict[Any, Any], path: str, out: list[Problem]) -> None:
        """Validate a dict whose own path is `path` ("" at the top level), appending problems to `out`."""
        get = payload.get
        for name, inspect, check_container, required, blank_is_absent, spec in self.plan:
            value = get(name)
            # null means "not given" (Java peers serialise unset fields as null); "" too for optional strings.
            if value is None or (blank_is_absent and value.__class__ is str and not value):
                if required:
                    out.append(spec.problem(_join(path, name), REQUIRED, "为必填项，不能缺失"))
            elif inspect is not None:
                finding = inspect(value)
                if finding is not None:
                    out.append(spec.problem(_join(path, name), *finding))
            else:
                check_container(value, _join(path, name), out)
        for rule in self.rules:
            rule(payload, path, out)


def validate(payload: Any, struct: Struct, *, path: str = "") -> list[Problem]:
    """Every problem of `payload` against `struct`; never raises, whatever the payload is. Unknown keys are ignored."""
    out: list[Problem] = []
    if not isinstance(payload, dict):
        name = path or "Data"
        out.append(Problem(path, TYPE, f"{name}（{struct.label}）应为对象，实际为{_kind(payload)}"))
        return out
    struct.check_into(payload, path, out)
    return out


def _summary(problems: Sequence[Problem]) -> str:
    shown: list[str] = []
    size = 0
    for problem in problems:
        extra = len(problem.message) + 1
        if len(shown) == _MSG_PROBLEMS or (shown and size + extra > _MSG_LIMIT - 20):  # room for "另有N个问题"
            break
        shown.append(problem.message)
        size += extra
    text = "；".join(shown)
    if len(text) > _MSG_LIMIT:  # a single enormous message (long path) still must not bloat the envelope
        text = text[: _MSG_LIMIT - 1] + "…"
    rest = len(problems) - len(shown)
    return f"{text}；另有{rest}个问题" if rest else text


def check(payload: Any, struct: Struct) -> None:
    """Raise BusinessError (Ret 4004) listing the first problems (Msg ≤ ~500 chars) when `payload` is invalid."""
    raise_problems(validate(payload, struct))


class InvalidPayload(BusinessError):
    """Ret 4004 with every problem found, so a host can keep them (rules and reasons) beside its answer."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__(_summary(self.problems))


def raise_problems(problems: Sequence[Problem]) -> None:
    """InvalidPayload (Ret 4004) summarising `problems`, if there are any (for validators other than validate())."""
    if problems:
        raise InvalidPayload(problems)


# --------------------------------------------------------------------------------------------------------------------
# Cross-field rules
# --------------------------------------------------------------------------------------------------------------------


def _count_rule(count_name: str, count_label: str, list_name: str) -> Rule:
    """`count_name` must equal len(`list_name`) when both are present with the right types."""

    def rule(payload: dict[Any, Any], path: str, out: list[Problem]) -> None:
        count, items = payload.get(count_name), payload.get(list_name)
        if (
            isinstance(count, int)
            and not isinstance(count, bool)
            and isinstance(items, _SEQUENCE)
            and count != len(items)
        ):
            where = _join(path, count_name)
            out.append(
                Problem(
                    where,
                    COUNT,
                    f"{where}（{count_label}）应等于{list_name}的元素个数{len(items)}，实际为{_show(count)}",
                )
            )

    return rule


def _time_order_rule(start: str, start_label: str, end: str, end_label: str, formatted: Callable[[str], bool]) -> Rule:
    """`end` ≥ `start`; both use a zero-padded fixed format, so string order is time order."""

    def rule(payload: dict[Any, Any], path: str, out: list[Problem]) -> None:
        a, b = payload.get(start), payload.get(end)
        if isinstance(a, str) and isinstance(b, str) and b < a and formatted(a) and formatted(b):
            where = _join(path, end)
            out.append(
                Problem(
                    where,
                    TIME_ORDER,
                    f"{where}（{end_label}）{_show(b)}不能早于{start}（{start_label}）{_show(a)}",
                )
            )

    return rule


def _voltage_rule(payload: dict[Any, Any], path: str, out: list[Problem]) -> None:
    low, high = payload.get("VoltageLowerLimits"), payload.get("VoltageUpperLimits")
    if (
        isinstance(low, int)
        and isinstance(high, int)
        and not isinstance(low, bool)
        and not isinstance(high, bool)
        and low > high
    ):
        where = _join(path, "VoltageLowerLimits")
        out.append(
            Problem(
                where,
                VOLTAGE_ORDER,
                f"{where}（额定电压下限）{_show(low)}不能大于VoltageUpperLimits（额定电压上限）{_show(high)}",
            )
        )


def _station_unique_rule(payload: dict[Any, Any], path: str, out: list[Problem]) -> None:
    """EquipmentID and ConnectorID are unique per operator, so they cannot repeat within one station."""
    equipments = payload.get("EquipmentInfos")
    if not isinstance(equipments, _SEQUENCE):
        return
    base = _join(path, "EquipmentInfos")
    equipment_ids: set[str] = set()
    connector_ids: set[str] = set()
    for i, equipment in enumerate(equipments):
        if not isinstance(equipment, dict):
            continue
        _unique(equipment.get("EquipmentID"), _EQUIPMENT_ID, f"{base}[{i}].EquipmentID", equipment_ids, out)
        connectors = equipment.get("ConnectorInfos")
        if not isinstance(connectors, _SEQUENCE):
            continue
        for j, connector in enumerate(connectors):
            if isinstance(connector, dict):
                where = f"{base}[{i}].ConnectorInfos[{j}].ConnectorID"
                _unique(connector.get("ConnectorID"), _CONNECTOR_ID, where, connector_ids, out)


def _token_rule(payload: dict[Any, Any], path: str, out: list[Problem]) -> None:
    """AccessToken is required only on success (SuccStat 0)."""
    token, status = payload.get("AccessToken"), payload.get("SuccStat")
    # `type(...) is int` because False == 0 would otherwise count as success.
    if type(status) is int and status == 0 and (token is None or token == ""):
        where = _join(path, "AccessToken")
        out.append(Problem(where, REQUIRED, f"{where}（获取的凭证）在SuccStat为0时为必填项"))


# --------------------------------------------------------------------------------------------------------------------
# Field vocabulary (one spec object per meaning, reused by every struct that carries the field)
# --------------------------------------------------------------------------------------------------------------------

_SUCC_STAT = Int("SuccStat", "成功状态", choices=(0, 1))
_SUCC_STAT_STOP = Int("SuccStat", "成功标识", choices=(0, 1))
_CONNECTOR_ID = Str("ConnectorID", "充电设备接口编码", max_len=26)
_EQUIPMENT_ID = Str("EquipmentID", "设备编码", max_len=23)
_STATION_ID = Str("StationID", "充电站ID", max_len=20)
_START_CHARGE_SEQ = Serial27("StartChargeSeq", "充电订单号")
_START_CHARGE_SEQ_STAT = Int("StartChargeSeqStat", "充电订单状态", choices=(1, 2, 3, 4, 5))
_CONFIRM_RESULT = Int("ConfirmResult", "确认结果", choices=(0, 1), custom=((2, 99),))
_STOP_REASON = Int("StopReason", "充电结束原因", choices=(0, 1, 2, 3, 4), custom=((5, 99),))
_SUM_PERIOD_OPT = Int("SumPeriod", "时段数N", required=False, min=0, max=32)
_CHARGE_MODEL = Int("ChargeModel", "启动方式", choices=(0, 1, 2, 3))
# Receipt replies (start/stop result, order): 0 无, 1 接收失败, 2–99 自定义 (implied by the spec).
_FAIL_REASON_RECEIPT = Int("FailReason", "失败原因", choices=(0, 1), custom=((2, 99),))
_FAIL_REASON_STOP = (0, 1, 2, 3)


# Every number has the bounds of the column that stores it (numeric(p, s) holds less than 10**(p − s); integer up to
# 2**31 − 1), so a figure beyond it is a 4004 naming the field here, never a database error or Ret 500 later.
# tests/protocol/test_number_bounds.py holds these against the models' columns.
MAX_INTEGER = 2**31 - 1
# Measurements the portal does not store (phase currents and voltages): bounded all the same, generously.
MAX_MEASURE = 999_999


def column_max(digits: int, scale: int) -> Decimal:
    """The largest value numeric(digits, scale) holds, e.g. 9999999999.99 for (12, 2)."""
    return Decimal(10) ** (digits - scale) - Decimal(1).scaleb(-scale)


def _money(name: str, label: str, *, required: bool = True, digits: int = 12) -> Num:
    return Num(name, label, required=required, scale=2, min=0, max=column_max(digits, 2))


def _energy(name: str, label: str, scale: int = 2, *, required: bool = True, digits: int = 12) -> Num:
    return Num(name, label, required=required, scale=scale, min=0, max=column_max(digits, scale))


def _price(name: str, label: str, *, required: bool = True) -> Num:
    return Num(name, label, required=required, scale=4, min=0, max=column_max(10, 4))


def _power(name: str, label: str) -> Num:
    return Num(name, label, scale=1, min=0, max=column_max(7, 1))


def _count(name: str, label: str, *, required: bool = True, low: int = 0) -> Int:
    return Int(name, label, required=required, min=low, max=MAX_INTEGER)


def _measure(name: str, label: str, *, required: bool = True) -> Num:
    return Num(name, label, required=required, min=-MAX_MEASURE, max=MAX_MEASURE)


def _lng(name: str, label: str, *, required: bool = True) -> Num:
    return Num(name, label, required=required, scale=6, min=-180, max=180)


def _lat(name: str, label: str, *, required: bool = True) -> Num:
    return Num(name, label, required=required, scale=6, min=-90, max=90)


_DT_ORDER = _is_datetime  # format checker used by the time-order rules on yyyy-MM-dd HH:mm:ss pairs

# --------------------------------------------------------------------------------------------------------------------
# Part 2 structures (public information)
# --------------------------------------------------------------------------------------------------------------------

OPERATOR_INFO = Struct(
    "OperatorInfo",
    "充电运营商信息",
    [
        OperatorID("OperatorID", "运营商ID"),
        Str("OperatorName", "运营商名称", max_len=64),
        Str("OperatorTel1", "运营商电话1", max_len=32),
        Str("OperatorTel2", "运营商电话2", required=False, max_len=32),
        Str("OperatorRegAddress", "运营商注册地址", required=False, max_len=64),
        Str("OperatorNote", "备注", required=False, max_len=255),
    ],
)

CONNECTOR_INFO = Struct(
    "ConnectorInfo",
    "充电设备接口信息",
    [
        _CONNECTOR_ID,
        Str("ConnectorName", "充电设备接口名称", required=False, max_len=30),
        Int("ConnectorType", "充电设备接口类型", choices=(1, 2, 3, 4, 5, 6)),
        _count("VoltageUpperLimits", "额定电压上限"),
        _count("VoltageLowerLimits", "额定电压下限"),
        _count("Current", "额定电流"),
        _power("Power", "额定功率"),
        Str("ParkNo", "车位号", required=False, max_len=10),
        Int("NationalStandard", "国家标准", choices=(1, 2)),
    ],
    rules=[_voltage_rule],
)

EQUIPMENT_INFO = Struct(
    "EquipmentInfo",
    "充电设备信息",
    [
        _EQUIPMENT_ID,
        # 9 characters like an OperatorID, but a manufacturer is not a protocol party: length only.
        Str("ManufacturerID", "设备生产商组织机构代码", required=False, fixed_len=9),
        Str("ManufacturerName", "设备生产商名称", required=False, max_len=30),
        Str("EquipmentModel", "设备型号", required=False, max_len=20),
        Date("ProductionDate", "设备生产日期", required=False),
        Int("EquipmentType", "设备类型", choices=(1, 2, 3, 4, 5)),
        List("ConnectorInfos", "充电设备接口列表", CONNECTOR_INFO),
        _lng("EquipmentLng", "充电设备经度", required=False),
        _lat("EquipmentLat", "充电设备纬度", required=False),
        _power("Power", "充电设备总功率"),
        Str("EquipmentName", "充电设备名称", required=False, max_len=30),
    ],
)

STATION_INFO = Struct(
    "StationInfo",
    "充电站信息",
    [
        _STATION_ID,
        OperatorID("OperatorID", "运营商ID"),
        OperatorID("EquipmentOwnerID", "设备所属方ID"),
        Str("StationName", "充电站名称", max_len=50),
        Str("CountryCode", "充电站国家代码", fixed_len=2),
        Str("AreaCode", "充电站省市辖区编码", max_len=20),
        Str("Address", "详细地址", max_len=50),
        Str("StationTel", "站点电话", required=False, max_len=30),
        Str("ServiceTel", "服务电话", max_len=30),
        Int("StationType", "站点类型", choices=(1, 50, 100, 101, 102, 103, 255)),
        Int("StationStatus", "站点状态", choices=(0, 1, 5, 6, 50)),
        _count("ParkNums", "车位数量"),
        _lng("StationLng", "经度"),
        _lat("StationLat", "纬度"),
        Str("SiteGuide", "站点引导", required=False, max_len=100),
        Int("Construction", "建设场所", choices=(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 255)),
        List("Pictures", "站点照片", Str(), required=False),
        Str("MatchCars", "使用车型描述", required=False, max_len=100),
        Str("ParkInfo", "车位楼层及数量描述", required=False, max_len=100),
        Str("BusineHours", "营业时间", required=False, max_len=100),
        Str("ElectricityFee", "充电电费率", required=False, max_len=256),
        Str("ServiceFee", "服务费率", required=False, max_len=100),
        Str("ParkFee", "停车费", required=False, max_len=100),
        Str("Payment", "支付方式", required=False, max_len=20),
        Int("SupportOrder", "是否支持预约", required=False, choices=(0, 1)),
        Str("Remark", "备注", required=False, max_len=100),
        List("EquipmentInfos", "充电设备信息列表", EQUIPMENT_INFO),
    ],
    rules=[_station_unique_rule],
)

CONNECTOR_STATUS_INFO = Struct(
    "ConnectorStatusInfo",
    "充电设备接口状态",
    [
        _CONNECTOR_ID,
        Int("Status", "充电设备接口状态", choices=(0, 1, 2, 3, 4, 255)),
        Int("ParkStatus", "车位状态", required=False, choices=(0, 10, 50)),
        Int("LockStatus", "地锁状态", required=False, choices=(0, 10, 50)),
    ],
)

STATION_STATUS_INFO = Struct(
    "StationStatusInfo",
    "充电站状态信息",
    [
        _STATION_ID,
        List("ConnectorStatusInfos", "充电设备接口状态列表", CONNECTOR_STATUS_INFO, unique_by="ConnectorID"),
    ],
)

CONNECTOR_STATS_INFO = Struct(
    "ConnectorStatsInfo",
    "充电设备接口统计信息",
    [
        _CONNECTOR_ID,
        _energy("ConnectorElectricity", "充电设备接口累计电量", 1, required=False, digits=14),
    ],
)

EQUIPMENT_STATS_INFO = Struct(
    "EquipmentStatsInfo",
    "充电设备统计信息",
    [
        _EQUIPMENT_ID,
        _energy("EquipmentElectricity", "充电设备累计电量", 1, digits=14),
        List("ConnectorStatsInfos", "充电设备接口统计信息列表", CONNECTOR_STATS_INFO),
    ],
)

STATION_STATS_INFO = Struct(
    "StationStatsInfo",
    "充电站统计信息",
    [
        _STATION_ID,
        Date("StartTime", "统计开始时间"),
        Date("EndTime", "统计结束时间"),
        _energy("StationElectricity", "充电站累计电量", 1, digits=14),
        List("EquipmentStatsInfos", "充电设备统计信息列表", EQUIPMENT_STATS_INFO),
    ],
    rules=[_time_order_rule("StartTime", "统计开始时间", "EndTime", "统计结束时间", _is_date)],
)

# --------------------------------------------------------------------------------------------------------------------
# Part 3 structures (business information)
# --------------------------------------------------------------------------------------------------------------------

POLICY_INFO = Struct(
    "PolicyInfo",
    "单项业务策略信息体",
    [
        HHmmss("StartTime", "时段起始时间点"),
        _price("ElecPrice", "时段电费"),
        _price("SevicePrice", "时段服务费"),
    ],
)

CHARGE_DETAIL = Struct(
    "ChargeDetail",
    "充电明细信息体",
    [
        DateTime("DetailStartTime", "开始时间"),
        DateTime("DetailEndTime", "结束时间"),
        _price("ElecPrice", "时段电价", required=False),
        _price("SevicePrice", "时段服务费价格", required=False),
        _energy("DetailPower", "时段充电量"),
        _money("DetailElecMoney", "时段电费", required=False),
        _money("DetailSeviceMoney", "时段服务费", required=False),
    ],
    rules=[_time_order_rule("DetailStartTime", "开始时间", "DetailEndTime", "结束时间", _DT_ORDER)],
)

CHARGE_ORDER = Struct(
    "ChargeOrder",
    "单项订单对账信息体",
    [
        _START_CHARGE_SEQ,
        _energy("TotalPower", "累计充电量"),
        _money("TotalMoney", "累计总金额"),
    ],
)

DISPUTE_ORDER = Struct(
    "DisputeOrder",
    "单项争议交易信息体",
    [
        _START_CHARGE_SEQ,
        _energy("TotalPower", "累计充电量"),
        _money("TotalMoney", "累计总金额"),
        Int("DisputeReason", "争议原因", choices=(1, 2, 3), custom=((4, 99),)),
    ],
)

# SumPeriod = number of elements, 0–32, so neither list can exceed 32 items.
_CHARGE_DETAILS_OPT = List("ChargeDetails", "充电明细信息", CHARGE_DETAIL, required=False, max_items=32)
_SUM_PERIOD_DETAILS = _count_rule("SumPeriod", "时段数N", "ChargeDetails")

# --------------------------------------------------------------------------------------------------------------------
# Interface Data structs: request (what the caller sends) and response (what the implementer answers)
# --------------------------------------------------------------------------------------------------------------------

QUERY_TOKEN_REQUEST = Struct(
    "query_token.request",
    "获取Token请求参数",
    [
        OperatorID("OperatorID", "运营商标识"),
        Str("OperatorSecret", "运营商密钥", max_len=64),
    ],
)
QUERY_TOKEN_RESPONSE = Struct(
    "query_token.response",
    "获取Token返回参数",
    [
        OperatorID("OperatorID", "运营商标识"),
        _SUCC_STAT,
        Str("AccessToken", "获取的凭证", required=False),  # required on success: see _token_rule
        _count("TokenAvailableTime", "凭证有效期"),
        Int("FailReason", "失败原因", choices=(0, 1, 2), custom=((3, 99),)),
    ],
    rules=[_token_rule],
)

QUERY_STATIONS_INFO_REQUEST = Struct(
    "query_stations_info.request",
    "查询充电站信息请求参数",
    [
        DateTime("LastQueryTime", "上次查询时间", required=False),  # "" or absent: full load
        _count("PageNo", "查询页码", required=False, low=1),
        _count("PageSize", "每页数量", required=False, low=1),
    ],
)
QUERY_STATIONS_INFO_RESPONSE = Struct(
    "query_stations_info.response",
    "查询充电站信息返回参数",
    [
        _count("PageNo", "当前页数", low=1),
        _count("PageCount", "页码总数"),
        _count("ItemSize", "总记录条数"),
        List("StationInfos", "充电站信息列表", STATION_INFO),
    ],
)

NOTIFICATION_STATION_STATUS_REQUEST = Struct(
    "notification_stationStatus.request",
    "设备状态变化推送请求参数",
    [Obj("ConnectorStatusInfo", "充电设备接口状态", CONNECTOR_STATUS_INFO)],
)
NOTIFICATION_STATION_STATUS_RESPONSE = Struct(
    "notification_stationStatus.response",
    "设备状态变化推送返回参数",
    [Int("Status", "状态", choices=(0, 1))],
)

QUERY_STATION_STATUS_REQUEST = Struct(
    "query_station_status.request",
    "设备接口状态查询请求参数",
    [List("StationIDs", "充电站ID列表", Str(max_len=20), max_items=50)],
)
QUERY_STATION_STATUS_RESPONSE = Struct(
    "query_station_status.response",
    "设备接口状态查询返回参数",
    [
        # "Y*": in the standard's example and every implementation, not in its table; absent is tolerated.
        _count("Total", "总数", required=False),
        List("StationStatusInfos", "充电站状态信息列表", STATION_STATUS_INFO),
    ],
)

QUERY_STATION_STATS_REQUEST = Struct(
    "query_station_stats.request",
    "查询统计信息请求参数",
    [
        _STATION_ID,
        Date("StartTime", "统计开始时间"),
        Date("EndTime", "统计结束时间"),
    ],
    rules=[_time_order_rule("StartTime", "统计开始时间", "EndTime", "统计结束时间", _is_date)],
)
QUERY_STATION_STATS_RESPONSE = Struct(
    "query_station_stats.response",
    "查询统计信息返回参数",
    [Obj("StationStats", "充电站统计信息", STATION_STATS_INFO)],
)

QUERY_EQUIP_AUTH_REQUEST = Struct(
    "query_equip_auth.request",
    "请求设备认证请求参数",
    [Serial27("EquipAuthSeq", "设备认证流水号"), _CONNECTOR_ID],
)
QUERY_EQUIP_AUTH_RESPONSE = Struct(
    "query_equip_auth.response",
    "请求设备认证返回参数",
    [
        Serial27("EquipAuthSeq", "设备认证流水号"),
        _CONNECTOR_ID,
        _SUCC_STAT,
        Int("FailReason", "失败原因", choices=(0, 1, 2), custom=((3, 99),)),
    ],
)

QUERY_EQUIP_BUSINESS_POLICY_REQUEST = Struct(
    "query_equip_business_policy.request",
    "查询业务策略信息请求参数",
    [Serial27("EquipBizSeq", "业务策略查询流水号"), _CONNECTOR_ID],
)
QUERY_EQUIP_BUSINESS_POLICY_RESPONSE = Struct(
    "query_equip_business_policy.response",
    "查询业务策略信息返回参数",
    [
        Serial27("EquipBizSeq", "业务策略查询流水号"),
        _CONNECTOR_ID,
        _SUCC_STAT,
        Int("FailReason", "失败原因", choices=(0, 1), custom=((2, 99),)),
        Int("SumPeriod", "时段数N", min=0, max=32),
        List("PolicyInfos", "计费信息", POLICY_INFO, max_items=32, unique_by="StartTime"),
    ],
    rules=[_count_rule("SumPeriod", "时段数N", "PolicyInfos")],
)

QUERY_START_CHARGE_REQUEST = Struct(
    "query_start_charge.request",
    "请求启动充电请求参数",
    [
        _START_CHARGE_SEQ,
        _CONNECTOR_ID,
        Str("QRCode", "二维码其他信息", allow_empty=True),  # required key, "" when the QR has no custom part
    ],
)
QUERY_START_CHARGE_RESPONSE = Struct(
    "query_start_charge.response",
    "请求启动充电返回参数",
    [
        _START_CHARGE_SEQ,
        _START_CHARGE_SEQ_STAT,
        _CONNECTOR_ID,
        _SUCC_STAT,
        Int("FailReason", "失败原因", choices=(0, 1, 2), custom=((3, 99),)),
    ],
)

NOTIFICATION_START_CHARGE_RESULT_REQUEST = Struct(
    "notification_start_charge_result.request",
    "推送启动充电结果请求参数",
    [
        _START_CHARGE_SEQ,
        _START_CHARGE_SEQ_STAT,
        _CONNECTOR_ID,
        DateTime("StartTime", "充电启动时间"),
        Str("IdentCode", "验证码", required=False),
    ],
)
NOTIFICATION_START_CHARGE_RESULT_RESPONSE = Struct(
    "notification_start_charge_result.response",
    "推送启动充电结果返回参数",
    [_START_CHARGE_SEQ, _SUCC_STAT, _FAIL_REASON_RECEIPT],
)

QUERY_EQUIP_CHARGE_STATUS_REQUEST = Struct(
    "query_equip_charge_status.request",
    "查询充电状态请求参数",
    [_START_CHARGE_SEQ],
)
# The query_equip_charge_status reply and the notification_equip_charge_status push carry the same snapshot.
EQUIP_CHARGE_STATUS = Struct(
    "EquipChargeStatus",
    "充电状态",
    [
        _START_CHARGE_SEQ,
        _START_CHARGE_SEQ_STAT,
        _CONNECTOR_ID,
        Int("ConnectorStatus", "充电设备接口状态", choices=(1, 2, 3, 4, 255)),
        _measure("CurrentA", "A相电流"),
        _measure("CurrentB", "B相电流", required=False),
        _measure("CurrentC", "C相电流", required=False),
        _measure("VoltageA", "A相电压"),
        _measure("VoltageB", "B相电压", required=False),
        _measure("VoltageC", "C相电压", required=False),
        Num("Soc", "电池剩余电量", min=0, max=100),
        DateTime("StartTime", "开始充电时间"),
        DateTime("EndTime", "本次采样时间"),
        _energy("TotalPower", "累计充电量"),
        _money("ElecMoney", "累计电费", required=False),
        _money("SeviceMoney", "累计服务费", required=False),
        _money("TotalMoney", "累计总金额", required=False),
        _SUM_PERIOD_OPT,
        _CHARGE_DETAILS_OPT,
        # Beijing/Chengdu add the start method to status pushes; optional so standard peers stay valid.
        Int("ChargeModel", "启动方式", required=False, choices=(0, 1, 2, 3)),
    ],
    rules=[
        _time_order_rule("StartTime", "开始充电时间", "EndTime", "本次采样时间", _DT_ORDER),
        _SUM_PERIOD_DETAILS,
    ],
)
QUERY_EQUIP_CHARGE_STATUS_RESPONSE = EQUIP_CHARGE_STATUS
NOTIFICATION_EQUIP_CHARGE_STATUS_REQUEST = EQUIP_CHARGE_STATUS
NOTIFICATION_EQUIP_CHARGE_STATUS_RESPONSE = Struct(
    "notification_equip_charge_status.response",
    "推送充电状态返回参数",
    [_START_CHARGE_SEQ, _SUCC_STAT],  # no FailReason in the standard; one sent anyway is ignored like any extra key
)

QUERY_STOP_CHARGE_REQUEST = Struct(
    "query_stop_charge.request",
    "请求停止充电请求参数",
    [_START_CHARGE_SEQ, _CONNECTOR_ID],
)
QUERY_STOP_CHARGE_RESPONSE = Struct(
    "query_stop_charge.response",
    "请求停止充电返回参数",
    [
        _START_CHARGE_SEQ,
        _START_CHARGE_SEQ_STAT,
        _SUCC_STAT,
        Int("FailReason", "失败原因", choices=_FAIL_REASON_STOP, custom=((4, 99),)),
    ],
)

NOTIFICATION_STOP_CHARGE_RESULT_REQUEST = Struct(
    "notification_stop_charge_result.request",
    "推送停止充电结果请求参数",
    [
        _START_CHARGE_SEQ,
        _START_CHARGE_SEQ_STAT,
        _CONNECTOR_ID,
        _SUCC_STAT_STOP,
        Int("FailReason", "停止失败原因", choices=_FAIL_REASON_STOP, custom=((4, 99),)),
    ],
)
NOTIFICATION_STOP_CHARGE_RESULT_RESPONSE = Struct(
    "notification_stop_charge_result.response",
    "推送停止充电结果返回参数",
    [_START_CHARGE_SEQ, _SUCC_STAT, _FAIL_REASON_RECEIPT],
)

NOTIFICATION_CHARGE_ORDER_INFO_REQUEST = Struct(
    "notification_charge_order_info.request",
    "推送充电订单信息请求参数",
    [
        _START_CHARGE_SEQ,
        _CONNECTOR_ID,
        DateTime("StartTime", "开始充电时间"),
        DateTime("EndTime", "结束充电时间"),
        _energy("TotalPower", "累计充电量"),
        _money("TotalElecMoney", "总电费"),
        _money("TotalSeviceMoney", "总服务费"),
        _money("TotalMoney", "累计总金额"),
        _STOP_REASON,
        _SUM_PERIOD_OPT,
        _CHARGE_DETAILS_OPT,
    ],
    rules=[
        _time_order_rule("StartTime", "开始充电时间", "EndTime", "结束充电时间", _DT_ORDER),
        _SUM_PERIOD_DETAILS,
    ],
)
NOTIFICATION_CHARGE_ORDER_INFO_RESPONSE = Struct(
    "notification_charge_order_info.response",
    "推送充电订单信息返回参数",
    [_START_CHARGE_SEQ, _CONNECTOR_ID, _CONFIRM_RESULT],
)

# Beijing's bonus order: 27 characters are recommended, and operators send 28–29 for walk-ins they number themselves
# (exactly the records the reward scheme needs). Accepted up to the order column's bound, letters and digits; one
# not of 27 is a finding (apps/orders/rules.py SEQ_LENGTH), not a refusal. The order model takes its bound from here.
BONUS_SEQ_MAX_LEN: Final = 32
_BONUS_ORDER_NO = Str(
    "StartChargeSeq", "充电订单号", min_len=27, max_len=BONUS_SEQ_MAX_LEN, predicate=_alnum_ascii,
    format_name="27–32位字母或数字",
)  # fmt: skip

NOTIFICATION_CHARGE_ORDER_INFO_FOR_BONUS_REQUEST = Struct(
    "notification_charge_order_info_for_bonus.request",
    "推送充电订单信息（运营考核奖励）请求参数",
    [
        # Not Serial27: orders started without e充网 carry the CPO's own order number (27 chars only recommended).
        _BONUS_ORDER_NO,
        _CONNECTOR_ID,
        DateTime("StartTime", "开始充电时间"),
        DateTime("EndTime", "结束充电时间"),
        _CHARGE_MODEL,
        _energy("TotalPower", "累计充电量"),
        _money("TotalMoney", "累计总金额"),
        _money("TotalElecMoney", "总电费", required=False),
        _money("TotalSeviceMoney", "总服务费", required=False),
        _STOP_REASON,
        _SUM_PERIOD_OPT,
        _CHARGE_DETAILS_OPT,
        Str("UserName", "客户名称", required=False, max_len=20),  # "Y?" in the digest: checked when sent
        _STATION_ID,
        _EQUIPMENT_ID,
        _power("ConnectorPower", "接口额定功率"),
        _count("ChargeLast", "充电时长"),
        _energy("MeterValueStart", "电表总起值", digits=14),
        _energy("MeterValueEnd", "电表总止值", digits=14),
    ],
    rules=[
        _time_order_rule("StartTime", "开始充电时间", "EndTime", "结束充电时间", _DT_ORDER),
        _SUM_PERIOD_DETAILS,
    ],
)
NOTIFICATION_CHARGE_ORDER_INFO_FOR_BONUS_RESPONSE = Struct(
    "notification_charge_order_info_for_bonus.response",
    "推送充电订单信息（运营考核奖励）返回参数",
    # Echoes the request's StartChargeSeq, which need not be a 27-character serial for bonus orders.
    [_BONUS_ORDER_NO, _CONNECTOR_ID, _CONFIRM_RESULT],
)

CHECK_CHARGE_ORDERS_REQUEST = Struct(
    "check_charge_orders.request",
    "推送订单对账结果信息请求参数",
    [
        Serial27("CheckOrderSeq", "订单对账流水号"),
        DateTime("StartTime", "账单开始时间"),
        DateTime("EndTime", "账单结束时间"),
        _count("OrderCount", "订单数量N"),
        _energy("TotalOrderPower", "总电量", 4, digits=16),
        _money("TotalOrderMoney", "总金额", digits=16),
        List("ChargeOrders", "订单列表", CHARGE_ORDER, unique_by="StartChargeSeq"),
    ],
    rules=[
        _time_order_rule("StartTime", "账单开始时间", "EndTime", "账单结束时间", _DT_ORDER),
        _count_rule("OrderCount", "订单数量N", "ChargeOrders"),
    ],
)
CHECK_CHARGE_ORDERS_RESPONSE = Struct(
    "check_charge_orders.response",
    "推送订单对账结果信息返回参数",
    [
        Serial27("CheckOrderSeq", "订单对账流水号"),
        DateTime("StartTime", "账单开始时间"),
        DateTime("EndTime", "账单结束时间"),
        _count("TotalDisputeOrder", "争议订单数量N"),
        _energy("TotalDisputePower", "总电量", 4, digits=16),
        _money("TotalDisputeMoney", "总金额", digits=16),
        List("DisputeOrders", "订单列表", DISPUTE_ORDER, unique_by="StartChargeSeq"),
    ],
    rules=[
        _time_order_rule("StartTime", "账单开始时间", "EndTime", "账单结束时间", _DT_ORDER),
        _count_rule("TotalDisputeOrder", "争议订单数量N", "DisputeOrders"),
    ],
)

INTERFACES: dict[str, tuple[Struct, Struct]] = {
    Interface.QUERY_TOKEN: (QUERY_TOKEN_REQUEST, QUERY_TOKEN_RESPONSE),
    Interface.QUERY_STATIONS_INFO: (QUERY_STATIONS_INFO_REQUEST, QUERY_STATIONS_INFO_RESPONSE),
    Interface.NOTIFICATION_STATION_STATUS: (NOTIFICATION_STATION_STATUS_REQUEST, NOTIFICATION_STATION_STATUS_RESPONSE),
    Interface.QUERY_STATION_STATUS: (QUERY_STATION_STATUS_REQUEST, QUERY_STATION_STATUS_RESPONSE),
    Interface.QUERY_STATION_STATS: (QUERY_STATION_STATS_REQUEST, QUERY_STATION_STATS_RESPONSE),
    Interface.QUERY_EQUIP_AUTH: (QUERY_EQUIP_AUTH_REQUEST, QUERY_EQUIP_AUTH_RESPONSE),
    Interface.QUERY_EQUIP_BUSINESS_POLICY: (QUERY_EQUIP_BUSINESS_POLICY_REQUEST, QUERY_EQUIP_BUSINESS_POLICY_RESPONSE),
    Interface.QUERY_START_CHARGE: (QUERY_START_CHARGE_REQUEST, QUERY_START_CHARGE_RESPONSE),
    Interface.NOTIFICATION_START_CHARGE_RESULT: (
        NOTIFICATION_START_CHARGE_RESULT_REQUEST,
        NOTIFICATION_START_CHARGE_RESULT_RESPONSE,
    ),
    Interface.QUERY_EQUIP_CHARGE_STATUS: (QUERY_EQUIP_CHARGE_STATUS_REQUEST, QUERY_EQUIP_CHARGE_STATUS_RESPONSE),
    Interface.NOTIFICATION_EQUIP_CHARGE_STATUS: (
        NOTIFICATION_EQUIP_CHARGE_STATUS_REQUEST,
        NOTIFICATION_EQUIP_CHARGE_STATUS_RESPONSE,
    ),
    Interface.QUERY_STOP_CHARGE: (QUERY_STOP_CHARGE_REQUEST, QUERY_STOP_CHARGE_RESPONSE),
    Interface.NOTIFICATION_STOP_CHARGE_RESULT: (
        NOTIFICATION_STOP_CHARGE_RESULT_REQUEST,
        NOTIFICATION_STOP_CHARGE_RESULT_RESPONSE,
    ),
    Interface.NOTIFICATION_CHARGE_ORDER_INFO: (
        NOTIFICATION_CHARGE_ORDER_INFO_REQUEST,
        NOTIFICATION_CHARGE_ORDER_INFO_RESPONSE,
    ),
    Interface.NOTIFICATION_CHARGE_ORDER_INFO_FOR_BONUS: (
        NOTIFICATION_CHARGE_ORDER_INFO_FOR_BONUS_REQUEST,
        NOTIFICATION_CHARGE_ORDER_INFO_FOR_BONUS_RESPONSE,
    ),
    Interface.CHECK_CHARGE_ORDERS: (CHECK_CHARGE_ORDERS_REQUEST, CHECK_CHARGE_ORDERS_RESPONSE),
}

# --------------------------------------------------------------------------------------------------------------------
# notification_stationStatus: the standard object body, and the arrays some peers push instead
# --------------------------------------------------------------------------------------------------------------------

_STATUS_KEYS = ("ConnectorStatusInfo", "ConnectorStatusInfos")
_STATUS_ARRAYS = {
    key: List(key, "充电设备接口状态列表", CONNECTOR_STATUS_INFO, min_items=1, unique_by="ConnectorID")
    for key in _STATUS_KEYS
}


def status_infos(payload: Any) -> list[Any]:
    """The pushed ConnectorStatusInfo items, whether the peer sent the standard object or an array.

    Accepts `{"ConnectorStatusInfo": {…}}`, `{"ConnectorStatusInfo": [...]}` and `{"ConnectorStatusInfos": [...]}`;
    anything else gives []. Items are returned as sent (validate each against CONNECTOR_STATUS_INFO).
    """
    if not isinstance(payload, dict):
        return []
    single = payload.get("ConnectorStatusInfo")
    if isinstance(single, dict):
        return [single]
    for key in _STATUS_KEYS:
        items = payload.get(key)
        if isinstance(items, _SEQUENCE):
            return list(items)
    return []


def validate_status_notification(payload: Any, *, max_items: int | None = None) -> list[Problem]:
    """validate() for notification_stationStatus that also accepts the array forms (paths like `…Infos[2].Status`),
    of at most `max_items` items when given (the standard form carries one)."""
    if isinstance(payload, dict) and not isinstance(payload.get("ConnectorStatusInfo"), dict):
        for key in _STATUS_KEYS:
            items = payload.get(key)
            if isinstance(items, _SEQUENCE):
                out: list[Problem] = []
                if max_items is not None and len(items) > max_items:
                    spec = _STATUS_ARRAYS[key]
                    out.append(spec.problem(key, MAX_ITEMS, f"一次最多{max_items}项，实际为{len(items)}项"))
                    return out
                _STATUS_ARRAYS[key].check(items, key, out)
                return out
    return validate(payload, NOTIFICATION_STATION_STATUS_REQUEST)


# --------------------------------------------------------------------------------------------------------------------
# Data-quality arithmetic (kept out of validate(): a wrong sum is reported, not answered with 4004)
# --------------------------------------------------------------------------------------------------------------------

_CENT = Decimal("0.01")
# Arithmetic on peer numbers must not raise (1E+999999999 overflows the default context): no traps, ample precision.
_ARITHMETIC = Context(prec=60, Emax=MAX_EMAX, Emin=MIN_EMIN, traps=[])


def consistency_problems(order_payload: Any) -> list[Problem]:
    """Arithmetic checks of a notification_charge_order_info payload: money sum and Σ DetailPower (rule `consistency`).

    Fields that are missing or mistyped are skipped (validate() reports those).
    """
    out: list[Problem] = []
    if not isinstance(order_payload, dict):
        return out
    with localcontext(_ARITHMETIC):
        _money_sum(order_payload, out)
        _power_sum(order_payload, out)
    return out


def _money_sum(order_payload: dict[Any, Any], out: list[Problem]) -> None:
    total, elec, service = (order_payload.get(k) for k in ("TotalMoney", "TotalElecMoney", "TotalSeviceMoney"))
    if _is_number(total) and _is_number(elec) and _is_number(service):
        expected = _as_decimal(elec) + _as_decimal(service)
        if abs(_as_decimal(total) - expected) > _CENT:
            out.append(
                Problem(
                    "TotalMoney",
                    CONSISTENCY,
                    f"TotalMoney（累计总金额）{_show(total)}应等于TotalElecMoney（总电费）与TotalSeviceMoney（总服务费）"
                    f"之和{_show(expected)}（允许误差0.01）",
                )
            )


def _power_sum(order_payload: dict[Any, Any], out: list[Problem]) -> None:
    details, power = order_payload.get("ChargeDetails"), order_payload.get("TotalPower")
    if isinstance(details, _SEQUENCE) and details and _is_number(power):
        parts = [d.get("DetailPower") if isinstance(d, dict) else None for d in details]
        if all(_is_number(p) for p in parts):
            summed = sum((_as_decimal(p) for p in parts), Decimal(0))
            tolerance = _CENT * len(parts)  # each detail may be rounded to 0.01 independently
            if abs(summed - _as_decimal(power)) > tolerance:
                out.append(
                    Problem(
                        "TotalPower",
                        CONSISTENCY,
                        f"TotalPower（累计充电量）{_show(power)}与ChargeDetails各时段DetailPower之和{_show(summed)}"
                        f"相差超过{_show(tolerance)}",
                    )
                )
