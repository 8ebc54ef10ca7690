"""Reads for the indicator pages: the explorer (a map by district, a trend, a ranking), an operator's figures against
the city's with their data-quality inbox, and the scorecard pages — each value in the user's scope (for_user).

One deliberate exception: the city's own row (level `city`) is read for everyone, an operator's manager included, so
they can see their figures against the city's; it is a sum over all operators and names none of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import Count, F, Max, Q, Sum
from django.urls import reverse

from apps.core.roles import scope_of
from apps.protocol.beijing import DISTRICTS

from .codes import CITY_CODE, CODES, LOWER_IS_BETTER
from .models import AnnualAssessment, Indicator, Level, Period, Scorecard
from .scorecard import GRADES
from .services import _MAXED, period_start

EXPLORER_CODES = [code for code in CODES if code != "DQ_RULE"]  # a rule's rows are per operator: the inbox shows them
RANKING_LEVELS = [Level.OPERATOR, Level.STATION, Level.CONNECTOR, Level.DISTRICT]
RANKING_ROWS = 50
TREND_PERIODS = 12
PANEL_CODES = ["AVAIL", "UPTIME", "UTIL_T", "T_ORDER", "T_BONUS", "T_STATUS", "T_START", "T_STOP", "T_CHARGING",
               "T_RECON", "PRICE_AVG", "TARIFF_MISMATCH", "TARIFF_DRIFT", "DQ"]  # fmt: skip
INBOX_DAYS = 7
INBOX_ROWS = 20


def trace_url(pk: int) -> str:
    return reverse("admin:indicators_indicatorexplorer_trace", args=[pk])


def _label(level: str, target: str) -> str:
    if level == Level.DISTRICT:
        return DISTRICTS[target].name if target in DISTRICTS else target
    if level == Level.CITY:
        return "全市"
    return target


@dataclass
class Choice:
    code: str
    level: str
    period: str
    start: date | None
    operator_id: str | None = None  # a regulator's chosen operator; a manager's own, always
    starts: list[date] = field(default_factory=list)


def explorer_choice(user: Any, params: dict[str, str]) -> Choice:
    """The figure the explorer shows from its query string, each part checked against what exists; the start
    defaults to the latest period with a figure in the user's scope."""
    code = params.get("code") or ""
    code = code if code in EXPLORER_CODES else "AVAIL"
    level = params.get("level") or ""
    level = level if level in RANKING_LEVELS else Level.OPERATOR
    period = params.get("period") or ""
    period = period if period in Period.values else Period.DAY
    scope = scope_of(user)
    operator_id = scope.operator_id if not scope.city else (params.get("operator") or None)
    # The starts the city row has (regulators) or the manager's operator row has: the index (code, level, period).
    base = Indicator.objects.filter(code=code, period=period)
    if scope.city:
        base = base.filter(level=Level.CITY)
    else:
        base = Indicator.objects.for_user(user).filter(code=code, period=period, level=Level.OPERATOR)
    starts = list(base.order_by("-start").values_list("start", flat=True).distinct()[:60])
    start = None
    try:
        wanted = date.fromisoformat(params.get("start", ""))
        start = period_start(period, wanted)
    except ValueError:
        pass
    if start is None and starts:
        start = starts[0]
    return Choice(code, level, period, start, operator_id, starts)


def _value(code: str, numerator: float, denominator: float) -> float | None:
    return CODES[code].value(numerator, denominator)


def explorer(user: Any, choice: Choice) -> dict[str, Any]:
    """The map (a value per district), the trend (the city's and the operator's over the last periods) and the
    ranking (the chosen level's rows in scope, best first), each value with its trace's link."""
    code, scope = choice.code, scope_of(user)
    rows = Indicator.objects.for_user(user).filter(code=code, period=choice.period)
    city_rows = Indicator.objects.filter(code=code, period=choice.period, level=Level.CITY, target=CITY_CODE)
    result: dict[str, Any] = {"map": [], "trend": {"starts": [], "series": []}, "ranking": [], "city": None}
    if choice.start is None:
        return result
    # Map: a regulator reads the district rows; a manager their own stations summed per district (the aggregation
    # rule: Σ numerators ÷ Σ denominators, the peaks' maximum).
    if scope.city and not choice.operator_id:
        for pk, area, value in rows.filter(level=Level.DISTRICT, start=choice.start).values_list(
            "pk", "target", "value"
        ):
            result["map"].append({"name": _label(Level.DISTRICT, area), "value": value, "area": area,
                                  "trace": trace_url(pk)})  # fmt: skip
    else:
        own = rows.filter(level=Level.STATION, start=choice.start)
        if choice.operator_id:
            own = own.filter(operator_id=choice.operator_id)
        total = Max if code in _MAXED else Sum
        sums = own.values("area_code").annotate(n=total("numerator"), d=total("denominator"))
        for row in sums.order_by("area_code"):
            result["map"].append({"name": _label(Level.DISTRICT, row["area_code"]), "area": row["area_code"],
                                  "value": _value(code, row["n"], row["d"]), "trace": None})  # fmt: skip
    # Trend: the city's row over the last periods, and the operator's beside it.
    starts = sorted(s for s in choice.starts if s <= choice.start)[-TREND_PERIODS:] if choice.starts else []
    if choice.start not in starts:
        starts = sorted([*starts, choice.start])[-TREND_PERIODS:]
    result["trend"]["starts"] = [s.isoformat() for s in starts]
    city_points = {s: (pk, v) for pk, s, v in city_rows.filter(start__in=starts).values_list("pk", "start", "value")}
    result["trend"]["series"].append({
        "name": "全市", "data": [city_points.get(s, (None, None))[1] for s in starts],
        "traces": [trace_url(city_points[s][0]) if s in city_points and scope.city else None for s in starts],
    })  # fmt: skip
    if choice.operator_id:
        points = {
            s: (pk, v)
            for pk, s, v in rows.filter(level=Level.OPERATOR, target=choice.operator_id, start__in=starts).values_list(
                "pk", "start", "value"
            )
        }
        result["trend"]["series"].append({
            "name": choice.operator_id, "data": [points.get(s, (None, None))[1] for s in starts],
            "traces": [trace_url(points[s][0]) if s in points else None for s in starts],
        })  # fmt: skip
    result["city"] = city_points.get(choice.start, (None, None))[1]
    # Ranking: the chosen level's rows, best first (nulls last), with the station's and operator's names.
    ranked = rows.filter(level=choice.level, start=choice.start).select_related("station", "operator")
    if choice.operator_id:
        ranked = ranked.filter(operator_id=choice.operator_id)
    order = F("value").asc(nulls_last=True) if code in LOWER_IS_BETTER else F("value").desc(nulls_last=True)
    for position, row in enumerate(ranked.order_by(order, "target")[:RANKING_ROWS], start=1):
        operator, _, key = row.target.rpartition(":")  # station and connector targets carry their OperatorID
        result["ranking"].append({
            "position": position, "target": key if operator else _label(row.level, row.target),
            "operator": operator,
            "name": row.station.station_name if row.station else (row.operator.operator_name if row.operator else ""),
            "value": row.value, "numerator": row.numerator, "denominator": row.denominator, "trace": trace_url(row.pk),
        })  # fmt: skip
    return result


