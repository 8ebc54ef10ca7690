"""Sync runs and rejected records as the API shows them."""

from rest_framework import serializers

from apps.core.api import EnumField, WireModelSerializer
from apps.interconnect.choices import RunStatus
from apps.interconnect.models import RejectedRecord, SyncRun


class SyncRunSerializer(WireModelSerializer):
    """One pull from one operator: interface, whether full, outcome, counts and error."""

    operator_id = serializers.CharField(read_only=True)
    status = EnumField(RunStatus, read_only=True)

    class Meta:
        model = SyncRun
        fields = [
            "id",
            "operator_id",
            "interface",
            "full",
            "status",
            "started",
            "finished",
            "last_query_time",
            "pages",
            "created_count",
            "updated_count",
            "unchanged_count",
            "rejected_count",
            "removed_count",
            "error",
            "retryable",
        ]


class RejectedRecordSerializer(WireModelSerializer):
    """A record an operator sent that broke a rule, with the rules, the reasons and the record as received."""

    operator_id = serializers.CharField(read_only=True)
    run_id = serializers.IntegerField(read_only=True, allow_null=True)
    rules = serializers.ListField(child=serializers.CharField(), read_only=True)
    reasons = serializers.ListField(child=serializers.CharField(), read_only=True)
    payload = serializers.JSONField(read_only=True, help_text="运营商发送的原始记录")

    class Meta:
        model = RejectedRecord
        fields = ["id", "operator_id", "run_id", "interface", "record_key", "rules", "reasons", "payload", "created"]
