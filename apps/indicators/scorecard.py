"""Beijing's operation-reward scorecard (spec §6): per public station and quarter, under the scheme version in force.

Raw values are the station's quarter indicator rows (Σ numerators ÷ Σ denominators over the quarter's days). Each
criterion is scored 0–100 among the eligible stations by min–max (a lower-is-better criterion reversed; all equal:
100 each), the total is the weighted mean of the scores, stations are ranked by it (ties share a rank) and graded by
rank shares or score thresholds. Reward = the grade's rate × the quarter's energy, the energy capped at the
connectors' rated kW × the scheme's kWh per kW per year × the quarter's share of the year. A quarter that has ended
is frozen: computing it again changes nothing (a correction is a new scheme version, computed beside it).
"""

from __future__ import annotations

import math
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

from .models import GradingScheme, Indicator, Level, Period, RewardScheme, Scorecard
from .services import period_end, period_start

GRADES = ("A", "B", "C", "D")


def scheme_in_force(quarter: date) -> RewardScheme:
    """The version valid on the quarter's first day; the public default is created if none exists yet."""
    scheme = RewardScheme.objects.filter(valid_from__lte=quarter).order_by("-valid_from").first()
    if scheme is None:
        scheme, _ = RewardScheme.objects.get_or_create(
            valid_from=date(2018, 1, 1), defaults={"name": "北京市运营考核奖励（公开部分）"}
        )
    return scheme


def quarter_of(text: str) -> date:
    """`2026Q4` → 2026-10-01."""
    year, _, number = text.upper().partition("Q")
    if not (year.isdigit() and number in {"1", "2", "3", "4"}):
        raise ValueError("季度应写作 2026Q4")
    return date(int(year), 3 * int(number) - 2, 1)


def _scores(values: dict[int, float], direction: str) -> dict[int, float]:
    if not values:
        return {}
    low, high = min(values.values()), max(values.values())
    if high == low:
        return dict.fromkeys(values, 100.0)
    scale = 100.0 / (high - low)
    if direction == "lower":
        return {pk: round((high - value) * scale, 6) for pk, value in values.items()}
    return {pk: round((value - low) * scale, 6) for pk, value in values.items()}


def _grades(totals: dict[int, float], scheme: GradingScheme) -> tuple[dict[int, int], dict[int, str]]:
    ordered = sorted(totals.items(), key=lambda item: -item[1])
    ranks: dict[int, int] = {}
    for position, (pk, total) in enumerate(ordered, start=1):
        previous = ordered[position - 2] if position > 1 else None
        ranks[pk] = ranks[previous[0]] if previous and previous[1] == total else position
    grades: dict[int, str] = {}
    if scheme.grade_by == "threshold":
        for pk, total in totals.items():
            grades[pk] = next((g for g in GRADES if total >= float(scheme.grade_thresholds.get(g, 0))), GRADES[-1])
        return ranks, grades
    count, bound, edges = len(ordered), 0.0, []
    for grade in GRADES:
        bound += float(scheme.grade_shares.get(grade, 0))
        edges.append((grade, math.ceil(round(bound * count, 9))))
    for pk, rank in ranks.items():
        grades[pk] = next((grade for grade, edge in edges if rank <= edge), GRADES[-1])
    return ranks, grades


@transaction.atomic
def scorecards_compute(quarter: date, *, now=None) -> int:
    """Every public station's scorecard of the quarter under the scheme in force; nothing once it is frozen."""
    now = now or timezone.now()
    quarter = period_start(Period.QUARTER, quarter)
    scheme = scheme_in_force(quarter)
    existing = Scorecard.objects.filter(scheme=scheme, quarter=quarter)
    if existing.filter(frozen=True).exists():
        return 0
    following = period_end(Period.QUARTER, quarter)
    # Frozen once the nightly run can no longer change the quarter's last days (HLHT_INDICATOR_LOOKBACK_DAYS).
    frozen = timezone.localdate(now) >= following + timedelta(days=conf().indicators.lookback_days)
    codes = [criterion["code"] for criterion in scheme.criteria]
    rows = Indicator.objects.filter(
        period=Period.QUARTER, start=quarter, level=Level.STATION, code__in=[*codes, "UTIL_E", "AVAIL"]
    ).values_list("station_id", "code", "value", "numerator")
    values: dict[int, dict[str, Any]] = {}
    energy: dict[int, float] = {}
    for station_pk, code, value, numerator in rows:
        values.setdefault(station_pk, {})[code] = value
        if code == "UTIL_E":
            energy[station_pk] = numerator
    stations = Station.objects.filter(pk__in=list(values)).values_list("pk", "operator_id", "station_type",
                                                                        "operator__status")  # fmt: skip
    kw = dict(
        Connector.objects.filter(station_id__in=list(values)).values("station_id").annotate(kw=Sum("power"))
        .values_list("station_id", "kw")
    )  # fmt: skip
    days = (following - quarter).days
    year_days = (date(quarter.year + 1, 1, 1) - date(quarter.year, 1, 1)).days
    cards: dict[int, dict[str, Any]] = {}
    for pk, operator_id, station_type, operator_status in stations:
        reasons = []
        if station_type != StationType.PUBLIC:
            reasons.append("非公共充电站")
        if operator_status != OperatorStatus.ACTIVE:
            reasons.append("运营商未正式接入")
        for code in codes:
            if values[pk].get(code) is None:
                reasons.append(f"缺少指标 {code}")
        cap = float(kw.get(pk) or 0) * scheme.cap_kwh_per_kw_year * days / year_days
        cards[pk] = {"operator_id": operator_id, "reasons": reasons, "energy": energy.get(pk, 0.0), "cap": cap,
                     "values": {code: values[pk].get(code) for code in codes}}  # fmt: skip
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
    existing.delete()
    Scorecard.objects.bulk_create([
        Scorecard(
            scheme=scheme, quarter=quarter, operator_id=card["operator_id"], station_id=pk,
            eligible=pk in totals, reasons=card["reasons"], values=card["values"], scores=scores.get(pk, {}),
            total=totals.get(pk), rank=ranks.get(pk), grade=grades.get(pk, ""), energy_kwh=round(card["energy"], 3),
            cap_kwh=round(card["cap"], 3),
            reward_yuan=(Decimal(str(scheme.rates.get(grades.get(pk, ""), "0")))
                         * Decimal(str(min(card["energy"], card["cap"])))).quantize(Decimal("0.01"), ROUND_HALF_UP)
            if pk in totals else Decimal(0),
            frozen=frozen,
        )
        for pk, card in cards.items()
    ])  # fmt: skip
    return len(cards)


def scorecards_refresh(*, today: date | None = None) -> int:
    """The nightly refresh: the current quarter live, and the one before it until it is frozen."""
    today = today or timezone.localdate()
    current = period_start(Period.QUARTER, today)
    previous = period_start(Period.QUARTER, current - timedelta(days=1))
    return scorecards_compute(previous) + scorecards_compute(current)
