"""Read-only viewsets of the directory; each joins what its serializer reads, so a page costs a fixed few queries."""

from django.db.models import Prefetch, QuerySet

from apps.core.api import BoundedPagination, ScopedReadOnlyViewSet
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

from . import filtersets, serializers


class StationViewSet(ScopedReadOnlyViewSet):
    """Charging stations (StationInfo), removed ones included unless `removed=false`.

    The detail nests the station's EquipmentInfos and their ConnectorInfos with each connector's current status.
    """

    model = Station
    filterset_class = filtersets.StationFilterSet

    def get_serializer_class(self):
        return serializers.StationDetailSerializer if self.action == "retrieve" else serializers.StationSerializer

    def get_queryset(self) -> QuerySet:
        queryset = super().get_queryset()
        if self.action != "retrieve":
            return queryset
        user = self.request.user
        connectors = Connector.objects.for_user(user).select_related("current_status").order_by("connector_id")
        equipment = Equipment.objects.for_user(user).order_by("equipment_id")
        return queryset.prefetch_related(
            Prefetch("equipment", queryset=equipment), Prefetch("equipment__connectors", queryset=connectors)
        )


class EquipmentViewSet(ScopedReadOnlyViewSet):
    """Charging equipment (EquipmentInfo) with the StationID it stands in."""

    model = Equipment
    serializer_class = serializers.EquipmentSerializer
    filterset_class = filtersets.EquipmentFilterSet
    select_related = ("station",)


class ConnectorViewSet(ScopedReadOnlyViewSet):
    """Connectors (ConnectorInfo) with their current status: Status, ParkStatus, LockStatus and StatusTime.

    The status fields are null for a connector whose operator has not reported a status yet.
    """

    model = Connector
    serializer_class = serializers.ConnectorSerializer
    filterset_class = filtersets.ConnectorFilterSet
    select_related = ("station", "equipment", "current_status")


class ConnectorStatusHistoryViewSet(ScopedReadOnlyViewSet):
    """Every status a connector has reported, newest first."""

    model = ConnectorStatusHistory
    serializer_class = serializers.ConnectorStatusHistorySerializer
    filterset_class = filtersets.ConnectorStatusHistoryFilterSet
    select_related = ("connector__station",)
    pagination_class = BoundedPagination  # millions of rows: the count is bounded, then estimated


class StationStatsViewSet(ScopedReadOnlyViewSet):
    """Station statistics (StationStatsInfo) with their equipment and connector breakdown, newest period first."""

    model = StationStats
    serializer_class = serializers.StationStatsSerializer
    filterset_class = filtersets.StationStatsFilterSet
    select_related = ("station",)
    ordering = ("-start_time", "station__operator_id", "station__station_id", "id")

    def get_queryset(self) -> QuerySet:
        user = self.request.user
        connector_stats = ConnectorStats.objects.for_user(user).select_related("connector").order_by("id")
        equipment_stats = EquipmentStats.objects.for_user(user).select_related("equipment").order_by("id")
        return (
            super()
            .get_queryset()
            .prefetch_related(
                Prefetch("equipment_stats", queryset=equipment_stats),
                Prefetch("equipment_stats__connector_stats", queryset=connector_stats),
            )
        )


class DirectoryChangeViewSet(ScopedReadOnlyViewSet):
    """What a pull changed in a station, its equipment or connectors: `Changes` maps a field to [old, new]."""

    model = DirectoryChange
    serializer_class = serializers.DirectoryChangeSerializer
    filterset_class = filtersets.DirectoryChangeFilterSet
