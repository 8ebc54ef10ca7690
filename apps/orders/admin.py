"""Admin for charging orders and their details."""

from django.contrib import admin
from import_export.admin import ImportExportMixin

from apps.core.admin import OperatorDataAdminMixin, ReadOnlyInline

from .models import ChargeDetail, ChargeOrder
from .resources import ChargeOrderResource


class ChargeDetailInline(ReadOnlyInline):
    model = ChargeDetail
    fields = [
        "detail_start_time",
        "detail_end_time",
        "elec_price",
        "sevice_price",
        "detail_power",
        "detail_elec_money",
        "detail_sevice_money",
    ]
    readonly_fields = fields
    show_change_link = False


@admin.register(ChargeOrder)
class ChargeOrderAdmin(OperatorDataAdminMixin, ImportExportMixin, admin.ModelAdmin):
    resource_classes = [ChargeOrderResource]
    list_display = [
        "start_charge_seq",
        "operator",
        "connector",
        "start_charge_seq_stat",
        "charge_model",
        "start_time",
        "end_time",
        "total_power",
        "total_money",
        "stop_reason_label",
        "confirm_result_label",
    ]
    list_filter = [
        "start_charge_seq_stat",
        "charge_model",
        "stop_reason",
        "confirm_result",
        ("operator", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["=start_charge_seq", "connector__connector_id", "user_name"]
    list_select_related = ["operator", "connector"]
    ordering = ["-start_time"]
    date_hierarchy = "start_time"
    show_full_result_count = False
    inlines = [ChargeDetailInline]

    @admin.display(description="充电结束原因", ordering="stop_reason")
    def stop_reason_label(self, obj):
        return obj.stop_reason_label

    @admin.display(description="确认结果", ordering="confirm_result")
    def confirm_result_label(self, obj):
        return obj.confirm_result_label


@admin.register(ChargeDetail)
class ChargeDetailAdmin(OperatorDataAdminMixin, admin.ModelAdmin):
    list_display = [
        "order",
        "detail_start_time",
        "detail_end_time",
        "detail_power",
        "detail_elec_money",
        "detail_sevice_money",
    ]
    search_fields = ["=order__start_charge_seq"]
    list_select_related = ["order"]
    ordering = ["-detail_start_time"]
    date_hierarchy = "detail_start_time"
    show_full_result_count = False
