"""Operators as the API shows them: the OperatorInfo wire fields plus the portal's kind and lifecycle status."""

from rest_framework import serializers

from apps.core.api import EnumField, WireModelSerializer
from apps.operators.choices import OperatorStatus
from apps.operators.models import Operator


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


class OperatorSerializer(WireModelSerializer):
    """OperatorInfo 运营商信息, with the portal's kind (operator or third-party platform) and lifecycle status."""

    status = EnumField(OperatorStatus, read_only=True)
    health = HealthSerializer(source="*", read_only=True)

    class Meta:
        model = Operator
        # Endpoint URLs, pull intervals and dialect flags are connection settings, not part of the record.
        fields = [
            "operator_id",
            "operator_name",
            "operator_tel1",
            "operator_tel2",
            "operator_reg_address",
            "operator_note",
            "kind",
            "status",
            "health",
            "updated",
        ]
