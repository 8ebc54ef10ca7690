"""Admin for the directory: stations with their equipment and connectors, statuses, statistics and changes."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html

from apps.core.admin import (
    ImportExportMixin,
    ModelAdmin,
    OperatorDataAdminMixin,
    ReadOnlyAdminMixin,
    ReadOnlyInline,
    fixed_choices_filter,
    scoped_related_filter,
)
from apps.core.conf import conf
from apps.core.paging import BoundedCountPaginator
from apps.operators.models import Operator
from apps.protocol.beijing import DISTRICTS

from .choices import STATUS_COLOURS
from .models import (
    Connector,
    ConnectorStats,
    ConnectorStatus,
    ConnectorStatusHistory,
    DirectoryChange,
    Equipment,
    EquipmentStats,
    PendingConnectorStatus,
    Station,
    StationStats,
)
from .qr import connector_qr_png, connector_qr_text
from .resources import ConnectorResource, EquipmentResource, StationResource
from .selectors import connector_keys, stale_connectors, stale_cutoff


def status_badge(status: ConnectorStatus | None) -> str:
    if status is None:
        return "—"
    return format_html(
        '<span style="color:{};font-weight:600">{}</span>',
        STATUS_COLOURS.get(status.status, "#000"),
        status.get_status_display(),
    )


class ListedFilter(admin.SimpleListFilter):
    """Listed by the operator now, or dropped from its listing (kept for orders and history)."""

    title = "是否在列"
    parameter_name = "listed"

    def lookups(self, request, model_admin):
        return [("1", "在列"), ("0", "已下线")]

    def queryset(self, request, queryset):
        if self.value() in ("0", "1"):
            return queryset.filter(removed_at__isnull=self.value() == "1")
        return queryset


class StatusAgeFilter(admin.SimpleListFilter):
    """Connectors whose last known status is older than HLHT_STALE_MINUTES (or never known)."""

    title = "状态时效"
    parameter_name = "status_age"

    def lookups(self, request, model_admin):
        return [("stale", f"超过 {conf().supervision.stale_minutes} 分钟未更新"), ("fresh", "最近已更新")]

    def queryset(self, request, queryset):
        cutoff = stale_cutoff()
        if self.value() == "stale":  # the rule the operator list counts by
            return queryset.filter(pk__in=stale_connectors(cutoff).values("pk"))
        if self.value() == "fresh":
            return queryset.filter(current_status__status_time__gte=cutoff)
        return queryset


class EquipmentInline(ReadOnlyInline):
    model = Equipment
    fields = ["equipment_id", "equipment_name", "equipment_type", "power", "manufacturer_name", "equipment_model"]
    readonly_fields = fields


class ConnectorInline(ReadOnlyInline):
    model = Connector
    fields = ["connector_id", "connector_name", "equipment", "connector_type", "power", "national_standard", "status"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("equipment", "current_status")

    @admin.display(description="当前状态")
    def status(self, obj):
        return status_badge(getattr(obj, "current_status", None))


@admin.register(Station)
class StationAdmin(OperatorDataAdminMixin, ImportExportMixin, ModelAdmin):
    resource_classes = [StationResource]
    list_display = [
        "station_id",
        "station_name",
        "operator",
        "district",
        "station_type",
        "station_status",
        "construction",
        "connector_count",
        "updated",
    ]
    list_filter = [
        ListedFilter,
        "station_status",
        "station_type",
        "construction",
        # Beijing's districts by name (the one table, apps/protocol/beijing.py), not bare GB/T 2260 codes.
        fixed_choices_filter("area_code", "区县", [(code, d.name) for code, d in DISTRICTS.items()]),
        ("operator", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["station_id", "station_name", "address", "operator__operator_name", "=operator__operator_id"]
    list_select_related = ["operator"]
    ordering = ["operator_id", "station_id"]
    date_hierarchy = "updated"
    inlines = [EquipmentInline, ConnectorInline]
    fieldsets = [
        ("标识", {"fields": ["operator", "station_id", "equipment_owner_id", "station_name"]}),
        (
            "位置",
            {
                "fields": [
                    "country_code",
                    "area_code",
                    "address",
                    "station_lng",
                    "station_lat",
                    "site_guide",
                    "construction",
                ]
            },
        ),
        ("联系", {"fields": ["station_tel", "service_tel"]}),
        (
            "运营",
            {"fields": ["station_type", "station_status", "park_nums", "busine_hours", "support_order", "payment"]},
        ),
        (
            "说明",
            {
                "fields": [
                    "match_cars",
                    "park_info",
                    "electricity_fee",
                    "service_fee",
                    "park_fee",
                    "pictures",
                    "remark",
                ],
                "classes": ["collapse"],
            },
        ),
        ("记录", {"fields": ["created", "updated"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_connector_count=Count("connectors"))

    @admin.display(description="区县", ordering="area_code")
    def district(self, obj):
        district = DISTRICTS.get(obj.area_code)
        return district.name if district else obj.area_code  # outside Beijing: the code as sent

    @admin.display(description="接口数", ordering="_connector_count")
    def connector_count(self, obj):
        return obj._connector_count


@admin.register(Equipment)
class EquipmentAdmin(OperatorDataAdminMixin, ImportExportMixin, ModelAdmin):
    resource_classes = [EquipmentResource]
    list_display = ["equipment_id", "equipment_name", "station", "operator", "equipment_type", "power", "updated"]
    list_filter = [ListedFilter, "equipment_type", ("operator", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["equipment_id", "equipment_name", "station__station_id", "station__station_name"]
    list_select_related = ["station", "operator"]
    ordering = ["operator_id", "equipment_id"]
    date_hierarchy = "updated"
    show_full_result_count = False


@admin.register(Connector)
class ConnectorAdmin(OperatorDataAdminMixin, ImportExportMixin, ModelAdmin):
    resource_classes = [ConnectorResource]
    list_display = ["connector_id", "connector_name", "station", "equipment", "connector_type", "power", "status"]
    list_filter = [
        StatusAgeFilter,
        ListedFilter,
        "current_status__status",
        "connector_type",
        "national_standard",
        ("operator", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["connector_id", "connector_name", "equipment__equipment_id", "station__station_id"]
    list_select_related = ["station", "equipment", "current_status"]
    ordering = ["operator_id", "connector_id"]
    date_hierarchy = "updated"
    show_full_result_count = False
    readonly_fields = ["qr_code"]

    @admin.display(description="当前状态", ordering="current_status__status")
    def status(self, obj):
        return status_badge(getattr(obj, "current_status", None))

    def get_fields(self, request, obj=None):
        return [*[f for f in super().get_fields(request, obj) if f != "qr_code"], "qr_code"]

    @admin.display(description="二维码")
    def qr_code(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        url = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_qr", args=[obj.pk])
        return format_html(
            '<img src="{}" alt="{}" width="180" height="180"><br><code>{}</code><br>'
            '<a href="{}?download=1" class="button">下载二维码（PNG，用于打印）</a>',
            url,
            connector_qr_text(obj),
            connector_qr_text(obj),
            url,
        )

    def get_urls(self):
        qr = path(
            "<int:pk>/qr.png",
            self.admin_site.admin_view(self.qr_view),
            name=f"{self.opts.app_label}_{self.opts.model_name}_qr",
        )
        return [qr, *super().get_urls()]

    def qr_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """The connector's QR code as a PNG, for whoever may see the connector (the scope rule decides)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        connector = get_object_or_404(self.get_queryset(request), pk=pk)
        response = HttpResponse(connector_qr_png(connector), content_type="image/png")
        if request.GET.get("download"):
            response["Content-Disposition"] = f'attachment; filename="hlht-{connector.operator_id}-{connector.pk}.png"'
        return response


