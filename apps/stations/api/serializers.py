"""The directory in its T/CEC 102.2 wire names (StationInfo, EquipmentInfo, ConnectorInfo, StationStatsInfo)."""

from rest_framework import serializers

from apps.core.api import EnumField, WireModelSerializer
from apps.stations.choices import ConnectorStatus as ConnectorStatusChoices
from apps.stations.choices import LockStatus, ParkStatus
from apps.stations.directory import CONNECTOR_FIELDS, EQUIPMENT_FIELDS, STATION_FIELDS
from apps.stations.models import (
    Connector,
    ConnectorStats,
    ConnectorStatusHistory,
    DirectoryChange,
    Equipment,
    EquipmentStats,
    Station,
    StationStats,
)

CONNECTOR_INFO_FIELDS = ["connector_id", *CONNECTOR_FIELDS]
CURRENT_STATUS_FIELDS = ["status", "park_status", "lock_status", "status_time"]
EQUIPMENT_INFO_FIELDS = ["equipment_id", *EQUIPMENT_FIELDS]
STATUS_FIELDS = ["status", "park_status", "lock_status", "status_time", "source"]


class ConnectorInfoSerializer(WireModelSerializer):
    """ConnectorInfo with the newest known ConnectorStatusInfo; the status fields are null until one is reported."""

    status = EnumField(ConnectorStatusChoices, source="current_status.status", read_only=True, allow_null=True)
    park_status = EnumField(ParkStatus, source="current_status.park_status", read_only=True, allow_null=True)
    lock_status = EnumField(LockStatus, source="current_status.lock_status", read_only=True, allow_null=True)
    status_time = serializers.DateTimeField(source="current_status.status_time", read_only=True, allow_null=True)

    class Meta:
        model = Connector
        fields = [*CONNECTOR_INFO_FIELDS, *CURRENT_STATUS_FIELDS]


class ConnectorSerializer(ConnectorInfoSerializer):
    """A connector with where it is (OperatorID, StationID, EquipmentID) and its current status."""

    operator_id = serializers.CharField(read_only=True)
    station_id = serializers.CharField(source="station.station_id", read_only=True)
    equipment_id = serializers.CharField(source="equipment.equipment_id", read_only=True)

    class Meta(ConnectorInfoSerializer.Meta):
        fields = [
            "id",
            "operator_id",
            "station_id",
            "equipment_id",
            *CONNECTOR_INFO_FIELDS,
            *CURRENT_STATUS_FIELDS,
            "updated",
        ]


class EquipmentInfoSerializer(WireModelSerializer):
    """EquipmentInfo with its ConnectorInfos, as a station's detail nests them."""

    connector_infos = ConnectorInfoSerializer(many=True, read_only=True, source="connectors")

    class Meta:
        model = Equipment
        fields = [*EQUIPMENT_INFO_FIELDS, "connector_infos"]


class EquipmentSerializer(WireModelSerializer):
    """EquipmentInfo 充电设备信息 with the OperatorID and StationID it belongs to."""

    operator_id = serializers.CharField(read_only=True)
    station_id = serializers.CharField(source="station.station_id", read_only=True)

    class Meta:
        model = Equipment
        fields = ["id", "operator_id", "station_id", *EQUIPMENT_INFO_FIELDS, "updated"]


class StationSerializer(WireModelSerializer):
    """StationInfo 充电站信息; RemovedAt is set when the operator no longer lists the station."""

    operator_id = serializers.CharField(read_only=True)
    pictures = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Station
        fields = ["id", "operator_id", "station_id", *STATION_FIELDS, "removed_at", "updated"]


class StationDetailSerializer(StationSerializer):
    """A station with everything in it: EquipmentInfos, each with its ConnectorInfos and their current status."""

    equipment_infos = EquipmentInfoSerializer(many=True, read_only=True, source="equipment")

    class Meta(StationSerializer.Meta):
        fields = [*StationSerializer.Meta.fields, "equipment_infos"]


class ConnectorStatusHistorySerializer(WireModelSerializer):
    """A status a connector reported (ConnectorStatusInfo), when it held and how the portal learnt it."""

    status = EnumField(ConnectorStatusChoices, read_only=True)
    park_status = EnumField(ParkStatus, read_only=True, allow_null=True)
    lock_status = EnumField(LockStatus, read_only=True, allow_null=True)
    operator_id = serializers.CharField(source="connector.operator_id", read_only=True)
    station_id = serializers.CharField(source="connector.station.station_id", read_only=True)
    connector_id = serializers.CharField(source="connector.connector_id", read_only=True)

    class Meta:
        model = ConnectorStatusHistory
        fields = ["id", "operator_id", "station_id", "connector_id", *STATUS_FIELDS]


class ConnectorStatsInfoSerializer(WireModelSerializer):
    """ConnectorStatsInfo 充电设备接口统计信息."""

    connector_id = serializers.CharField(source="connector.connector_id", read_only=True)

    class Meta:
        model = ConnectorStats
        fields = ["connector_id", "connector_electricity"]


class EquipmentStatsInfoSerializer(WireModelSerializer):
    """EquipmentStatsInfo 充电设备统计信息."""

    equipment_id = serializers.CharField(source="equipment.equipment_id", read_only=True)
    connector_stats_infos = ConnectorStatsInfoSerializer(many=True, read_only=True, source="connector_stats")

    class Meta:
        model = EquipmentStats
        fields = ["equipment_id", "equipment_electricity", "connector_stats_infos"]


class StationStatsSerializer(WireModelSerializer):
    """StationStatsInfo: energy over whole days, with the equipment and connector breakdown."""

    operator_id = serializers.CharField(source="station.operator_id", read_only=True)
    station_id = serializers.CharField(source="station.station_id", read_only=True)
    equipment_stats_infos = EquipmentStatsInfoSerializer(many=True, read_only=True, source="equipment_stats")

    class Meta:
        model = StationStats
        fields = [
            "id",
            "operator_id",
            "station_id",
            "start_time",
            "end_time",
            "station_electricity",
            "equipment_stats_infos",
        ]


class DirectoryChangeSerializer(WireModelSerializer):
    """A change a pull made to a station, an equipment or a connector."""

    operator_id = serializers.CharField(read_only=True)
    run_id = serializers.IntegerField(read_only=True, allow_null=True)
    changes = serializers.DictField(child=serializers.ListField(), read_only=True, help_text="{字段: [原值, 新值]}")

    class Meta:
        model = DirectoryChange
        fields = ["id", "operator_id", "station_id", "kind", "object_id", "action", "changes", "run_id", "created"]
