"""Indicators in the admin: maintenance windows (operators declare them) and exemptions (regulators grant them)."""

from django.contrib import admin
from django.utils import timezone

from apps.core.admin import (
    AuditedAdmin,
    ExportMixin,
    ModelAdmin,
    ReadOnlyAdminMixin,
    ScopedAdminMixin,
    scoped_related_filter,
)
from apps.operators.models import Operator

from .codes import CODES
from .models import Exemption, Indicator, MaintenanceWindow, RewardScheme, Scorecard
from .resources import IndicatorResource, ScorecardResource


@admin.register(Indicator)
class IndicatorAdmin(ReadOnlyAdminMixin, ExportMixin, ModelAdmin):
    """Computed figures: nobody edits them (a rerun of the day replaces them); exported as CSV or Excel."""

    resource_classes = [IndicatorResource]
    list_display = ["start", "period", "code", "name", "level", "target", "value", "numerator", "denominator"]
    list_filter = ["code", "level", "period", scoped_related_filter("operator", "运营商", Operator)]
    search_fields = ["=target", "=area_code"]
    ordering = ["-start", "code", "level", "target"]
    date_hierarchy = "start"
    show_full_result_count = False

    @admin.display(description="指标名称")
    def name(self, obj):
        return CODES[obj.code].name


@admin.register(MaintenanceWindow)
class MaintenanceWindowAdmin(ScopedAdminMixin, AuditedAdmin):
    list_display = ["station", "connector", "start", "end", "reason", "created", "declared_by"]
    list_filter = ["operator"]
    search_fields = ["station__station_id", "station__station_name", "connector__connector_id", "reason"]
    ordering = ["-start"]
    date_hierarchy = "start"
    list_select_related = ["station", "connector", "declared_by"]
    raw_id_fields = ["station", "connector"]
    readonly_fields = ["declared_by", "created"]

    def get_readonly_fields(self, request, obj=None):
        # A window counts only if declared before it starts: once started, its place and time are the record.
        if obj is not None and obj.start <= timezone.now():
            return [*self.readonly_fields, "operator", "station", "connector", "start", "end"]
        return self.readonly_fields

    def save_model(self, request, obj, form, change):
        if not change:
            obj.declared_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(Exemption)
class ExemptionAdmin(ScopedAdminMixin, AuditedAdmin):
    list_display = ["operator", "station", "connector", "start", "end", "reason", "granted_by"]
    list_filter = ["operator"]
    search_fields = ["operator__operator_id", "station__station_id", "connector__connector_id", "reason"]
    ordering = ["-start"]
    date_hierarchy = "start"
    list_select_related = ["operator", "station", "connector", "granted_by"]
    raw_id_fields = ["station", "connector"]
    readonly_fields = ["granted_by", "created"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.granted_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(RewardScheme)
class RewardSchemeAdmin(AuditedAdmin):
    """Scheme versions: a quarter is computed under the version valid on its first day; changes keep history."""

    list_display = ["name", "valid_from", "grade_by", "rates", "cap_kwh_per_kw_year", "updated"]
    search_fields = ["name"]
    ordering = ["-valid_from"]
    date_hierarchy = "valid_from"


@admin.register(Scorecard)
class ScorecardAdmin(ReadOnlyAdminMixin, ExportMixin, ModelAdmin):
    resource_classes = [ScorecardResource]
    list_display = ["quarter", "station", "operator", "eligible", "total", "rank", "grade", "energy_kwh",
                    "reward_yuan", "frozen"]  # fmt: skip
    list_filter = ["quarter", "grade", "eligible", "frozen", scoped_related_filter("operator", "运营商", Operator)]
    search_fields = ["=station__station_id", "station__station_name"]
    list_select_related = ["station", "operator"]
    ordering = ["-quarter", "rank"]
    date_hierarchy = "quarter"
