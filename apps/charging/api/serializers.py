"""Serializers of the driver API: what a driver sees of stations, connectors, prices, sessions, orders and money."""

from __future__ import annotations

from rest_framework import serializers

from apps.charging.models import ChargingSession
from apps.drivers.models import Notification, WalletEntry
from apps.orders.models import ChargeOrder


class StartSerializer(serializers.Serializer):
    """Start on a connector: by its IDs, or by the scanned QR string (which carries both and the QRCode part)."""

    operator_id = serializers.CharField(max_length=9, required=False)
    connector_id = serializers.CharField(max_length=26, required=False)
    qr = serializers.CharField(max_length=300, required=False, help_text="扫码得到的 hlht:// 字符串")

    def validate(self, attrs):
        if not attrs.get("qr") and not (attrs.get("operator_id") and attrs.get("connector_id")):
            raise serializers.ValidationError({"qr": "请提供二维码字符串，或 operator_id 与 connector_id"})
        return attrs


class QRSerializer(serializers.Serializer):
    qr = serializers.CharField(max_length=300, help_text="扫码得到的 hlht:// 字符串")


def _money(**kwargs) -> serializers.DecimalField:
    # Prices and money are JSON numbers, as they were when these answers were plain dicts.
    return serializers.DecimalField(max_digits=12, decimal_places=4, coerce_to_string=False, read_only=True, **kwargs)


class PriceSerializer(serializers.Serializer):
    """A price period: from `start_time` (hhmmss) on, electricity and service per kWh. The model keeps the standard's
    spelling (`sevice_price`); the REST API spells it correctly."""

    start_time = serializers.CharField(read_only=True, help_text="时段开始时间 hhmmss")
    elec_price = _money(help_text="电费（元/kWh）")
    service_price = _money(source="sevice_price", help_text="服务费（元/kWh）")


class PriceNowSerializer(serializers.Serializer):
    period_start = serializers.CharField(read_only=True, help_text="当前时段开始时间 hhmmss")
    elec_price = _money(help_text="电费（元/kWh）")
    service_price = _money(source="sevice_price", help_text="服务费（元/kWh）")


class PolicySerializer(serializers.Serializer):
    operator_id = serializers.CharField(read_only=True)
    connector_id = serializers.CharField(read_only=True)
    asked_now = serializers.BooleanField(read_only=True, help_text="本次是否向运营商实时查询")
    error = serializers.CharField(read_only=True, allow_null=True, help_text="实时查询失败的原因")
    effective_from = serializers.DateTimeField(read_only=True, allow_null=True)
    periods = PriceSerializer(many=True, read_only=True)
    price_now = PriceNowSerializer(read_only=True, allow_null=True)


class StationConnectorSerializer(serializers.Serializer):
    connector_id = serializers.CharField(read_only=True)
    power = _money(help_text="额定功率（kW）")
    status = serializers.IntegerField(read_only=True, allow_null=True, help_text="接口状态（T/CEC 102 Status）")
    elec_price = _money(allow_null=True, help_text="当前电费（元/kWh）")
    service_price = _money(source="sevice_price", allow_null=True, help_text="当前服务费（元/kWh）")


class StationNearSerializer(serializers.Serializer):
    operator_id = serializers.CharField(read_only=True)
    station_id = serializers.CharField(read_only=True)
    station_name = serializers.CharField(read_only=True)
    address = serializers.CharField(read_only=True)
    lng = _money()
    lat = _money()
    distance_km = serializers.FloatField(read_only=True, required=False)
    connectors = StationConnectorSerializer(many=True, read_only=True)


class StationsSerializer(serializers.Serializer):
    results = StationNearSerializer(many=True, read_only=True)


class ScannedSerializer(serializers.Serializer):
    operator_id = serializers.CharField(read_only=True)
    connector_id = serializers.CharField(read_only=True)
    qr_code = serializers.CharField(read_only=True, allow_null=True)
    extra = serializers.ListField(child=serializers.CharField(), read_only=True)
    station_id = serializers.CharField(read_only=True)
    station_name = serializers.CharField(read_only=True)
    status = serializers.IntegerField(read_only=True, allow_null=True)
    power = _money()


class SessionSerializer(serializers.ModelSerializer):
    operator_id = serializers.CharField(read_only=True)
    connector_id = serializers.CharField(source="connector.connector_id", read_only=True)
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    outcome_label = serializers.CharField(source="get_outcome_display", read_only=True)
    order_total_money = serializers.DecimalField(
        source="order.total_money", max_digits=12, decimal_places=2, read_only=True, allow_null=True
    )
    service_money = serializers.DecimalField(
        source="sevice_money", max_digits=12, decimal_places=2, read_only=True, allow_null=True
    )

    class Meta:
        model = ChargingSession
        fields = [
            "start_charge_seq", "operator_id", "connector_id", "state", "state_label", "outcome", "outcome_label",
            "fail_reason", "requested_at", "started_at", "stop_requested_at", "ended_at", "sampled_at",
            "connector_status", "total_power", "elec_money", "service_money", "total_money", "soc",
            "order_total_money",
        ]  # fmt: skip


class OrderSerializer(serializers.ModelSerializer):
    operator_id = serializers.CharField(read_only=True)
    total_service_money = serializers.DecimalField(
        source="total_sevice_money", max_digits=12, decimal_places=2, read_only=True, allow_null=True
    )

    class Meta:
        model = ChargeOrder
        fields = [
            "start_charge_seq", "operator_id", "connector_code", "start_time", "end_time", "total_power",
            "total_elec_money", "total_service_money", "total_money", "stop_reason", "confirm_result",
        ]  # fmt: skip


class WalletEntrySerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = WalletEntry
        fields = ["id", "created", "kind", "kind_label", "amount", "balance_after", "start_charge_seq", "note"]


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "created", "title", "body", "start_charge_seq", "read"]
