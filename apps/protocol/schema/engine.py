"""The validation engine: field specs, structs and cross-field rules that report every problem of a Data payload."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final, TypeGuard

from ..errors import BusinessError
from ..text import first_forbidden, safe_text
from ..timestamps import FIRST_YEAR, LAST_YEAR

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
SEQUENCE = (list, tuple)
_NUMBER = (int, Decimal, float)

# (rule, message tail) of a scalar problem; the caller prefixes the field's path and label.
Finding = tuple[str, str] | None


def join_path(path: str, name: str) -> str:
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
    if isinstance(value, SEQUENCE):
        return "数组"
    return type(value).__name__


def show(value: Any) -> str:
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


def is_number(value: Any) -> TypeGuard[int | Decimal | float]:
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


def as_decimal(value: int | Decimal | float) -> Decimal:
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
            return FORMAT, f"格式应为{self.format_name}，实际为{show(value)}"
        if size == 0:
            # Optional strings never get here as "" (absent); required ones may be "" only where allowed (QRCode).
            return (REQUIRED, "不能为空") if self.required and not self.allow_empty else None
        if self.fixed_len is not None:
            return FIXED_LEN, f"长度应为{self.fixed_len}，实际为{size}"
        if size > self.hi:
            return MAX_LEN, f"长度不能超过{self.max_len}，实际为{size}"
        return MIN_LEN, f"长度不能少于{self.min_len}，实际为{size}"


def alnum_ascii(value: str) -> bool:
    # str methods beat a regex here; isascii() first because isalnum() alone accepts Chinese and full-width digits.
    return value.isascii() and value.isalnum()


class OperatorID(Str):
    """Exactly 9 ASCII letters/digits (组织机构代码 without '-', or characters 9–17 of a USCC)."""

    __slots__ = ()

    def __init__(self, name: str = "", label: str = "", *, required: bool = True) -> None:
        super().__init__(
            name, label, required=required, fixed_len=9, predicate=alnum_ascii, format_name="9位字母或数字"
        )


class Serial27(Str):
    """Business serial number: exactly 27 ASCII letters/digits (OperatorID + 18-character unique suffix)."""

    __slots__ = ()

    def __init__(self, name: str = "", label: str = "", *, required: bool = True) -> None:
        super().__init__(
            name, label, required=required, fixed_len=27, predicate=alnum_ascii, format_name="27位字母或数字"
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
def is_datetime(value: str) -> bool:
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


def is_date(value: str) -> bool:
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
            name, label, required=required, predicate=is_datetime, format_name=f"yyyy-MM-dd HH:mm:ss{_YEARS}"
        )


class Date(Str):
    """`yyyy-MM-dd`, zero-padded, a real calendar date."""

    __slots__ = ()

    def __init__(self, name: str = "", label: str = "", *, required: bool = True) -> None:
        super().__init__(name, label, required=required, predicate=is_date, format_name=f"yyyy-MM-dd{_YEARS}")


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
            for first, last in self.custom:
                if first <= value <= last:
                    break
            else:
                return ENUM, f"取值{show(int(value))}不在允许范围内（{self.allowed_text}）"
        low, high = self.min, self.max
        if (low is not None and value < low) or (high is not None and value > high):
            return RANGE, f"{_bounds_text(low, high)}，实际为{show(int(value))}"
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
                return TYPE, f"应为有限数值，实际为{show(value)}"
            if self.scale is not None and not _within_scale(value, self.scale):
                return SCALE, f"小数位数不能超过{self.scale}位，实际为{show(value)}"
        elif cls is not int:
            if isinstance(value, bool) or not isinstance(value, _NUMBER):
                return _type_finding(value, "数值")
            if not is_number(value):
                return TYPE, f"应为有限数值，实际为{show(value)}"
            if (
                self.scale is not None
                and not isinstance(value, int)
                and not _within_scale(as_decimal(value), self.scale)
            ):
                return SCALE, f"小数位数不能超过{self.scale}位，实际为{show(value)}"
        if (self.min is not None and value < self.min) or (self.max is not None and value > self.max):
            return RANGE, f"{_bounds_text(self.min, self.max)}，实际为{show(value)}"
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
        if not isinstance(value, SEQUENCE):
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
                    unique_into(element.get(key), struct.field(key), f"{item_path}.{key}", seen, out)
            elif item is not None:
                if element is None:
                    out.append(item.problem(item_path, REQUIRED, "数组元素不能为null"))
                    continue
                finding = item.inspect(element)
                if finding is not None:
                    out.append(item.problem(item_path, *finding))
                elif seen is not None:
                    unique_into(element, item, item_path, seen, out)


def unique_into(value: Any, field: Field | None, path: str, seen: set[str], out: list[Problem]) -> None:
    # Only well-formed strings take part; a wrong type or character has already been reported by the field itself.
    if not isinstance(value, str) or not value or first_forbidden(value) is not None:
        return
    if value in seen:
        label = field.label if field is not None else ""
        name = f"{path}（{label}）" if label else path
        out.append(Problem(path, UNIQUE, f"{name}重复：{show(value)}"))
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
                    out.append(spec.problem(join_path(path, name), REQUIRED, "为必填项，不能缺失"))
            elif inspect is not None:
                finding = inspect(value)
                if finding is not None:
                    out.append(spec.problem(join_path(path, name), *finding))
            else:
                check_container(value, join_path(path, name), out)
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


def count_rule(count_name: str, count_label: str, list_name: str) -> Rule:
    """`count_name` must equal len(`list_name`) when both are present with the right types."""

    def rule(payload: dict[Any, Any], path: str, out: list[Problem]) -> None:
        count, items = payload.get(count_name), payload.get(list_name)
        if (
            isinstance(count, int)
            and not isinstance(count, bool)
            and isinstance(items, SEQUENCE)
            and count != len(items)
        ):
            where = join_path(path, count_name)
            out.append(
                Problem(
                    where,
                    COUNT,
                    f"{where}（{count_label}）应等于{list_name}的元素个数{len(items)}，实际为{show(count)}",
                )
            )

    return rule


def time_order_rule(start: str, start_label: str, end: str, end_label: str, formatted: Callable[[str], bool]) -> Rule:
    """`end` ≥ `start`; both use a zero-padded fixed format, so string order is time order."""

    def rule(payload: dict[Any, Any], path: str, out: list[Problem]) -> None:
        a, b = payload.get(start), payload.get(end)
        if isinstance(a, str) and isinstance(b, str) and b < a and formatted(a) and formatted(b):
            where = join_path(path, end)
            out.append(
                Problem(
                    where,
                    TIME_ORDER,
                    f"{where}（{end_label}）{show(b)}不能早于{start}（{start_label}）{show(a)}",
                )
            )

    return rule
