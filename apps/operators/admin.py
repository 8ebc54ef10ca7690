"""Admin for operators and the accounts tied to them."""

from django.contrib import admin
from django.db import models
from django.db.models import Count
from import_export.admin import ImportExportMixin

from apps.core.admin import ScopedAdminMixin

from .models import Operator, OperatorAccount
from .resources import OperatorResource


@admin.register(Operator)
class OperatorAdmin(ScopedAdminMixin, ImportExportMixin, admin.ModelAdmin):
    resource_classes = [OperatorResource]
    list_display = ["operator_id", "operator_name", "kind", "status", "operator_tel1", "station_count", "updated"]
    list_filter = ["kind", "status"]
    search_fields = ["operator_id", "operator_name", "operator_tel1"]
    ordering = ["operator_id"]
    date_hierarchy = "created"
    readonly_fields = ["created", "updated"]
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
        ("记录", {"fields": ["created", "updated"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_station_count=Count("stations"))

    @admin.display(description="充电站数", ordering="_station_count")
    def station_count(self, obj):
        return obj._station_count

    def get_readonly_fields(self, request, obj=None):
        # The OperatorID is the identity used in every envelope: fixed once the operator exists.
        return [*self.readonly_fields, "operator_id"] if obj else self.readonly_fields


@admin.register(OperatorAccount)
class OperatorAccountAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["user", "operator", "created"]
    list_select_related = ["user", "operator"]
    search_fields = ["user__username", "operator__operator_id", "operator__operator_name"]
    autocomplete_fields = ["user", "operator"]
    ordering = ["user__username"]
