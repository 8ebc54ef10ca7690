"""Admin for operators and the accounts tied to them."""

from django.conf import settings
from django.contrib import admin
from django.db import models
from django.db.models import Count, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from import_export.admin import ImportExportMixin

from apps.core.admin import ScopedAdminMixin
from apps.interconnect.health import PULLED, with_health
from apps.stations.models import Station
from apps.stations.selectors import listed_connectors

from .models import Operator
from .resources import OperatorResource


class StaleFilter(admin.SimpleListFilter):
    """Operators whose status data stopped arriving (see apps/interconnect/health.py for the rule)."""

    title = "数据状态"
    parameter_name = "stale"

    def lookups(self, request, model_admin):
        return [("1", "数据停滞"), ("0", "正常")]

    def queryset(self, request, queryset):
        if self.value() in ("0", "1"):
            return queryset.filter(is_stale=self.value() == "1")
        return queryset


def _when(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else "从未"


@admin.register(Operator)
class OperatorAdmin(ScopedAdminMixin, ImportExportMixin, admin.ModelAdmin):
    resource_classes = [OperatorResource]
    list_display = [
        "operator_id", "operator_name", "kind", "status", "station_count", "health", "last_status_data",
        "last_info_pull", "stale_connectors", "updated",
    ]  # fmt: skip
    list_filter = [StaleFilter, "kind", "status"]
    search_fields = ["operator_id", "operator_name", "operator_tel1"]
    ordering = ["operator_id"]
    date_hierarchy = "created"
    readonly_fields = ["created", "updated", "health_panel"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    fieldsets = [
        (
            "运营商信息（OperatorInfo）",
            {
                "fields": [
                    "operator_id",
                    "operator_name",
                    "operator_tel1",
                    "operator_tel2",
                    "operator_reg_address",
                    "operator_note",
                ]
            },
        ),
        ("接入", {"fields": ["kind", "status", "endpoint_url"]}),
        (
            "数据查询频率",
            {"fields": ["pull_info_minutes", "pull_full_minutes", "pull_status_minutes", "pull_stats_at"]},
        ),
        (
            "协议差异（仅对该运营商放宽）",
            {
                "fields": [
                    "dialect_lowercase_sig",
                    "dialect_bare_token",
                    "dialect_millisecond_timestamp",
                    "dialect_service_spelling",
                    "dialect_no_v_base_url",
                ],
                "classes": ["collapse"],
            },
        ),
        ("运行状况", {"fields": ["health_panel"]}),
        ("记录", {"fields": ["created", "updated"]}),
    ]

    def get_queryset(self, request):
        # A correlated count, not a join: joined with the health subqueries, a JOIN + GROUP BY would evaluate them
        # once per station row rather than once per operator.
        stations = (
            Station.objects.filter(operator=OuterRef("pk"), removed_at__isnull=True)
            .order_by()
            .values("operator")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return with_health(super().get_queryset(request)).annotate(
            _station_count=Coalesce(Subquery(stations, output_field=models.IntegerField()), Value(0))
        )

    @admin.display(description="充电站数", ordering="_station_count")
    def station_count(self, obj):
        return obj._station_count

    @admin.display(description="数据状态", ordering="is_stale")
    def health(self, obj):
        if obj.kind != "operator" or obj.status != "active":
            return "—"
        if obj.is_stale:
            return format_html('<strong style="color:#ba2121">{}</strong>', "数据停滞")
        return format_html('<span style="color:#417505">{}</span>', "正常")

    @admin.display(description="最近状态数据", ordering="last_status_data")
    def last_status_data(self, obj):
        return _when(obj.last_status_data)

    @admin.display(description="最近站点信息拉取", ordering="last_query_stations_info")
    def last_info_pull(self, obj):
        return _when(obj.last_query_stations_info)

    @admin.display(description="状态过期的接口", ordering="stale_connector_count")
    def stale_connectors(self, obj):
        if not obj.stale_connector_count:
            return 0
        url = reverse("admin:stations_connector_changelist")
        return format_html(
            '<a href="{}?operator__operator_id__exact={}&status_age=stale">{}</a>',
            url,
            obj.pk,
            obj.stale_connector_count,
        )

    @admin.display(description="运行状况")
    def health_panel(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        # `obj` comes from get_queryset, so it already carries the health annotations.
        names = {
            "query_stations_info": "站点信息",
            "query_station_status": "接口状态",
            "query_station_stats": "统计信息",
        }
        rows = [(f"最近一次成功拉取{names[name]}（{name}）", _when(getattr(obj, f"last_{name}"))) for name in PULLED]
        connectors = listed_connectors().filter(operator=obj).count()
        rows += [
            ("最近一次收到状态推送（notification_stationStatus）", _when(obj.last_push)),
            (
                f"状态超过 {settings.HLHT_STALE_MINUTES} 分钟未更新的接口",
                f"{obj.stale_connector_count} / {connectors}",
            ),
            ("判定", "数据停滞" if obj.is_stale else "正常"),
        ]
        return format_html(
            "<table>{}</table>",
            format_html("".join("<tr><th>{}</th><td>{}</td></tr>" for _ in rows), *[v for row in rows for v in row]),
        )
