"""GET /api/indicators/: indicator rows by code, level, period, start, operator, station, connector, district."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import OpenApiTypes, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.core.api import ScopedReadOnlyViewSet
from apps.core.roles import scope_of
from apps.operators.api.filtersets import operator_filter
from apps.stations.api.filtersets import district_filter, station_filter

from .codes import CODES
from .models import AnnualAssessment, Indicator, Level, Period, Scorecard
from .scorecard import quarter_of
from .selectors import indicator_trace
from .services import NARROWING_FILTERS, NARROWING_NEEDED, connector_periods_ensure, connector_periods_need_narrowing


class IndicatorSerializer(serializers.ModelSerializer):
    """One figure: value = numerator ÷ denominator (× 100 for a percentage; null when the denominator is 0)."""

    class Meta:
        model = Indicator
        fields: list[str] = [
            "id",
            "code",
            "level",
            "target",
            "period",
            "start",
            "value",
            "numerator",
            "denominator",
            "details",
        ]
        read_only_fields = fields


class IndicatorFilterSet(django_filters.FilterSet):
    code = django_filters.ChoiceFilter(choices=[(c, f"{c} {m.name}") for c, m in CODES.items()], label="指标代码")
    level = django_filters.ChoiceFilter(choices=Level.choices, label="层级")
    period = django_filters.ChoiceFilter(choices=Period.choices, label="周期")
    start = django_filters.DateFilter(field_name="start", label="周期开始日期（YYYY-MM-DD）")
    start_after = django_filters.DateFilter(field_name="start", lookup_expr="gte", label="开始日期不早于")
    start_before = django_filters.DateFilter(field_name="start", lookup_expr="lte", label="开始日期不晚于")
    operator = operator_filter()
    station = station_filter("station__station_id")
    connector = django_filters.CharFilter(field_name="connector__connector_id", max_length=26, label="充电接口编码")
    district = district_filter("area_code")

    class Meta:
        model = Indicator
        fields: list[str] = []


class IndicatorViewSet(ScopedReadOnlyViewSet):
    """Indicator rows (spec indicators.md): a regulator sees every operator's and the districts' and city's; an
    operator's manager their own operator's rows."""

    model = Indicator
    serializer_class = IndicatorSerializer
    filterset_class = IndicatorFilterSet
    ordering = ("-start", "code", "level", "target")

    def filter_queryset(self, queryset):
        if self.action == "list":
            self._connector_periods(queryset)
        return super().filter_queryset(queryset)

    def _connector_periods(self, queryset) -> None:
        """Connector rows of a week, month or quarter are summed when first asked for (services: ON_REQUEST): a
        list naming such a period and the connector level (or a connector) sums the missing ones of its starts
        (those the period has rows for) within its other filters, before they are read."""
        params = self.request.query_params
        period = params.get("period")
        if period not in (Period.WEEK, Period.MONTH, Period.QUARTER):
            return
        if params.get("level") not in (Level.CONNECTOR, None) or not (params.get("level") or params.get("connector")):
            return
        narrowed = any(params.get(name) for name in NARROWING_FILTERS)
        if connector_periods_need_narrowing(period, scope_of(self.request.user).city, narrowed):
            raise serializers.ValidationError({"operator": [NARROWING_NEEDED]})
        when_names = ("period", "start", "start_after", "start_before")
        scope_names = ("code", "operator", "station", "connector", "district")
        when = IndicatorFilterSet(
            {name: params[name] for name in when_names if name in params},
            queryset=Indicator.objects.filter(level=Level.CITY),
            request=self.request,
        )
        # The request goes with the data: the operator filter's choices are the person's scope.
        scope = IndicatorFilterSet(
            {name: params[name] for name in scope_names if name in params}, queryset=queryset, request=self.request
        )
        if when.is_valid() and scope.is_valid():
            starts = when.qs.order_by().values_list("start", flat=True).distinct()
            connector_periods_ensure(period, list(starts), scope.qs)

    @extend_schema(responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["get"])
    def trace(self, request, pk=None):
        """The rows behind one value: each connector's status timeline of that day, the orders behind it."""
        return Response(indicator_trace(self.get_object()))


class ScorecardSerializer(serializers.ModelSerializer):
    """One station's quarter: eligibility and why not, each criterion's raw value and score, total, rank, grade,
    energy, the energy cap and the reward in yuan."""

    OperatorID = serializers.CharField(source="operator_id")
    StationID = serializers.CharField(source="station.station_id")
    StationName = serializers.CharField(source="station.station_name")
    scheme = serializers.CharField(source="scheme.name")
    reward_yuan = serializers.DecimalField(max_digits=14, decimal_places=2, coerce_to_string=False)

    class Meta:
        model = Scorecard
        fields: list[str] = [
            "OperatorID", "StationID", "StationName", "scheme", "quarter", "eligible", "reasons", "values", "scores",
            "total", "rank", "grade", "energy_kwh", "cap_kwh", "reward_yuan", "frozen",
        ]  # fmt: skip
        read_only_fields = fields


class ScorecardFilterSet(django_filters.FilterSet):
    quarter = django_filters.CharFilter(method="filter_quarter", label="季度（如 2026Q4）")
    operator = operator_filter()
    station = station_filter("station__station_id")
    grade = django_filters.ChoiceFilter(choices=[(g, g) for g in "ABCD"], label="等级")

    class Meta:
        model = Scorecard
        fields: list[str] = []

    def filter_quarter(self, queryset, name, value):
        try:
            return queryset.filter(quarter=quarter_of(value))
        except ValueError as exc:
            raise serializers.ValidationError({"quarter": [str(exc)]}) from None


class ScorecardViewSet(ScopedReadOnlyViewSet):
    """Beijing's operation-reward scorecard per station and quarter (an operator's manager: their own stations)."""

    model = Scorecard
    serializer_class = ScorecardSerializer
    filterset_class = ScorecardFilterSet
    select_related = ("station", "scheme")
    ordering = ("-quarter", "rank", "station_id")


class AnnualAssessmentSerializer(serializers.ModelSerializer):
    """One station's year under the annual assessment: eligibility and why not, each criterion's raw value and
    score, total, rank, grade, rated power and the reward in yuan."""

    OperatorID = serializers.CharField(source="operator_id")
    StationID = serializers.CharField(source="station.station_id")
    StationName = serializers.CharField(source="station.station_name")
    scheme = serializers.CharField(source="scheme.name")
    reward_yuan = serializers.DecimalField(max_digits=14, decimal_places=2, coerce_to_string=False)

    class Meta:
        model = AnnualAssessment
        fields: list[str] = [
            "OperatorID", "StationID", "StationName", "scheme", "year", "eligible", "reasons", "values", "scores",
            "total", "rank", "grade", "rated_kw", "reward_yuan", "frozen",
        ]  # fmt: skip
        read_only_fields = fields


class AnnualAssessmentFilterSet(django_filters.FilterSet):
    year = django_filters.NumberFilter(field_name="year", label="年度（如 2026）")
    operator = operator_filter()
    station = station_filter("station__station_id")
    grade = django_filters.ChoiceFilter(choices=[(g, g) for g in "ABCD"], label="等级")

    class Meta:
        model = AnnualAssessment
        fields: list[str] = []


class AnnualAssessmentViewSet(ScopedReadOnlyViewSet):
    """Beijing's annual assessment per station and year (an operator's manager: their own stations)."""

    model = AnnualAssessment
    serializer_class = AnnualAssessmentSerializer
    filterset_class = AnnualAssessmentFilterSet
    select_related = ("station", "scheme")
    ordering = ("-year", "rank", "station_id")