@admin.register(ConnectorStatus)
class ConnectorStatusAdmin(OperatorDataAdminMixin, ModelAdmin):
    list_display = ["connector", "status", "park_status", "lock_status", "status_time", "source"]
    list_filter = [
        "status",
        "park_status",
        "lock_status",
        "source",
        ("connector__operator", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["connector__connector_id", "connector__station__station_id"]
    list_select_related = ["connector"]
    ordering = ["-status_time"]
    date_hierarchy = "status_time"
    show_full_result_count = False


@admin.register(ConnectorStatusHistory)
class ConnectorStatusHistoryAdmin(OperatorDataAdminMixin, ModelAdmin):
    """A year of Beijing is a billion rows: filters with fixed or small choice lists, a bounded count, time as a
    filter rather than date_hierarchy (whose links are a DISTINCT over the whole table)."""

    list_display = ["connector", "status", "park_status", "lock_status", "status_time", "source", "created"]
    list_filter = [
        "status",
        "source",
        scoped_related_filter("connector__operator", "运营商", Operator),
        ("status_time", admin.DateFieldListFilter),
    ]
    search_fields = ["=connector__connector_id"]
    list_select_related = ["connector"]
    ordering = ["-status_time"]
    show_full_result_count = False
    paginator = BoundedCountPaginator

    def get_search_results(self, request, queryset, search_term):
        # The connector's keys first, then the history by key: a join on ConnectorID leaves the planner guessing how
        # many rows match, and at millions of rows it walks the time index for them instead of the connector's own.
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(connector_id__in=connector_keys(term)), False


class EquipmentStatsInline(ReadOnlyInline):
    model = EquipmentStats
    fields = ["equipment", "equipment_electricity"]
    readonly_fields = fields


@admin.register(StationStats)
class StationStatsAdmin(OperatorDataAdminMixin, ModelAdmin):
    list_display = ["station", "start_time", "end_time", "station_electricity"]
    list_filter = [("station__operator", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["station__station_id", "station__station_name"]
    list_select_related = ["station"]
    ordering = ["-start_time"]
    date_hierarchy = "start_time"
    inlines = [EquipmentStatsInline]


@admin.register(ConnectorStats)
class ConnectorStatsAdmin(OperatorDataAdminMixin, ModelAdmin):
    list_display = ["connector", "equipment_stats", "connector_electricity"]
    search_fields = ["connector__connector_id"]
    list_select_related = ["connector", "equipment_stats__equipment"]
    ordering = ["-equipment_stats__station_stats__start_time"]
    show_full_result_count = False


@admin.register(EquipmentStats)
class EquipmentStatsAdmin(OperatorDataAdminMixin, ModelAdmin):
    list_display = ["equipment", "station_stats", "equipment_electricity"]
    search_fields = ["equipment__equipment_id"]
    list_select_related = ["equipment", "station_stats__station"]
    ordering = ["-station_stats__start_time"]
    show_full_result_count = False


@admin.register(PendingConnectorStatus)
class PendingConnectorStatusAdmin(OperatorDataAdminMixin, ModelAdmin):
    list_display = ["operator", "connector_id", "status", "status_time", "source", "created"]
    list_filter = ["status", ("operator", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["=connector_id"]
    list_select_related = ["operator"]
    ordering = ["-status_time"]
    date_hierarchy = "status_time"


@admin.register(DirectoryChange)
class DirectoryChangeAdmin(ReadOnlyAdminMixin, ModelAdmin):
    list_display = ["created", "operator", "station_id", "kind", "object_id", "action", "changed_fields"]
    list_filter = ["kind", "action", ("operator", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["=station_id", "=object_id"]
    list_select_related = ["operator"]
    ordering = ["-created"]
    date_hierarchy = "created"
    show_full_result_count = False

    @admin.display(description="字段")
    def changed_fields(self, obj):
        return "、".join(obj.changes)
