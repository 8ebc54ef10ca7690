"""Query filters of the policy endpoint."""

import django_filters

from apps.core.api import StrictIsoDateTimeFilter
from apps.operators.api.filtersets import operator_filter
from apps.pricing.models import BusinessPolicy


class BusinessPolicyFilterSet(django_filters.FilterSet):
    operator = operator_filter()
    connector = django_filters.CharFilter(field_name="connector__connector_id", max_length=26, label="充电设备接口编码")
    in_force_at = StrictIsoDateTimeFilter(
        field_name="effective_from",
        lookup_expr="lte",
        label="在此时刻之前生效的版本（与 connector 一起用，最新的在最前）",
    )

    class Meta:
        model = BusinessPolicy
        fields = []
