"""Orders in their T/CEC 102.3 wire names (§3.9 and Beijing's bonus fields), with ChargeDetails and findings."""

from rest_framework import serializers

from apps.core.api import EnumField, WireModelSerializer
from apps.core.privacy import mask_name
from apps.orders.choices import ChargeModel, FindingCategory, StartChargeSeqStat
from apps.orders.models import ChargeDetail, ChargeOrder, OrderFinding


class ChargeDetailSerializer(WireModelSerializer):
    class Meta:
        model = ChargeDetail
        fields = [
            "detail_start_time", "detail_end_time", "elec_price", "sevice_price", "detail_power",
            "detail_elec_money", "detail_sevice_money",
        ]  # fmt: skip


class OrderFindingSerializer(WireModelSerializer):
    """What a check found in an order's revision: a stable rule code, its category, whether it disputes the order."""

    operator_id = serializers.CharField(source="order.operator_id", read_only=True)
    start_charge_seq = serializers.CharField(source="order.start_charge_seq", read_only=True)
    revision = serializers.IntegerField(source="report.revision", read_only=True)
    category = EnumField(FindingCategory, read_only=True)

    class Meta:
        model = OrderFinding
        fields = ["id", "operator_id", "start_charge_seq", "revision", "category", "rule", "path", "message",
                  "disputes", "created"]  # fmt: skip


class ChargeOrderSerializer(WireModelSerializer):
    """One order as the portal holds it (its latest revision), with its details and the answers it was given."""

    operator_id = serializers.CharField(read_only=True)
    connector_id = serializers.CharField(source="connector_code", read_only=True, help_text="运营商上报的接口编码")
    start_charge_seq_stat = EnumField(StartChargeSeqStat, read_only=True)
    charge_model = EnumField(ChargeModel, read_only=True)
    user_name = serializers.SerializerMethodField(method_name="get_user_name", help_text="客户名称（已脱敏）")
    charge_details = ChargeDetailSerializer(source="details", many=True, read_only=True)

    class Meta:
        model = ChargeOrder
        fields = [
            "id", "operator_id", "start_charge_seq", "connector_id", "station_code", "equipment_code",
            "start_charge_seq_stat", "charge_model", "start_time", "end_time", "total_power", "total_elec_money",
            "total_sevice_money", "total_money", "stop_reason", "sum_period", "user_name", "connector_power",
            "charge_last", "meter_value_start", "meter_value_end", "confirm_result", "order_received_at",
            "bonus_confirm_result", "bonus_received_at", "charge_details",
        ]  # fmt: skip

    def get_user_name(self, order: ChargeOrder) -> str:
        return mask_name(order.user_name)
