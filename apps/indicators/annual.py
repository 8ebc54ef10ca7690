"""The annual assessment (年度考核, spec §6), the second scheme: per public station and year, under the version in
force on the year's first day, on what the portal can see of interoperability and maintenance.

Criteria (each a percentage, 0–100):
- AVAIL: the station's availability over the year, Σ numerators ÷ Σ denominators of its quarter rows;
- PUSH_COVERAGE: the share of the station's status changes its platform announced by a push (on time or late),
  Σ `pushed` ÷ Σ changes of its T_STATUS quarter rows — a change only a pull saw is not covered;
- CONFORMANCE: the operator's conformance check, 100 if its latest report started before the year's end passed,
  0 if it failed; the reports are onboarding's, which this app may not import, so the value comes from a source an
  app above registers (`operator_source`, wired by supervision).
Scores, total, ranks and grades as in the quarterly scorecard (apps.indicators.scorecard). Reward = the grade's
rate (yuan per kW per year) × the station's rated kW, capped per station. Frozen once the year has ended more than
HLHT_INDICATOR_LOOKBACK_DAYS ago.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from apps.core.conf import conf
from apps.operators.choices import OperatorStatus
from apps.stations.choices import StationType
from apps.stations.models import Connector, Station

from .models import AnnualAssessment, AnnualScheme, Indicator, Level, Period
from .scorecard import _grades, _scores

# Operator-level criteria that come from apps above indicators: code → f(year, operator_ids) → {OperatorID: value}.
OPERATOR_SOURCES: dict[str, Callable[[int, list[str]], dict[str, float | None]]] = {}
ANNUAL_CODES = {
    "AVAIL": "可用率（全年）",
    "PUSH_COVERAGE": "状态变化推送覆盖率",
    "CONFORMANCE": "一致性检测",
}


def operator_source(code: str, source: Callable[[int, list[str]], dict[str, float | None]]) -> None:
    """Register where an operator-level criterion's yearly value comes from (once, from an AppConfig.ready())."""
    if code in OPERATOR_SOURCES and OPERATOR_SOURCES[code] is not source:
        raise ValueError(f"annual criterion source {code!r} is registered twice")
    OPERATOR_SOURCES[code] = source


def annual_scheme_in_force(year: int) -> AnnualScheme:
    """The version valid on the year's first day; the public default is created if none exists yet."""
    scheme = AnnualScheme.objects.filter(valid_from__lte=date(year, 1, 1)).order_by("-valid_from").first()
    if scheme is None:
        scheme, _ = AnnualScheme.objects.get_or_create(
            valid_from=date(2018, 1, 1), defaults={"name": "北京市年度考核（平台可见部分）"}
        )
    return scheme


def _station_values(year: int) -> dict[int, dict[str, float | None]]:
    """AVAIL and PUSH_COVERAGE per station from its quarter rows of the year (the aggregation rule)."""
    sums: dict[int, dict[str, list[float]]] = {}
    rows = Indicator.objects.filter(
        period=Period.QUARTER, level=Level.STATION, code__in=["AVAIL", "T_STATUS"],
        start__gte=date(year, 1, 1), start__lt=date(year + 1, 1, 1),
    ).values_list("station_id", "code", "numerator", "denominator", "details")  # fmt: skip
    for station_pk, code, numerator, denominator, details in rows:
        name = "AVAIL" if code == "AVAIL" else "PUSH_COVERAGE"
        part = sums.setdefault(station_pk, {}).setdefault(name, [0.0, 0.0])
        part[0] += float((details or {}).get("pushed", 0)) if name == "PUSH_COVERAGE" else numerator
        part[1] += denominator
    return {
        pk: {name: round(100 * n / d, 6) if d else None for name, (n, d) in parts.items()} for pk, parts in sums.items()
    }


@transaction.atomic
def annual_compute(year: int, *, now=None) -> int:
    """Every public station's assessment of the year under the scheme in force; nothing once it is frozen."""
    now = now or timezone.now()
    scheme = annual_scheme_in_force(year)
    existing = AnnualAssessment.objects.filter(scheme=scheme, year=year)
    if existing.filter(frozen=True).exists():
        return 0
    frozen = timezone.localdate(now) >= date(year + 1, 1, 1) + timedelta(days=conf().indicators.lookback_days)
    codes = [criterion["code"] for criterion in scheme.criteria]
    values = _station_values(year)
    stations = list(
        Station.objects.filter(pk__in=list(values)).values_list("pk", "operator_id", "station_type", "operator__status")
    )
    operator_ids = sorted({operator_id for _, operator_id, _, _ in stations})
    by_operator = {code: OPERATOR_SOURCES[code](year, operator_ids) for code in codes if code in OPERATOR_SOURCES}
    kw = dict(
        Connector.objects.filter(station_id__in=list(values)).values("station_id").annotate(kw=Sum("power"))
        .values_list("station_id", "kw")
    )  # fmt: skip
    cards: dict[int, dict[str, Any]] = {}
    for pk, operator_id, station_type, operator_status in stations:
        raw = {code: by_operator[code].get(operator_id) if code in by_operator else values[pk].get(code)
               for code in codes}  # fmt: skip
        reasons = []
        if station_type != StationType.PUBLIC:
            reasons.append("非公共充电站")
        if operator_status != OperatorStatus.ACTIVE:
            reasons.append("运营商未正式接入")
        reasons += [f"缺少指标 {code}" for code in codes if raw[code] is None]
        cards[pk] = {"operator_id": operator_id, "reasons": reasons, "values": raw, "kw": float(kw.get(pk) or 0)}
    eligible = [pk for pk, card in cards.items() if not card["reasons"]]
    weights = sum(float(c["weight"]) for c in scheme.criteria) or 1.0
    scores: dict[int, dict[str, float]] = {pk: {} for pk in eligible}
    for criterion in scheme.criteria:
        code = criterion["code"]
        for pk, score in _scores({pk: cards[pk]["values"][code] for pk in eligible}, criterion["direction"]).items():
            scores[pk][code] = score
    totals = {pk: round(sum(float(c["weight"]) * scores[pk][c["code"]] for c in scheme.criteria) / weights, 6)
              for pk in eligible}  # fmt: skip
    ranks, grades = _grades(totals, scheme)
    cap = Decimal(scheme.cap_yuan_per_station)
    existing.delete()
    AnnualAssessment.objects.bulk_create([
        AnnualAssessment(
            scheme=scheme, year=year, operator_id=card["operator_id"], station_id=pk, eligible=pk in totals,
            reasons=card["reasons"], values=card["values"], scores=scores.get(pk, {}), total=totals.get(pk),
            rank=ranks.get(pk), grade=grades.get(pk, ""), rated_kw=card["kw"],
            reward_yuan=min(cap, (Decimal(str(scheme.rates.get(grades[pk], "0"))) * Decimal(str(card["kw"]))))
            .quantize(Decimal("0.01"), ROUND_HALF_UP) if pk in totals else Decimal(0),
            frozen=frozen,
        )
        for pk, card in cards.items()
    ])  # fmt: skip
    return len(cards)


def annual_refresh(*, today: date | None = None) -> int:
    """The nightly refresh: the current year live, and the one before it until it is frozen."""
    today = today or timezone.localdate()
    return annual_compute(today.year - 1) + annual_compute(today.year)
