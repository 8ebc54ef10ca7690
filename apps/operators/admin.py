"""Admin for operators: their own record (OperatorInfo, connection, pull intervals, dialect flags).

Apps above add to it through `OperatorAdmin.extensions` in their AppConfig.ready(): supervision the stations and
health columns, the stale filter and the health panel; onboarding the conformance panel and the activation check.
"""

from django.contrib import admin
from django.db import models

from apps.core.admin import AuditedAdmin, ExtensibleAdminMixin, ImportExportMixin, ScopedAdminMixin
from apps.core.roles import edits_operator_data

from .models import Operator
from .resources import OperatorResource

# What came from the operator's platform or its application: regulators read it, only the portal's admins correct it.
OPERATOR_OWNED = [
    "operator_name", "operator_tel1", "operator_tel2", "operator_reg_address", "operator_note", "kind", "endpoint_url",
]  # fmt: skip


@admin.register(Operator)
class OperatorAdmin(ScopedAdminMixin, ExtensibleAdminMixin, ImportExportMixin, AuditedAdmin):
    resource_classes = [OperatorResource]
    list_display = ["operator_id", "operator_name", "kind", "status", "updated"]
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
            {
                "fields": [
                    "pull_info_minutes",
                    "pull_full_minutes",
                    "pull_status_minutes",
                    "pull_stats_at",
                    "pull_policy_minutes",
                    "pull_concurrency",
                ]
            },
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
                    "dialect_lowercase_keys",
                    "dialect_lower_camel_fields",
                ],
                "classes": ["collapse"],
            },
        ),
        ("记录", {"fields": ["created", "updated"]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        fields = [*super().get_readonly_fields(request, obj)]
        if obj is not None:
            # The primary key: "changing" it would make Django save a second operator beside the first.
            fields.append("operator_id")
        if not edits_operator_data(request.user):
            fields += OPERATOR_OWNED
        return fields
