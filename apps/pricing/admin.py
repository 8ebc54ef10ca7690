"""Admin for tariffs: policy versions with their periods; import/export by period rows."""

from django.contrib import admin
from import_export.admin import ImportExportMixin

from apps.core.admin import OperatorDataAdminMixin, ReadOnlyInline

from .models import BusinessPolicy, PolicyPeriod
from .resources import PolicyPeriodResource


class PolicyPeriodInline(ReadOnlyInline):
    model = PolicyPeriod
    fields = ["start_time", "elec_price", "sevice_price"]
    readonly_fields = fields
    show_change_link = False


@admin.register(BusinessPolicy)
class BusinessPolicyAdmin(OperatorDataAdminMixin, admin.ModelAdmin):
    list_display = ["connector", "operator", "effective_from", "period_count", "source", "equip_biz_seq"]
    list_filter = ["source", ("operator", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["connector__connector_id", "equip_biz_seq"]
    list_select_related = ["connector", "operator"]
    ordering = ["-effective_from"]
    date_hierarchy = "effective_from"
    inlines = [PolicyPeriodInline]

    @admin.display(description="时段数")
    def period_count(self, obj):
        return obj.periods.count()


@admin.register(PolicyPeriod)
class PolicyPeriodAdmin(OperatorDataAdminMixin, ImportExportMixin, admin.ModelAdmin):
    """The import/export face of pricing: one row per PolicyInfo."""

    resource_classes = [PolicyPeriodResource]
    list_display = ["policy", "start_time", "elec_price", "sevice_price"]
    list_filter = [("policy__operator", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["policy__connector__connector_id"]
    list_select_related = ["policy__connector"]
    ordering = ["-policy__effective_from", "start_time"]
    show_full_result_count = False
