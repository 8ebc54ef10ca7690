"""Reads for regulators: data quality per operator (rejections by rule over time, correctness of station records)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any, Literal

from django.db.models import Count, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from apps.interconnect.models import RejectedRecord, SyncRun
from apps.protocol.names import Interface

from .rules import UNKNOWN_RULE, rule_label

STATIONS_INFO = Interface.QUERY_STATIONS_INFO
# The rules' bar for the share of station records that pass validation, in percent.
TARGET = Decimal("99.99")
_PERCENT = Decimal("0.0001")

Bucket = Literal["day", "week", "month"]
BUCKETS: tuple[str, ...] = ("day", "week", "month")
Moment = date | datetime | None


# --------------------------------------------------------------------------------------------------------------------
# Time bounds: dates are whole Beijing days, both ends included; datetimes are instants, `until` excluded
# --------------------------------------------------------------------------------------------------------------------


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_default_timezone())


def _start(moment: Moment) -> datetime | None:
    if moment is None:
        return None
    if isinstance(moment, datetime):  # before date: a datetime is a date too
        return moment if timezone.is_aware(moment) else timezone.make_aware(moment, timezone.get_default_timezone())
    return _day_start(moment)


def _end(moment: Moment) -> datetime | None:
    if moment is None or isinstance(moment, datetime):
        return _start(moment)
    return _start(moment + timedelta(days=1))


def _local_day(moment: datetime) -> date:
    return timezone.localtime(moment, timezone.get_default_timezone()).date()


def _bucket_of(day: date, bucket: str) -> date:
    if bucket == "week":
        return day - timedelta(days=day.weekday())  # the Monday
    if bucket == "month":
        return day.replace(day=1)
    return day


def _next_bucket(start: date, bucket: str) -> date:
    if bucket == "week":
        return start + timedelta(days=7)
    if bucket == "month":
        return date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return start + timedelta(days=1)


def period_last_day(start: date, bucket: str) -> date:
    """The last day of the period (day, week from Monday, month) that begins on `start`."""
    return _next_bucket(start, bucket) - timedelta(days=1)


def day_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """Aware instants from the start of Beijing day `first` to the start of the day after `last` (excluded)."""
    return _day_start(first), _day_start(last + timedelta(days=1))


def _periods(since: Moment, until: Moment, bucket: str) -> list[date]:
    """Every bucket between the bounds, so a quiet day shows as a zero rather than a gap."""
    start, end = _start(since), _end(until)
    if start is None or end is None or end <= start:
        return []
    current, last = _bucket_of(_local_day(start), bucket), _local_day(end - timedelta(microseconds=1))
    out = []
    while current <= last:
        out.append(current)
        current = _next_bucket(current, bucket)
    return out


def _codes(rules: Any) -> list[str]:
    # `rules` is a JSON list of codes as pulls.py writes it; tolerate anything else rather than break the report.
    if isinstance(rules, str):
        rules = [rules]
    if not isinstance(rules, list | tuple):
        return [UNKNOWN_RULE]
    codes = sorted({str(code) for code in rules if code not in (None, "")})
    return codes or [UNKNOWN_RULE]


# --------------------------------------------------------------------------------------------------------------------
# Rejections by rule over time
# --------------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QualityReport:
    """Rejected records of one operator by rule and period.

    A record that broke several rules counts once under each of them in `by_rule` and `totals`, and once in
    `records`; so the columns of a period may add up to more than its records.
    """

    operator_id: str
    bucket: str
    periods: tuple[date, ...]  # period starts, ascending
    rules: tuple[str, ...]  # rule codes seen, most often broken first
    by_rule: dict[date, dict[str, int]]  # period → rule → rejected records that broke it
    records: dict[date, int]  # period → rejected records
    totals: dict[str, int]  # rule → rejected records over the whole span

    @property
    def total_records(self) -> int:
        return sum(self.records.values())

    @property
    def rule_columns(self) -> list[tuple[str, str, int]]:
        """(code, Chinese name, total) per rule, in column order."""
        return [(code, rule_label(code), self.totals[code]) for code in self.rules]

    def rows(self) -> list[tuple[date, int, list[int]]]:
        """(period, rejected records, counts in `rules` order) per period: the report as a table."""
        return [
            (period, self.records.get(period, 0), [self.by_rule.get(period, {}).get(code, 0) for code in self.rules])
            for period in self.periods
        ]


def quality_report_by_operator(
    operator_ids: Iterable[str] | None = None,
    since: Moment = None,
    until: Moment = None,
    bucket: Bucket = "day",
    interface: str | None = None,
) -> dict[str, QualityReport]:
    """quality_report() for several operators in one query; every operator asked for gets a report (maybe empty).

    With `operator_ids` None, the operators that have rejected records in the span.
    """
    if bucket not in BUCKETS:
        raise ValueError(f"bucket must be one of {BUCKETS}, not {bucket!r}")
    wanted = None if operator_ids is None else list(dict.fromkeys(operator_ids))
    qs = RejectedRecord.objects.all()
    if wanted is not None:
        qs = qs.filter(operator_id__in=wanted)
    if interface:
        qs = qs.filter(interface=interface)
    start, end = _start(since), _end(until)
    if start is not None:
        qs = qs.filter(created__gte=start)
    if end is not None:
        qs = qs.filter(created__lt=end)
    # Grouped in the database by (operator, Beijing day, rule list): a flood of rejections of one kind stays a handful
    # of rows. Rule lists are stored sorted, so equal sets group together; they are split into rules here because
    # a JSON list cannot be unnested portably (SQLite vs PostgreSQL).
    rows = (
        qs.order_by()
        .annotate(day=TruncDate("created", tzinfo=timezone.get_default_timezone()))
        .values("operator_id", "day", "rules")
        .annotate(n=Count("pk"))
    )
    by_rule: dict[str, dict[date, Counter[str]]] = defaultdict(lambda: defaultdict(Counter))
    records: dict[str, Counter[date]] = defaultdict(Counter)
    for row in rows:
        period = _bucket_of(row["day"], bucket)
        records[row["operator_id"]][period] += row["n"]
        counter = by_rule[row["operator_id"]][period]
        for code in _codes(row["rules"]):
            counter[code] += row["n"]
    span = _periods(since, until, bucket)
    return {
        operator_id: _report(operator_id, bucket, span, by_rule.get(operator_id, {}), records.get(operator_id, {}))
        for operator_id in (wanted if wanted is not None else sorted(records))
    }


def _report(
    operator_id: str,
    bucket: str,
    span: list[date],
    by_rule: dict[date, Counter[str]],
    records: dict[date, int],
) -> QualityReport:
    totals: Counter[str] = Counter()
    for counter in by_rule.values():
        totals.update(counter)
    # Periods with data outside the span (only when a bound is open) are added, not dropped.
    periods = tuple(sorted(set(span) | set(records)))
    rules = tuple(code for code, _ in sorted(totals.items(), key=lambda item: (-item[1], item[0])))
    return QualityReport(
        operator_id=operator_id,
        bucket=bucket,
        periods=periods,
        rules=rules,
        by_rule={period: dict(counter) for period, counter in by_rule.items()},
        records=dict(records),
        totals=dict(totals),
    )


def quality_report(
    operator_id: str,
    since: Moment = None,
    until: Moment = None,
    bucket: Bucket = "day",
    interface: str | None = None,
) -> QualityReport:
    """Rejected records by rule per day (or week, month) of one operator.

    `since`/`until` as dates are Beijing calendar days, both included; as datetimes, `until` is excluded. With
    both given every period in between is listed, zeros included.
    """
    return quality_report_by_operator([operator_id], since, until, bucket, interface)[operator_id]


# --------------------------------------------------------------------------------------------------------------------
# Correctness of station records against the rules' 99.99 %
# --------------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Correctness:
    """Station records (query_stations_info) an operator sent in a span: accepted, rejected, and the share accepted.

    Accepted counts the crawls' created, updated and unchanged records; rejected is what the crawls refused.
    Stations a full crawl marked removed were not sent, so they count as neither.
    """

    operator_id: str
    accepted: int
    rejected: int
    target: Decimal = TARGET

    @property
    def received(self) -> int:
        return self.accepted + self.rejected

    @property
    def percent(self) -> Decimal | None:
        """Accepted / received in percent, cut (not rounded) to four decimals so 99.98999 never shows as 99.99."""
        if not self.received:
            return None
        return (Decimal(self.accepted) * 100 / Decimal(self.received)).quantize(_PERCENT, rounding=ROUND_DOWN)

    @property
    def meets(self) -> bool | None:
        """Whether the share reaches the target, decided exactly in integers; None without any record."""
        if not self.received:
            return None
        # accepted / received ≥ target / 100  ⇔  accepted · 100 · 10^k ≥ received · target · 10^k
        scale = 10 ** max(0, -int(self.target.as_tuple().exponent))
        return self.accepted * 100 * scale >= self.received * int(self.target * scale)


def correctness_by_operator(
    operator_ids: Iterable[str] | None = None, since: Moment = None, until: Moment = None
) -> dict[str, Correctness]:
    """correctness() for several operators in one query (with `operator_ids` None: those with crawls in the span)."""
    wanted = None if operator_ids is None else list(dict.fromkeys(operator_ids))
    qs = SyncRun.objects.filter(interface=STATIONS_INFO)
    if wanted is not None:
        qs = qs.filter(operator_id__in=wanted)
    start, end = _start(since), _end(until)
    if start is not None:
        qs = qs.filter(started__gte=start)
    if end is not None:
        qs = qs.filter(started__lt=end)
    rows = (
        qs.order_by()
        .values("operator_id")
        .annotate(
            created=Sum("created_count"),
            updated=Sum("updated_count"),
            unchanged=Sum("unchanged_count"),
            rejected=Sum("rejected_count"),
        )
    )
    found = {
        row["operator_id"]: Correctness(
            operator_id=row["operator_id"],
            accepted=(row["created"] or 0) + (row["updated"] or 0) + (row["unchanged"] or 0),
            rejected=row["rejected"] or 0,
        )
        for row in rows
    }
    if wanted is None:
        return dict(sorted(found.items()))
    return {oid: found.get(oid) or Correctness(operator_id=oid, accepted=0, rejected=0) for oid in wanted}


def correctness(operator_id: str, since: Moment = None, until: Moment = None) -> Correctness:
    """How many of an operator's station records passed validation in the span, against the 99.99 % target.

    The span selects crawls by their start; dates are Beijing calendar days, both included.
    """
    return correctness_by_operator([operator_id], since, until)[operator_id]
