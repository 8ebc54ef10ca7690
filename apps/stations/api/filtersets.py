"""Query filters of the directory endpoints; a value that cannot be right is a 400 naming the filter."""

import django_filters

from apps.core.api import StrictBooleanFilter, StrictIsoDateTimeFilter, updated_since_filter
from apps.core.validators import area_code_validator
from apps.interconnect.api.filtersets import created_since_filter, run_filter
from apps.operators.api.filtersets import operator_filter
from apps.stations import choices as sc
from apps.stations.models import Connector, ConnectorStatusHistory, DirectoryChange, Equipment, Station, StationStats
from apps.stations.selectors import connector_keys

STATION_ID_LABEL = "充电站ID（StationID，运营商内唯一，配合 operator 使用可唯一确定）"


def district_filter(field_name: str) -> django_filters.CharFilter:
    return django_filters.CharFilter(
        field_name=field_name, validators=[area_code_validator], label="行政区划代码（AreaCode，6位，如 110105）"
    )


def station_filter(field_name: str) -> django_filters.CharFilter:
    return django_filters.CharFilter(field_name=field_name, max_length=20, label=STATION_ID_LABEL)


def power_filters(field_name: str = "power") -> tuple[django_filters.NumberFilter, django_filters.NumberFilter]:
    return (
        django_filters.NumberFilter(field_name=field_name, lookup_expr="gte", min_value=0, label="功率不低于（kW）"),
        django_filters.NumberFilter(field_name=field_name, lookup_expr="lte", min_value=0, label="功率不高于（kW）"),
    )


class StationFilterSet(django_filters.FilterSet):
    district = district_filter("area_code")
    area_code = district_filter("area_code")
    operator = operator_filter()
    station_status = django_filters.ChoiceFilter(choices=sc.StationStatus.choices, label="站点状态（StationStatus）")
    station_type = django_filters.ChoiceFilter(choices=sc.StationType.choices, label="站点类型（StationType）")
    construction = django_filters.ChoiceFilter(choices=sc.Construction.choices, label="建设场所（Construction）")
    updated_since = updated_since_filter()
    removed = StrictBooleanFilter(method="filter_removed", label="已下线（true）或在线（false）")

    class Meta:
        model = Station
        fields = []

    def filter_removed(self, queryset, name: str, value: bool):
        return queryset.filter(removed_at__isnull=not value)


class EquipmentFilterSet(django_filters.FilterSet):
    operator = operator_filter()
    station = station_filter("station__station_id")
    equipment_type = django_filters.ChoiceFilter(choices=sc.EquipmentType.choices, label="设备类型（EquipmentType）")
    power_min, power_max = power_filters()
    updated_since = updated_since_filter()

    class Meta:
        model = Equipment
        fields = []


class ConnectorFilterSet(django_filters.FilterSet):
    operator = operator_filter()
    station = station_filter("station__station_id")
    equipment = django_filters.CharFilter(field_name="equipment__equipment_id", max_length=23, label="设备编码")
    district = district_filter("station__area_code")
    status = django_filters.ChoiceFilter(
        field_name="current_status__status", choices=sc.ConnectorStatus.choices, label="当前接口状态（Status）"
    )
    connector_type = django_filters.ChoiceFilter(choices=sc.ConnectorType.choices, label="接口类型（ConnectorType）")
    national_standard = django_filters.ChoiceFilter(
        choices=sc.NationalStandard.choices, label="国家标准（NationalStandard）"
    )
    power_min, power_max = power_filters()
    updated_since = updated_since_filter()

    class Meta:
        model = Connector
        fields = []


class ConnectorStatusHistoryFilterSet(django_filters.FilterSet):
    operator = operator_filter("connector__operator")
    station = station_filter("connector__station__station_id")
    connector = django_filters.CharFilter(
        method="filter_connector", max_length=26, label="充电设备接口编码（ConnectorID）"
    )
    status = django_filters.ChoiceFilter(choices=sc.ConnectorStatus.choices, label="接口状态（Status）")
    source = django_filters.ChoiceFilter(choices=sc.StatusSource.choices, label="来源")
    since = StrictIsoDateTimeFilter(field_name="status_time", lookup_expr="gte", label="状态时间不早于")
    until = StrictIsoDateTimeFilter(field_name="status_time", lookup_expr="lte", label="状态时间不晚于")

    def filter_connector(self, queryset, name, value):
        # By key, not by a join on ConnectorID (see selectors.connector_keys): millions of rows.
        return queryset.filter(connector_id__in=connector_keys(value))

    class Meta:
        model = ConnectorStatusHistory
        fields = []


class StationStatsFilterSet(django_filters.FilterSet):
    operator = operator_filter("station__operator")
    station = station_filter("station__station_id")
    # A period is kept when it overlaps [since, until], so a month's query finds the days inside it.
    since = django_filters.DateFilter(field_name="end_time", lookup_expr="gte", label="统计期结束不早于（yyyy-MM-dd）")
    until = django_filters.DateFilter(
        field_name="start_time", lookup_expr="lte", label="统计期开始不晚于（yyyy-MM-dd）"
    )

    class Meta:
        model = StationStats
        fields = []


# DirectoryChange.kind is free text in the model; these are the values the pulls write.
CHANGE_KINDS = [("station", "充电站"), ("equipment", "充电设备"), ("connector", "充电接口")]


class DirectoryChangeFilterSet(django_filters.FilterSet):
    operator = operator_filter()
    station = django_filters.CharFilter(field_name="station_id", max_length=20, label="充电站ID（StationID）")
    kind = django_filters.ChoiceFilter(choices=CHANGE_KINDS, label="对象")
    action = django_filters.ChoiceFilter(choices=sc.ChangeAction.choices, label="变化")
    run = run_filter()
    since = created_since_filter()

    class Meta:
        model = DirectoryChange
        fields = []