def operator_figures(user: Any, operator_id: str) -> dict[str, Any]:
    """An operator's figures of its latest month against the city's, and its data-quality inbox: the rules that
    failed in its last days, with their samples."""
    mine = Indicator.objects.for_user(user).filter(operator_id=operator_id)
    latest = mine.filter(level=Level.OPERATOR, period=Period.MONTH).aggregate(m=Max("start"))["m"]
    figures = []
    if latest is not None:
        own = {c: (pk, v, n, d) for pk, c, v, n, d in mine.filter(
            level=Level.OPERATOR, period=Period.MONTH, start=latest, code__in=PANEL_CODES
        ).values_list("pk", "code", "value", "numerator", "denominator")}  # fmt: skip
        city = dict(Indicator.objects.filter(
            level=Level.CITY, period=Period.MONTH, start=latest, code__in=PANEL_CODES
        ).values_list("code", "value"))  # fmt: skip
        for code in PANEL_CODES:
            pk, value, numerator, denominator = own.get(code, (None, None, None, None))
            figures.append({"code": code, "name": CODES[code].name, "unit": CODES[code].unit, "value": value,
                            "numerator": numerator, "denominator": denominator, "city": city.get(code),
                            "trace": trace_url(pk) if pk else None})  # fmt: skip
    last_day = mine.filter(period=Period.DAY, code="DQ_RULE").aggregate(d=Max("start"))["d"]
    inbox = []
    if last_day is not None:
        failing = mine.filter(period=Period.DAY, code="DQ_RULE", numerator__gt=0,
                              start__gt=last_day.fromordinal(last_day.toordinal() - INBOX_DAYS))  # fmt: skip
        for row in failing.order_by("-start", "-numerator")[:INBOX_ROWS]:
            details = row.details or {}
            inbox.append({"day": row.start, "rule": details.get("rule", row.target.partition(":")[2]),
                          "interface": details.get("interface", ""), "severity": details.get("severity", ""),
                          "failing": row.numerator, "checked": row.denominator, "value": row.value,
                          "samples": details.get("samples", [])[:5], "trace": trace_url(row.pk)})  # fmt: skip
    return {"month": latest, "figures": figures, "inbox": inbox,
            "explorer": reverse("admin:indicators_indicatorexplorer_changelist")}  # fmt: skip


# -- the scorecard pages ----------------------------------------------------------------------------------------------


def grade_distribution(queryset) -> dict[str, int]:
    """Eligible cards per grade, and those not eligible (one query)."""
    counts = queryset.aggregate(
        **{grade: Count("pk", filter=Q(eligible=True, grade=grade)) for grade in GRADES},
        ineligible=Count("pk", filter=Q(eligible=False)),
    )
    return {**{grade: counts[grade] for grade in GRADES}, "不参与": counts["ineligible"]}


def scorecards_of(user: Any, quarter: date, scheme_id: int | None):
    cards = Scorecard.objects.for_user(user).filter(quarter=quarter)
    if scheme_id:
        cards = cards.filter(scheme_id=scheme_id)
    return cards.select_related("station", "operator", "scheme").order_by(F("rank").asc(nulls_last=True), "station_id")


def assessments_of(user: Any, year: int, scheme_id: int | None):
    rows = AnnualAssessment.objects.for_user(user).filter(year=year)
    if scheme_id:
        rows = rows.filter(scheme_id=scheme_id)
    return rows.select_related("station", "operator", "scheme").order_by(F("rank").asc(nulls_last=True), "station_id")


def card_sources(card: Scorecard) -> dict[str, int]:
    """The station's quarter rows each criterion (and the energy) was read from: code → Indicator pk."""
    codes = [c["code"] for c in card.scheme.criteria]
    return dict(
        Indicator.objects.filter(
            period=Period.QUARTER, start=card.quarter, level=Level.STATION, station_id=card.station_id,
            code__in=[*codes, "UTIL_E"],
        ).values_list("code", "pk")
    )  # fmt: skip
