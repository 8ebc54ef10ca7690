"""Query filters of the sync-run endpoints."""

import django_filters

from apps.core.api import StrictBooleanFilter, StrictIsoDateTimeFilter
from apps.interconnect.choices import RunStatus
from apps.interconnect.models import RejectedRecord, SyncRun
from apps.operators.api.filtersets import operator_filter


def run_filter() -> django_filters.NumberFilter:
    return django_filters.NumberFilter(field_name="run_id", min_value=1, label="同步记录 id")


def created_since_filter() -> StrictIsoDateTimeFilter:
    return StrictIsoDateTimeFilter(field_name="created", lookup_expr="gte", label="时间不早于（ISO 8601）")


class SyncRunFilterSet(django_filters.FilterSet):
    operator = operator_filter()
    interface = django_filters.CharFilter(max_length=64, label="接口名（如 query_stations_info）")
    status = django_filters.ChoiceFilter(choices=RunStatus.choices, label="结果")
    full = StrictBooleanFilter(label="全量")
    started_since = StrictIsoDateTimeFilter(field_name="started", lookup_expr="gte", label="开始时间不早于（ISO 8601）")

    class Meta:
        model = SyncRun
        fields = []


class RejectedRecordFilterSet(django_filters.FilterSet):
    operator = operator_filter()
    interface = django_filters.CharFilter(max_length=64, label="接口名")
    run = run_filter()
    since = created_since_filter()

    class Meta:
        model = RejectedRecord
        fields = []
