"""Reconciliation runs and disputes as the API shows them."""

from rest_framework import serializers

from apps.core.api import EnumField, WireModelSerializer
from apps.settlement.choices import DisputeReasonChoices, DisputeState, Resolution
from apps.settlement.models import Dispute, ReconciliationRun


class ReconciliationRunSerializer(WireModelSerializer):
    """One check_charge_orders: the operator's totals and what the portal found."""

    operator_id = serializers.CharField(read_only=True)

    class Meta:
        model = ReconciliationRun
        fields = [
            "id", "operator_id", "check_order_seq", "start_time", "end_time", "order_count", "total_order_power",
            "total_order_money", "portal_order_count", "matched_count", "dispute_count", "missing_at_portal_count",
            "missing_at_operator_count", "total_dispute_power", "total_dispute_money", "received_at",
        ]  # fmt: skip


class DisputeSerializer(WireModelSerializer):
    """An order the two sides disagree about, both sides' figures, and how (and by whom) it was settled."""

    operator_id = serializers.CharField(read_only=True)
    run_id = serializers.IntegerField(read_only=True)
    reason = EnumField(DisputeReasonChoices, read_only=True)
    state = EnumField(DisputeState, read_only=True)
    resolution = EnumField(Resolution, read_only=True, allow_blank=True)
    resolved_by = serializers.CharField(source="resolved_by.username", read_only=True, allow_null=True, default=None)

    class Meta:
        model = Dispute
        fields = [
            "id", "operator_id", "run_id", "start_charge_seq", "reason", "operator_power", "operator_money",
            "portal_power", "portal_money", "state", "resolution", "settled_power", "settled_money", "comment",
            "resolved_by", "resolved_at", "created",
        ]  # fmt: skip
