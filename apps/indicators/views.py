"""The indicator pages in the admin (thin: the reads are apps.indicators.explorer's): the explorer, a value's trace,
the quarter's scorecard with the annual assessment beside it, a station's sheet and the published export."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.safestring import mark_safe

from apps.core.roles import scope_of
from apps.operators.models import Operator

from .annual import ANNUAL_CODES
from .codes import CODES, LOWER_IS_BETTER
from .explorer import (
    EXPLORER_CODES,
    RANKING_LEVELS,
    assessments_of,
    card_sources,
    explorer,
    explorer_choice,
    grade_distribution,
    operator_figures,
    scorecards_of,
    trace_url,
)
from .models import AnnualAssessment, AnnualScheme, Indicator, Level, Period, RewardScheme, Scorecard
from .resources import AnnualAssessmentResource, ScorecardResource
from .scorecard import quarter_of
from .selectors import indicator_trace
from .services import NARROWING_NEEDED, connector_periods_ensure, connector_periods_need_narrowing

PAGE_ROWS = 100


def _context(model_admin, request, title: str, **extra: Any) -> dict[str, Any]:
    return {**model_admin.admin_site.each_context(request), "opts": model_admin.model._meta, "title": title, **extra}


def explorer_view(model_admin, request):
    choice = explorer_choice(request.user, request.GET)
    scope = scope_of(request.user)
    needs_operator = choice.level == Level.CONNECTOR and connector_periods_need_narrowing(
        choice.period, scope.city, bool(choice.operator_id)
    )
    if choice.level == Level.CONNECTOR and choice.start is not None and not needs_operator:
        # A connector ranking of a week, month or quarter: its rows are summed when first asked for.
        day_rows = Indicator.objects.for_user(request.user).filter(code=choice.code)
        if choice.operator_id:
            day_rows = day_rows.filter(operator_id=choice.operator_id)
        connector_periods_ensure(choice.period, [choice.start], day_rows)
    data = explorer(request.user, choice)
    narrowing = NARROWING_NEEDED if needs_operator else None
    context = _context(
        model_admin, request, "指标浏览",
        choice=choice, data=data, code=CODES[choice.code],
        codes=[(c, CODES[c].name) for c in EXPLORER_CODES], levels=[(lv, Level(lv).label) for lv in RANKING_LEVELS],
        periods=Period.choices, city_scope=scope.city, needs_operator=narrowing,
        period_label=Period(choice.period).label,
        lower_better=choice.code in LOWER_IS_BETTER,
        operators=list(Operator.objects.for_user(request.user).values_list("operator_id", "operator_name"))
        if scope.city else [],
        chart={"code": choice.code, "unit": CODES[choice.code].unit, "name": CODES[choice.code].name,
               "map": data["map"], "trend": data["trend"], "city": data["city"]},
    )  # fmt: skip
    return TemplateResponse(request, "admin/indicators/explorer.html", context)


def trace_view(model_admin, request, pk: int):
    indicator = Indicator.objects.for_user(request.user).filter(pk=pk).first()
    if indicator is None:
        raise Http404
    trace = indicator_trace(indicator)
    context = _context(model_admin, request, f"{indicator.code} {CODES[indicator.code].name} · 来源数据",
                       indicator=indicator, code=CODES[indicator.code], trace=trace)  # fmt: skip
    return TemplateResponse(request, "admin/indicators/trace.html", context)


def _quarter_text(quarter: date) -> str:
    return f"{quarter.year}Q{(quarter.month - 1) // 3 + 1}"


def board_view(model_admin, request):
    """The quarter's scorecard (tab `quarter`) or the year's annual assessment (tab `annual`)."""
    user, tab = request.user, request.GET.get("tab", "quarter")
    scheme_id = int(request.GET["scheme"]) if request.GET.get("scheme", "").isdigit() else None
    if tab == "annual":
        years = list(AnnualAssessment.objects.for_user(user).order_by("-year").values_list("year", flat=True)
                     .distinct()[:10])  # fmt: skip
        wanted = request.GET.get("year", "")
        year = int(wanted) if wanted.isdigit() else (years[0] if years else timezone.localdate().year)
        rows = assessments_of(user, year, scheme_id)
        schemes: list[AnnualScheme] | list[RewardScheme] = list(
            AnnualScheme.objects.filter(assessments__year=year).distinct()
        )
        period_label, periods = str(year), [str(y) for y in years]
    else:
        quarters = list(Scorecard.objects.for_user(user).order_by("-quarter").values_list("quarter", flat=True)
                        .distinct()[:12])  # fmt: skip
        try:
            quarter = quarter_of(request.GET["quarter"]) if request.GET.get("quarter") else None
        except ValueError:
            quarter = None
        quarter = quarter or (quarters[0] if quarters else None)
        rows = scorecards_of(user, quarter, scheme_id) if quarter else Scorecard.objects.none()
        schemes = list(RewardScheme.objects.filter(scorecards__quarter=quarter).distinct()) if quarter else []
        period_label = _quarter_text(quarter) if quarter else ""
        periods = [_quarter_text(q) for q in quarters]
    scheme = next((s for s in schemes if s.pk == scheme_id), schemes[0] if schemes else None)
    if scheme is not None and scheme_id is None:
        rows = rows.filter(scheme=scheme)
    if request.GET.get("export") in ("csv", "xlsx"):
        return _export(user, rows, tab, period_label, request.GET["export"])
    distribution = grade_distribution(rows)
    page = Paginator(rows, PAGE_ROWS).get_page(request.GET.get("p"))
    criteria = [(c["code"], CODES[c["code"]].name if c["code"] in CODES else ANNUAL_CODES.get(c["code"], c["code"]))
                for c in (scheme.criteria if scheme else [])]  # fmt: skip
    for row in page.object_list:
        row.cells = [(row.values.get(code), row.scores.get(code)) for code, _ in criteria]
    context = _context(
        model_admin, request, "年度考核" if tab == "annual" else "季度运营考核",
        tab=tab, period_label=period_label, periods=periods, scheme=scheme, schemes=schemes, criteria=criteria,
        page=page, distribution=distribution,
        chart={"grades": list(distribution), "counts": list(distribution.values())},
        query=request.GET.urlencode(),
    )  # fmt: skip
    return TemplateResponse(request, "admin/indicators/scorecard.html", context)


def _export(user, rows, tab: str, period_label: str, fmt: str) -> HttpResponse:
    """The ranking as a city publishes it (CSV or Excel), under the export permission of the same rule."""
    model = AnnualAssessment if tab == "annual" else Scorecard
    rows = rows.filter(pk__in=model.objects.for_user(user, "export").values("pk"))
    resource = AnnualAssessmentResource() if tab == "annual" else ScorecardResource()
    dataset = resource.export(queryset=rows)
    name = f"{'annual' if tab == 'annual' else 'scorecard'}-{period_label}.{fmt}"
    if fmt == "csv":
        response = HttpResponse(("\ufeff" + dataset.csv).encode(), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(
            dataset.xlsx, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def sheet_view(model_admin, request, pk: int):
    """One station's quarter: each criterion's raw value, score and weight with the row it came from, the energy,
    the cap and the reward; its annual assessment of that year beside it."""
    card = (
        Scorecard.objects.for_user(request.user).select_related("station", "operator", "scheme").filter(pk=pk).first()
    )
    if card is None:
        raise Http404
    sources = card_sources(card)
    criteria = [{**c, "name": CODES[c["code"]].name if c["code"] in CODES else c["code"],
                 "unit": CODES[c["code"]].unit if c["code"] in CODES else "", "value": card.values.get(c["code"]),
                 "score": card.scores.get(c["code"]),
                 "trace": trace_url(sources[c["code"]]) if c["code"] in sources else None}
                for c in card.scheme.criteria]  # fmt: skip
    annual = (AnnualAssessment.objects.for_user(request.user).filter(station_id=card.station_id, year=card.quarter.year)
              .select_related("scheme").first())  # fmt: skip
    context = _context(
        model_admin, request, f"{card.station.station_name} · {_quarter_text(card.quarter)} 考核",
        card=card, criteria=criteria, energy_trace=trace_url(sources["UTIL_E"]) if "UTIL_E" in sources else None,
        rate=card.scheme.rates.get(card.grade, "0") if card.grade else "0", annual=annual,
        quarter_label=_quarter_text(card.quarter),
        annual_rows=[(code, ANNUAL_CODES.get(code, code), value, annual.scores.get(code))
                     for code, value in annual.values.items()] if annual else [],
    )  # fmt: skip
    return TemplateResponse(request, "admin/indicators/sheet.html", context)


def operator_panel(request, operator) -> str:
    """The operator page's and its manager's home's panel: their figures against the city's, their inbox."""
    figures = operator_figures(request.user, operator.pk)
    return mark_safe(render_to_string("admin/indicators/operator_panel.html", {"f": figures}, request=request))  # noqa: S308 (our template's output, escaped)
