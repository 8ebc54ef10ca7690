"""Indicators in the admin: the rows and scorecards (read-only, exported), maintenance windows (operators declare them),
exemptions and scheme versions (regulators), and the pages: the explorer and the scorecard board."""

from functools import partial
from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.urls import path
from django.utils import timezone

from apps.core.admin import (
    AuditedAdmin,
    ExportMixin,
    ModelAdmin,
    ReadOnlyAdminMixin,
    ScopedAdminMixin,
    energy_column,
    money_column,
    scoped_related_filter,
    time_column,
)
from apps.operators.models import Operator

from . import views
from .codes import CODES
from .models import (
    AnnualAssessment,
    AnnualScheme,
    Exemption,
    Indicator,
    IndicatorExplorer,
    MaintenanceWindow,
    RewardScheme,
    Scorecard,
    ScorecardBoard,
)
from .resources import AnnualAssessmentResource, IndicatorResource, ScorecardResource


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
    list_display = ["station", "connector", time_column("start", "开始"), time_column("end", "结束"), "reason",
                    "declared_by"]  # fmt: skip
    list_filter = ["operator"]
    search_fields = ["station__station_id", "station__station_name", "connector__connector_id", "reason"]
    ordering = ["-start"]
    date_hierarchy = "start"
    list_select_related = ["station", "connector__station", "declared_by"]
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
    list_display = [
        "operator",
        "station",
        "connector",
        time_column("start", "开始"),
        time_column("end", "结束"),
        "reason",
        "granted_by",
    ]
    list_filter = ["operator"]
    search_fields = ["operator__operator_id", "station__station_id", "connector__connector_id", "reason"]
    ordering = ["-start"]
    date_hierarchy = "start"
    list_select_related = ["operator", "station", "connector__station", "granted_by"]
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
    list_display = ["quarter", "station", "operator", "eligible", "total", "rank", "grade", energy_column("energy_kwh"),
                    money_column("reward_yuan", "奖励 元"), "frozen"]  # fmt: skip
    list_filter = ["quarter", "grade", "eligible", "frozen", scoped_related_filter("operator", "运营商", Operator)]
    search_fields = ["=station__station_id", "station__station_name"]
    list_select_related = ["station", "operator"]
    ordering = ["-quarter", "rank"]
    date_hierarchy = "quarter"


@admin.register(AnnualScheme)
class AnnualSchemeAdmin(AuditedAdmin):
    """Annual assessment versions: a year is computed under the version valid on its first day; changes keep
    history."""

    list_display = ["name", "valid_from", "grade_by", "rates", "cap_yuan_per_station", "updated"]
    search_fields = ["name"]
    ordering = ["-valid_from"]
    date_hierarchy = "valid_from"


@admin.register(AnnualAssessment)
class AnnualAssessmentAdmin(ReadOnlyAdminMixin, ExportMixin, admin.ModelAdmin):
    resource_classes = [AnnualAssessmentResource]
    list_display = ["year", "station", "operator", "eligible", "total", "rank", "grade", "rated_kw", "reward_yuan",
                    "frozen"]  # fmt: skip
    list_filter = ["year", "grade", "eligible", "frozen", scoped_related_filter("operator", "运营商", Operator)]
    search_fields = ["=station__station_id", "station__station_name"]
    list_select_related = ["station", "operator"]
    ordering = ["-year", "rank"]


class PageAdmin(admin.ModelAdmin):
    """A page in the admin's sections (a proxy model's entry): its list is the page; nothing is added or changed."""

    pages: dict[str, tuple[str, Any]] = {}  # route → (name, view(model_admin, request, ...))
    page_view: Any = None

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        return type(self).page_view(self, request)

    def get_urls(self):
        opts = self.model._meta
        added = [
            path(
                route,
                self.admin_site.admin_view(partial(view, self)),
                name=f"{opts.app_label}_{opts.model_name}_{name}",
            )
            for route, (name, view) in self.pages.items()
        ]
        return [*added, *super().get_urls()]


@admin.register(IndicatorExplorer)
class IndicatorExplorerAdmin(PageAdmin):
    page_view = views.explorer_view
    pages = {"trace/<int:pk>/": ("trace", views.trace_view)}


@admin.register(ScorecardBoard)
class ScorecardBoardAdmin(PageAdmin):
    page_view = views.board_view
    pages = {"sheet/<int:pk>/": ("sheet", views.sheet_view)}
