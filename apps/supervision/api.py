"""What supervision adds to the REST API: each operator's health on /api/operators/, and the `stale` filter."""

import django_filters
from rest_framework import serializers

from apps.operators.api.filtersets import OperatorFilterSet
from apps.operators.api.serializers import OperatorSerializer
from apps.operators.api.viewsets import OperatorViewSet

from .health import with_health


class HealthSerializer(serializers.Serializer):
    """Whether the operator's data keeps arriving (the admin's 数据状态); keys in the API's CamelCase style."""

    IsStale = serializers.BooleanField(source="is_stale", help_text="在运营的运营商超过 HLHT_STALE_MINUTES 没有新状态")
    LastStatusData = serializers.DateTimeField(source="last_status_data", allow_null=True, help_text="最近的接口状态")
    LastPush = serializers.DateTimeField(source="last_push", allow_null=True, help_text="最近成功的状态推送")
    LastStationsInfoPull = serializers.DateTimeField(source="last_query_stations_info", allow_null=True)
    LastStationStatusPull = serializers.DateTimeField(source="last_query_station_status", allow_null=True)
    LastStationStatsPull = serializers.DateTimeField(source="last_query_station_stats", allow_null=True)
    StaleConnectorCount = serializers.IntegerField(
        source="stale_connector_count", help_text="状态过期或从未上报的接口数"
    )


class OperatorHealthSerializer(OperatorSerializer):
    """OperatorInfo 运营商信息, with the portal's kind and lifecycle status, and whether its data keeps arriving."""

    health = HealthSerializer(source="*", read_only=True)

    class Meta(OperatorSerializer.Meta):
        fields = [*OperatorSerializer.Meta.fields[:-1], "health", "updated"]


class OperatorHealthFilterSet(OperatorFilterSet):
    stale = django_filters.BooleanFilter(field_name="is_stale", label="数据停滞")

    class Meta(OperatorFilterSet.Meta):
        pass


class OperatorHealthViewSet(OperatorViewSet):
    """Connected platforms (OperatorInfo) and their health. An account manager sees only their own operator."""

    serializer_class = OperatorHealthSerializer
    filterset_class = OperatorHealthFilterSet

    def get_queryset(self):
        return with_health(super().get_queryset())
