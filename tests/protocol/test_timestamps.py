"""TimeStamp/Seq generation, 27-char serial numbers and strict business date/time formats (clock injected)."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest

from apps.protocol import (
    CST,
    SeqGenerator,
    format_date,
    format_datetime,
    format_serial,
    format_timestamp,
    is_fresh,
    is_operator_id,
    is_serial_number,
    millis_to_timestamp,
    parse_date,
    parse_datetime,
    parse_timestamp,
)


class FakeClock:
    """A settable clock so tests step seconds instead of sleeping."""

    def __init__(self, start: datetime) -> None:
        self.value = start

    def __call__(self) -> datetime:
        return self.value

    def tick(self, seconds: float = 1) -> None:
        self.value += timedelta(seconds=seconds)


START = datetime(2024, 1, 1, 12, 0, 0, 250_000, tzinfo=CST)


def test_seq_increments_within_a_second_and_resets_on_the_next() -> None:
    clock = FakeClock(START)
    gen = SeqGenerator(clock)
    assert [gen.next() for _ in range(3)] == [
        ("20240101120000", "0001"),
        ("20240101120000", "0002"),
        ("20240101120000", "0003"),
    ]
    clock.tick(0.5)  # still 12:00:00.750
    assert gen() == ("20240101120000", "0004")
    clock.tick(0.5)
    assert gen() == ("20240101120001", "0001")
    clock.tick(3600)
    assert gen() == ("20240101130001", "0001")


def test_seq_uses_shanghai_time_for_any_aware_clock() -> None:
    gen = SeqGenerator(lambda: datetime(2024, 1, 1, 4, 0, 1, tzinfo=UTC))
    assert gen() == ("20240101120001", "0001")


def test_seq_refuses_naive_clock() -> None:
    with pytest.raises(ValueError, match="naive"):
        SeqGenerator(lambda: datetime(2024, 1, 1)).next()


def test_seq_survives_clock_stepping_backwards() -> None:
    clock = FakeClock(START)
    gen = SeqGenerator(clock)
    assert gen() == ("20240101120000", "0001")
    clock.tick(-5)
    assert gen() == ("20240101120000", "0002")  # no reissued (TimeStamp, Seq) pair


def test_seq_rolls_into_next_second_after_9999() -> None:
    gen = SeqGenerator(FakeClock(START))
    pairs = [gen() for _ in range(10_001)]
    assert pairs[9998] == ("20240101120000", "9999")
    assert pairs[9999] == ("20240101120001", "0001")
    assert pairs[10_000] == ("20240101120001", "0002")
    assert len(set(pairs)) == len(pairs)


def test_seq_is_thread_safe() -> None:
    gen = SeqGenerator(FakeClock(START))
    results: list[tuple[str, str]] = []
    lock = threading.Lock()

    def worker() -> None:
        local = [gen() for _ in range(1000)]
        with lock:
            results.extend(local)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == len(set(results)) == 8000


def test_a_serial_number_has_the_standards_example_shape() -> None:
    second = datetime(2016, 5, 14, 8, 30, 59, tzinfo=CST)
    assert format_serial("123456789", second, 1) == "123456789201605140830590001"
    assert is_serial_number(format_serial("MA01H3BQ2", second, 9999), "MA01H3BQ2")


def test_a_serial_number_refuses_a_bad_operator_or_count() -> None:
    second = datetime(2016, 5, 14, 8, 30, 59, tzinfo=CST)
    with pytest.raises(ValueError, match="OperatorID"):
        format_serial("12345678", second, 1)
    for count in (0, 10_000):
        with pytest.raises(ValueError, match="count"):
            format_serial("123456789", second, count)


@pytest.mark.parametrize(
    ("value", "operator_id", "expected"),
    [
        ("123456789201605140830591234", None, True),
        ("123456789201605140830591234", "123456789", True),
        ("123456789201605140830591234", "987654321", False),
        ("MA01H3BQ2abcdefghijklmnopqr", None, True),
        ("12345678920160514083059123", None, False),
        ("1234567892016051408305912345", None, False),
        ("123456789-20160514083059123", None, False),
        ("１23456789201605140830591234", None, False),
        (123456789201605140830591234, None, False),
        (None, None, False),
    ],
)
def test_is_serial_number(value: object, operator_id: str | None, expected: bool) -> None:
    assert is_serial_number(value, operator_id) is expected


def test_is_operator_id() -> None:
    assert is_operator_id("MABM7G6QX")
    assert not is_operator_id("MABM7G6Q")
    assert not is_operator_id("MABM-G6QX")
    assert not is_operator_id(123456789)


def test_timestamp_format_and_strict_parse() -> None:
    assert format_timestamp(START) == "20240101120000"
    parsed = parse_timestamp("20240101120000")
    assert parsed == START.replace(microsecond=0)
    assert parsed.utcoffset() == timedelta(hours=8)
    for bad in ["2024010112000", "2024-01-01", "20240230120000", "2024010112000a", "２０２４０１０１１２００００"]:
        with pytest.raises(ValueError, match="TimeStamp|day|month|range"):
            parse_timestamp(bad)


def test_millisecond_timestamp_conversion() -> None:
    # 2024-01-01T04:00:01Z is 12:00:01 in Beijing.
    assert millis_to_timestamp("1704081601000") == "20240101120001"
    assert millis_to_timestamp(1704081601999) == "20240101120001"
    with pytest.raises(ValueError, match="negative"):
        millis_to_timestamp(-1)


def test_is_fresh_window() -> None:
    at = datetime(2024, 1, 1, 12, 0, 0, tzinfo=CST)
    assert is_fresh("20240101120400", at=at)
    assert is_fresh("20240101115600", at=at)
    assert not is_fresh("20240101120501", at=at)
    assert not is_fresh("not-a-time", at=at)
    assert is_fresh("20240101120501", at=at, window_seconds=600)


def test_business_datetime_strict() -> None:
    value = parse_datetime("2024-01-01 08:05:09")
    assert value == datetime(2024, 1, 1, 8, 5, 9, tzinfo=CST)
    assert format_datetime(value) == "2024-01-01 08:05:09"
    assert format_datetime(datetime(2024, 1, 1, 0, 5, 9, tzinfo=UTC)) == "2024-01-01 08:05:09"
    for bad in [
        "2024-1-1 8:5:9",
        "2024-01-01T08:05:09",
        "2024-01-01  08:05:09",
        "2024-01-01 08:05:09.123",
        "2024-02-30 00:00:00",
        " 2024-01-01 08:05:09",
        "",
    ]:
        with pytest.raises(ValueError, match="expected|day|range"):
            parse_datetime(bad)
    with pytest.raises(ValueError, match="naive"):
        format_datetime(datetime(2024, 1, 1))


def test_business_date_strict() -> None:
    assert parse_date("2024-02-29") == date(2024, 2, 29)
    assert format_date(date(2024, 2, 9)) == "2024-02-09"
    # 2024-01-01 20:00 UTC is already 2 January in Beijing.
    assert format_date(datetime(2024, 1, 1, 20, 0, tzinfo=UTC)) == "2024-01-02"
    for bad in ["2023-02-29", "2024-2-9", "2024/02/09", "20240209"]:
        with pytest.raises(ValueError, match="expected|day|range"):
            parse_date(bad)
