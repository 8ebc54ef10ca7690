"""GET /api/indicators/: indicator rows by code, level, period, start, operator, station, connector, district."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import OpenApiTypes, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.core.api import ScopedReadOnlyViewSet
from apps.operators.api.filtersets import operator_filter
from apps.stations.api.filtersets import district_filter, station_filter

from .codes import CODES
from .models import Indicator, Level, Period
from .selectors import indicator_trace


class IndicatorSerializer(serializers.ModelSerializer):
    """One figure: value = numerator ÷ denominator (× 100 for a percentage; null when the denominator is 0)."""

    class Meta:
        model = Indicator
        fields = ["id", "code", "level", "target", "period", "start", "value", "numerator", "denominator", "details"]
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
        fields = []


class IndicatorViewSet(ScopedReadOnlyViewSet):
    """Indicator rows (spec indicators.md): a regulator sees every operator's and the districts' and city's; an
    operator's manager their own operator's rows."""

    model = Indicator
    serializer_class = IndicatorSerializer
    filterset_class = IndicatorFilterSet
    ordering = ("-start", "code", "level", "target")

    @extend_schema(responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["get"])
    def trace(self, request, pk=None):
        """The rows behind one value: each connector's status timeline of that day, the orders behind it."""
        return Response(indicator_trace(self.get_object()))
