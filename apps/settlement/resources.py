"""Export of reconciliation runs and disputes with Chinese headers."""

from import_export import fields

from apps.core.resources import SpecResource

from .models import Dispute, ReconciliationRun, Statement


class ReconciliationRunResource(SpecResource):
    operator = fields.Field(attribute="operator_id", column_name="运营商ID")

    class Meta(SpecResource.Meta):
        model = ReconciliationRun
        fields = [
            "operator", "check_order_seq", "start_time", "end_time", "order_count", "total_order_power",
            "total_order_money", "portal_order_count", "matched_count", "dispute_count", "missing_at_portal_count",
            "missing_at_operator_count", "total_dispute_power", "total_dispute_money", "received_at",
        ]  # fmt: skip
        export_order = fields


class DisputeResource(SpecResource):
    operator = fields.Field(attribute="operator_id", column_name="运营商ID")
    check_order_seq = fields.Field(attribute="run__check_order_seq", column_name="订单对账流水号")
    resolved_by = fields.Field(attribute="resolved_by__username", column_name="处理人")

    class Meta(SpecResource.Meta):
        model = Dispute
        fields = [
            "operator", "check_order_seq", "start_charge_seq", "reason", "operator_power", "operator_money",
            "portal_power", "portal_money", "state", "resolution", "settled_power", "settled_money", "comment",
            "resolved_by", "resolved_at",
        ]  # fmt: skip
        export_order = fields


class StatementResource(SpecResource):
    operator = fields.Field(attribute="operator_id", column_name="运营商ID")
    confirmed_by = fields.Field(attribute="confirmed_by__username", column_name="确认人")
    paid_by = fields.Field(attribute="paid_by__username", column_name="付款登记人")

    class Meta(SpecResource.Meta):
        model = Statement
        fields = [
            "operator", "period_start", "period_end", "order_count", "total_power", "elec_money", "sevice_money",
            "total_money", "commission_rate", "commission", "net_payable", "disputes_open", "state", "confirmed_by",
            "confirmed_at", "paid_by", "paid_at", "payment_reference",
        ]  # fmt: skip
        export_order = fields
