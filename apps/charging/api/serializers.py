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


class SessionSerializer(serializers.ModelSerializer):
    operator_id = serializers.CharField(read_only=True)
    connector_id = serializers.CharField(source="connector.connector_id", read_only=True)
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    outcome_label = serializers.CharField(source="get_outcome_display", read_only=True)
    order_total_money = serializers.DecimalField(
        source="order.total_money", max_digits=12, decimal_places=2, read_only=True, allow_null=True
    )

    class Meta:
        model = ChargingSession
        fields = [
            "start_charge_seq", "operator_id", "connector_id", "state", "state_label", "outcome", "outcome_label",
            "fail_reason", "requested_at", "started_at", "stop_requested_at", "ended_at", "sampled_at",
            "connector_status", "total_power", "elec_money", "sevice_money", "total_money", "soc",
            "order_total_money",
        ]  # fmt: skip


class OrderSerializer(serializers.ModelSerializer):
    operator_id = serializers.CharField(read_only=True)

    class Meta:
        model = ChargeOrder
        fields = ["start_charge_seq", "operator_id", "connector_code", "start_time", "end_time", "total_power",
                  "total_elec_money", "total_sevice_money", "total_money", "stop_reason", "confirm_result"]  # fmt: skip


class WalletEntrySerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = WalletEntry
        fields = ["id", "created", "kind", "kind_label", "amount", "balance_after", "start_charge_seq", "note"]


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "created", "title", "body", "start_charge_seq", "read"]
