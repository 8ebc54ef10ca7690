"""Query filters of the settlement endpoints."""

import django_filters

from apps.operators.api.filtersets import operator_filter
from apps.settlement.choices import DisputeReasonChoices, DisputeState
from apps.settlement.models import Dispute, ReconciliationRun


class ReconciliationRunFilterSet(django_filters.FilterSet):
    operator = operator_filter()
    day = django_filters.DateFilter(field_name="start_time", lookup_expr="date", label="账单开始日期")

    class Meta:
        model = ReconciliationRun
        fields = []


class DisputeFilterSet(django_filters.FilterSet):
    operator = operator_filter()
    state = django_filters.ChoiceFilter(choices=DisputeState.choices, label="处理状态")
    reason = django_filters.ChoiceFilter(choices=DisputeReasonChoices.choices, label="争议原因")
    run = django_filters.NumberFilter(field_name="run_id", min_value=1, label="对账记录 id")

    class Meta:
        model = Dispute
        fields = []
