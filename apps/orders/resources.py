"""Import/export of charging orders, keyed by (OperatorID, StartChargeSeq)."""

from import_export import fields

from apps.core.resources import OperatorScopedKeyWidget, SpecResource, operator_field
from apps.stations.models import Connector

from .models import ChargeOrder


class ChargeOrderResource(SpecResource):
    operator = operator_field()
    connector = fields.Field(
        attribute="connector", column_name="充电设备接口编码", widget=OperatorScopedKeyWidget(Connector, "connector_id")
    )

    class Meta(SpecResource.Meta):
        model = ChargeOrder
        import_id_fields = ["operator", "start_charge_seq"]
        fields = [
            "operator",
            "start_charge_seq",
            "connector",
            "start_charge_seq_stat",
            "charge_model",
            "start_time",
            "end_time",
            "total_power",
            "total_elec_money",
            "total_sevice_money",
            "total_money",
            "stop_reason",
            "sum_period",
            "user_name",
            "connector_power",
            "charge_last",
            "meter_value_start",
            "meter_value_end",
            "confirm_result",
        ]
