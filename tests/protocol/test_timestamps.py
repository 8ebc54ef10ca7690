"""TimeStamp/Seq generation, 27-char serial numbers and strict business date/time formats (clock injected)."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest

from apps.protocol import (
    CST,
    SeqGenerator,
    SerialNumberGenerator,
    format_date,
    format_datetime,
    format_timestamp,
    is_fresh,
    is_operator_id,
    is_serial_number,
    millis_to_timestamp,
    parse_date,
    parse_datetime,
    parse_timestamp,
    serial_number,
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


def test_serial_numbers_unique_and_27_chars_in_one_frozen_second() -> None:
    gen = SerialNumberGenerator(FakeClock(START))
    serials = [gen.next("MA01H3BQ2") for _ in range(20_000)]
    assert len(set(serials)) == 20_000
    assert all(len(s) == 27 and s.startswith("MA01H3BQ2") for s in serials)
    assert serials[0] == "MA01H3BQ2202401011200000001"
    # 9999 per second, then the next second is borrowed: call 20,000 is the 2nd of 12:00:02.
    assert serials[-1] == "MA01H3BQ2202401011200020002"
    assert all(is_serial_number(s, "MA01H3BQ2") for s in serials)


def test_serial_number_standard_example_shape() -> None:
    gen = SerialNumberGenerator(lambda: datetime(2016, 5, 14, 8, 30, 59, tzinfo=CST))
    assert gen("123456789") == "123456789201605140830590001"


def test_serial_number_default_generator_and_bad_operator() -> None:
    value = serial_number("123456789")
    assert is_serial_number(value, "123456789")
    with pytest.raises(ValueError, match="OperatorID"):
        serial_number("12345678")


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
