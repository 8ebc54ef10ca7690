"""Asia/Shanghai time helpers: envelope TimeStamp/Seq, 27-char serial numbers and business date/time formats."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from typing import TypeGuard
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "CST",
    "FIRST_YEAR",
    "LAST_YEAR",
    "SeqGenerator",
    "format_date",
    "format_datetime",
    "format_serial",
    "format_timestamp",
    "is_fresh",
    "is_operator_id",
    "is_serial_number",
    "millis_to_timestamp",
    "now",
    "parse_date",
    "parse_datetime",
    "parse_timestamp",
]

try:
    CST: timezone | ZoneInfo = ZoneInfo("Asia/Shanghai")
except ZoneInfoNotFoundError:  # pragma: no cover - slim containers without tzdata
    # China has observed no DST since 1991, so a fixed +08:00 is exact for every date this protocol will carry.
    CST = timezone(timedelta(hours=8), "CST")

Clock = Callable[[], datetime]

# [0-9] rather than \d: \d also matches Arabic-Indic and full-width digits, which int() would happily accept.
_TIMESTAMP = re.compile(r"[0-9]{14}")
_DATETIME = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2}) ([0-9]{2}):([0-9]{2}):([0-9]{2})")
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_OPERATOR_ID = re.compile(r"[0-9A-Za-z]{9}")
_SERIAL = re.compile(r"[0-9A-Za-z]{27}")

# The years a business date may carry: a year inside datetime's range on both sides, so whatever the portal adds
# or subtracts (a skew window, a day's end, a time zone) stays computable and storable (year 9999 + 1 day raises).
FIRST_YEAR, LAST_YEAR = 2, 9998

SERIAL_LENGTH = 27
MAX_PER_SECOND = 9999


def now() -> datetime:
    """Current time, aware, in Asia/Shanghai."""
    return datetime.now(CST)


def _to_cst(value: datetime) -> datetime:
    # A naive datetime is ambiguous (server-local? UTC?); refusing it keeps wrong-by-8-hours bugs out of the wire.
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("naive datetime: attach a timezone before formatting protocol times")
    return value.astimezone(CST)


def format_timestamp(value: datetime) -> str:
    """Envelope TimeStamp `yyyyMMddHHmmss` in Asia/Shanghai."""
    d = _to_cst(value)
    # f-string instead of strftime: faster on the hot path and always zero-pads the year.
    return f"{d.year:04d}{d.month:02d}{d.day:02d}{d.hour:02d}{d.minute:02d}{d.second:02d}"


def parse_timestamp(value: str) -> datetime:
    """Strictly parse a 14-digit TimeStamp into an aware Asia/Shanghai datetime; ValueError otherwise."""
    if not isinstance(value, str) or not _TIMESTAMP.fullmatch(value):
        raise ValueError(f"TimeStamp must be 14 digits yyyyMMddHHmmss: {value!r}")
    return _parse_timestamp(value)


# Every inbound request parses its TimeStamp, and concurrent requests share the same few seconds; datetimes are
# immutable, so a small cache is safe. Invalid dates raise and are therefore never cached.
@lru_cache(maxsize=1024)
def _parse_timestamp(value: str) -> datetime:
    return datetime(
        int(value[0:4]),
        int(value[4:6]),
        int(value[6:8]),
        int(value[8:10]),
        int(value[10:12]),
        int(value[12:14]),
        tzinfo=CST,
    )


def millis_to_timestamp(value: str | int) -> str:
    """Normalise an epoch-millisecond TimeStamp (a peer dialect) to `yyyyMMddHHmmss` Asia/Shanghai."""
    millis = int(value)
    if millis < 0:
        raise ValueError("negative epoch milliseconds")
    return format_timestamp(datetime.fromtimestamp(millis // 1000, CST))


def is_fresh(timestamp: str, *, window_seconds: int = 300, at: datetime | None = None) -> bool:
    """True when a TimeStamp lies within ±window of now (the replay/clock-skew policy; the standard sets none)."""
    try:
        sent = parse_timestamp(timestamp)
    except ValueError:
        return False
    reference = _to_cst(at) if at is not None else now()
    return abs((reference - sent).total_seconds()) <= window_seconds


def format_datetime(value: datetime) -> str:
    """Business time inside Data: `yyyy-MM-dd HH:mm:ss` in Asia/Shanghai."""
    d = _to_cst(value)
    return f"{d.year:04d}-{d.month:02d}-{d.day:02d} {d.hour:02d}:{d.minute:02d}:{d.second:02d}"


def parse_datetime(value: str) -> datetime:
    """Strictly parse `yyyy-MM-dd HH:mm:ss` (zero-padded, one space) into an aware Asia/Shanghai datetime."""
    # strptime would also accept "2024-1-1 1:2:3"; peers must send the padded form, so check with a regex first.
    match = _DATETIME.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"expected yyyy-MM-dd HH:mm:ss: {value!r}")
    year, month, day, hour, minute, second = (int(g) for g in match.groups())
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(f"year outside {FIRST_YEAR}–{LAST_YEAR}: {value!r}")
    return datetime(year, month, day, hour, minute, second, tzinfo=CST)


def format_date(value: date) -> str:
    """Business date `yyyy-MM-dd`; an aware datetime is first converted to Asia/Shanghai."""
    if isinstance(value, datetime):
        value = _to_cst(value).date()
    return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"


def parse_date(value: str) -> date:
    """Strictly parse `yyyy-MM-dd` into a date (a calendar date has no timezone; combine with CST when needed)."""
    match = _DATE.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"expected yyyy-MM-dd: {value!r}")
    year, month, day = (int(g) for g in match.groups())
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(f"year outside {FIRST_YEAR}–{LAST_YEAR}: {value!r}")
    return date(year, month, day)


def is_operator_id(value: object) -> TypeGuard[str]:
    """OperatorID: exactly 9 ASCII letters/digits (组织机构代码 without '-', or USCC characters 9–17)."""
    return isinstance(value, str) and _OPERATOR_ID.fullmatch(value) is not None


class _PerSecondCounter:
    """Thread-safe (second, n) source: n = 1, 2, … within a second, restarting at 1 on a later second.

    Two rules keep every (second, n) pair unique for the life of the process:
    * if the clock steps backwards (NTP), we stay on the last second used instead of reissuing old pairs;
    * past 9999 in one second (the fields are 4 digits) we borrow the next second and restart at 1. The value then
      runs slightly ahead of the wall clock, but only under a load far beyond what any peer handles.
    """

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._second: datetime | None = None
        self._count = 0

    def next(self) -> tuple[datetime, int]:
        current = _to_cst(self._clock()).replace(microsecond=0)
        with self._lock:
            if self._second is None or current > self._second:
                self._second, self._count = current, 0
            self._count += 1
            if self._count > MAX_PER_SECOND:
                self._second += timedelta(seconds=1)
                self._count = 1
            return self._second, self._count


class SeqGenerator:
    """Issues envelope (TimeStamp, Seq) pairs: Seq 0001, 0002… within a second, reset to 0001 on a new second."""

    def __init__(self, clock: Clock = now) -> None:
        self._counter = _PerSecondCounter(clock)

    def next(self) -> tuple[str, str]:
        second, count = self._counter.next()
        return format_timestamp(second), f"{count:04d}"

    __call__ = next


def format_serial(operator_id: str, second: datetime, count: int) -> str:
    """A 27-char serial number (StartChargeSeq, EquipAuthSeq, …): the 9-char OperatorID, the Beijing second
    `yyyyMMddHHmmss` and a 4-digit count within it (the standard's example). Who counts must count for every
    process that issues serials (the portal: a database sequence, apps/core/serials.py)."""
    if not is_operator_id(operator_id):
        raise ValueError(f"OperatorID must be 9 ASCII letters/digits: {operator_id!r}")
    if not 1 <= count <= MAX_PER_SECOND:
        raise ValueError(f"the count within a second is 1–{MAX_PER_SECOND}: {count}")
    return f"{operator_id}{format_timestamp(second)}{count:04d}"


def is_serial_number(value: object, operator_id: str | None = None) -> TypeGuard[str]:
    """27 ASCII letters/digits whose first 9 form an OperatorID (equal to `operator_id` when given).

    The 18-char suffix format is free in the standard, so only its length and alphabet are checked.
    """
    if not isinstance(value, str) or _SERIAL.fullmatch(value) is None:
        return False
    return operator_id is None or value[:9] == operator_id
