"""Import/export of the directory, keyed by the spec's natural keys (OperatorID + StationID/EquipmentID/ConnectorID)."""

from import_export import fields, widgets

from apps.core.resources import OperatorScopedKeyWidget, SpecResource, operator_field

from .directory import CONNECTOR_FIELDS, EQUIPMENT_FIELDS
from .directory import STATION_FIELDS as DIRECTORY_STATION_FIELDS
from .models import Connector, Equipment, Station

# The wire order of StationInfo, after the natural key.
STATION_FIELDS = ["operator", "station_id", *DIRECTORY_STATION_FIELDS]


class StationResource(SpecResource):
    operator = operator_field()
    pictures = fields.Field(attribute="pictures", column_name="站点照片", widget=widgets.JSONWidget(), default=list)

    class Meta(SpecResource.Meta):
        model = Station
        import_id_fields = ["operator", "station_id"]
        fields = STATION_FIELDS


class EquipmentResource(SpecResource):
    operator = operator_field()
    station = fields.Field(
        attribute="station", column_name="充电站ID", widget=OperatorScopedKeyWidget(Station, "station_id")
    )

    class Meta(SpecResource.Meta):
        model = Equipment
        import_id_fields = ["operator", "equipment_id"]
        fields = ["operator", "station", "equipment_id", *EQUIPMENT_FIELDS]


class ConnectorResource(SpecResource):
    operator = operator_field()
    equipment = fields.Field(
        attribute="equipment", column_name="设备编码", widget=OperatorScopedKeyWidget(Equipment, "equipment_id")
    )
    # The station follows from the equipment; exported for reading, ignored on import.
    station = fields.Field(attribute="station__station_id", column_name="充电站ID", readonly=True)

    class Meta(SpecResource.Meta):
        model = Connector
        import_id_fields = ["operator", "connector_id"]
        fields = ["operator", "station", "equipment", "connector_id", *CONNECTOR_FIELDS]

    def import_instance(self, instance, row, **kwargs):
        super().import_instance(instance, row, **kwargs)
        # Set before model validation runs, so a connector is never left without its station.
        if instance.equipment_id is not None:
            instance.station_id = instance.equipment.station_id
