"""Import/export of charging orders, keyed by (OperatorID, StartChargeSeq), and of what the checks found."""

from import_export import fields

from apps.core.privacy import mask_name
from apps.core.resources import OperatorScopedKeyWidget, SpecResource, masked_field, operator_field
from apps.stations.models import Connector

from .models import ChargeOrder, OrderFinding


class ChargeOrderResource(SpecResource):
    operator = operator_field()
    connector = fields.Field(
        attribute="connector", column_name="充电接口（平台）", widget=OperatorScopedKeyWidget(Connector, "connector_id")
    )
    # A customer's name leaves the portal masked, as in the journal, and a masked name is never imported back.
    user_name = masked_field(ChargeOrder, "user_name", mask_name)

    class Meta(SpecResource.Meta):
        model = ChargeOrder
        import_id_fields = ["operator", "start_charge_seq"]
        fields = [
            "operator",
            "start_charge_seq",
            "connector_code",
            "connector",
            "station_code",
            "equipment_code",
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
            "order_received_at",
            "bonus_confirm_result",
            "bonus_received_at",
        ]


class OrderFindingResource(SpecResource):
    operator = fields.Field(attribute="order__operator_id", column_name="运营商ID")
    order = fields.Field(attribute="order__start_charge_seq", column_name="充电订单号")
    revision = fields.Field(attribute="report__revision", column_name="版本")

    class Meta(SpecResource.Meta):
        model = OrderFinding
        fields = ["operator", "order", "revision", "category", "rule", "path", "message", "disputes", "created"]
        export_order = fields

    def instance_operator_id(self, instance) -> str | None:
        return instance.order.operator_id
