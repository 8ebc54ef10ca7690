"""Query filters of the order endpoints."""

import django_filters

from apps.core.api import StrictBooleanFilter, StrictIsoDateTimeFilter
from apps.operators.api.filtersets import operator_filter
from apps.orders.choices import ChargeModel, FindingCategory
from apps.orders.models import ChargeOrder, OrderFinding
from apps.orders.selectors import station_matches


class ChargeOrderFilterSet(django_filters.FilterSet):
    operator = operator_filter()
    station = django_filters.CharFilter(method="filter_station", max_length=20, label="充电站ID")
    connector = django_filters.CharFilter(field_name="connector_code", max_length=26, label="充电设备接口编码")
    day = django_filters.DateFilter(field_name="end_time", lookup_expr="date", label="结束日期（北京时间）")
    ended_since = StrictIsoDateTimeFilter(field_name="end_time", lookup_expr="gte", label="结束时间不早于")
    ended_before = StrictIsoDateTimeFilter(field_name="end_time", lookup_expr="lt", label="结束时间早于")
    charge_model = django_filters.ChoiceFilter(choices=ChargeModel.choices, label="启动方式")
    disputed = StrictBooleanFilter(method="filter_disputed", label="争议交易（ConfirmResult 1）")

    class Meta:
        model = ChargeOrder
        fields = []

    def filter_station(self, queryset, name, value):
        return queryset.filter(station_matches(value))

    def filter_disputed(self, queryset, name, value):
        return queryset.filter(confirm_result=1) if value else queryset.exclude(confirm_result=1)


class OrderFindingFilterSet(django_filters.FilterSet):
    operator = operator_filter("order__operator")
    category = django_filters.ChoiceFilter(choices=FindingCategory.choices, label="类别")
    rule = django_filters.CharFilter(max_length=32, label="规则代码（如 money_sum）")
    disputes = StrictBooleanFilter(label="构成争议")
    order = django_filters.CharFilter(field_name="order__start_charge_seq", max_length=27, label="充电订单号")

    class Meta:
        model = OrderFinding
        fields = []
