"""Admin for the transport: key sets (never their secrets), tokens, the read-only message journal, sync runs and
rejected records."""

from __future__ import annotations

import json

from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils.html import format_html

from apps.core.admin import (
    ExtensibleAdminMixin,
    ModelAdmin,
    ReadOnlyAdminMixin,
    fixed_choices_filter,
    scoped_related_filter,
)
from apps.core.paging import BoundedCountPaginator
from apps.operators.models import Operator
from apps.protocol import Ret
from apps.protocol.names import Interface, interface_label

from .choices import KeyDirection
from .keys import keyset_rotate
from .models import AccessToken, Exchange, OperatorKeySet, RejectedRecord, SyncRun


@admin.register(OperatorKeySet)
class OperatorKeySetAdmin(ReadOnlyAdminMixin, ModelAdmin):
    list_display = ["operator", "direction", "label", "state", "created", "retires_at"]
    list_filter = ["direction", ("operator", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["=operator__operator_id", "operator__operator_name", "=label"]
    list_select_related = ["operator"]
    ordering = ["operator_id", "direction", "-created"]
    date_hierarchy = "created"
    # The sealed columns are never shown, not even encrypted: the page lists which set is which, no more.
    fields = ["operator", "direction", "label", "created", "retires_at"]
    readonly_fields = fields
    actions = ["rotate_inbound"]

    @admin.display(description="状态")
    def state(self, obj):
        return "使用中" if obj.retires_at is None else f"过渡期（至 {obj.retires_at:%Y-%m-%d %H:%M}）"

    @admin.action(description="为所选运营商签发新的平台密钥（旧密钥在过渡期内继续有效）", permissions=["rotate"])
    def rotate_inbound(self, request, queryset):
        operators = {row.operator for row in queryset.filter(direction=KeyDirection.INBOUND).select_related("operator")}
        if not operators:
            self.message_user(request, "请选择平台签发（inbound）的密钥。", messages.WARNING)
            return None
        issued = [(operator, keyset_rotate(operator=operator)) for operator in sorted(operators, key=lambda o: o.pk)]
        # Shown once, on this response only: never stored in messages, the session or a log.
        return TemplateResponse(
            request,
            "admin/interconnect/keys_issued.html",
            {
                **self.admin_site.each_context(request),
                "title": "新的平台密钥（仅显示这一次）",
                "issued": [
                    (op, json.dumps({"OperatorID": op.pk, "inbound": keys}, ensure_ascii=False, indent=2))
                    for op, keys in issued
                ],
                "opts": self.model._meta,
            },
        )

    def has_rotate_permission(self, request):
        return request.user.has_perm("interconnect.add_operatorkeyset")


@admin.register(AccessToken)
class AccessTokenAdmin(ReadOnlyAdminMixin, ModelAdmin):
    def has_delete_permission(self, request, obj=None):
        return ModelAdmin.has_delete_permission(self, request, obj)  # revoking is deleting

    list_display = ["operator", "short_hash", "created", "expires_at"]
    list_filter = [("operator", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["=operator__operator_id"]
    list_select_related = ["operator"]
    ordering = ["-created"]
    date_hierarchy = "created"
    fields = ["operator", "short_hash", "created", "expires_at"]
    readonly_fields = fields
    actions = ["revoke"]
    show_full_result_count = False

    @admin.display(description="令牌摘要")
    def short_hash(self, obj):
        return f"{obj.token_hash[:12]}…"

    @admin.action(description="吊销所选令牌", permissions=["delete"])
    def revoke(self, request, queryset):
        count, _ = queryset.delete()
        self.message_user(request, f"已吊销 {count} 个令牌。", messages.SUCCESS)


@admin.register(Exchange)
class ExchangeAdmin(ReadOnlyAdminMixin, ModelAdmin):
    """The journal is evidence: read-only, and retention is the purge task's job."""

    list_display = [
        "created",
        "direction",
        "interface_name",
        "operator",
        "ret",
        "msg_short",
        "latency",
        "timestamp",
        "seq",
    ]
    # Millions of rows: no filter asks the table for its distinct values, the count stops at a bound, and time is
    # a filter (date_hierarchy's year/month links are a DISTINCT over the whole journal).
    list_filter = [
        "direction",
        fixed_choices_filter("interface", "接口", [(name.value, name.value) for name in Interface]),
        fixed_choices_filter("ret", "Ret", [(int(ret), f"{int(ret)} {ret.default_msg}") for ret in Ret]),
        scoped_related_filter("operator", "运营商", Operator),
        ("created", admin.DateFieldListFilter),
    ]
    search_fields = ["=claimed_operator_id", "=interface", "=seq", "=timestamp"]
    list_select_related = ["operator"]
    ordering = ["-created"]
    show_full_result_count = False
    paginator = BoundedCountPaginator
    fields = [
        "created",
        "direction",
        "interface",
        "operator",
        "claimed_operator_id",
        "timestamp",
        "seq",
        "ret",
        "msg",
        "http_status",
        "latency_ms",
        "remote_addr",
        "error",
        "request_pretty",
        "response_pretty",
    ]
    readonly_fields = fields

    @admin.display(description="接口", ordering="interface")
    def interface_name(self, obj):
        return format_html('<span title="{}">{}</span>', interface_label(obj.interface), obj.interface)

    @admin.display(description="Msg")
    def msg_short(self, obj):
        return obj.msg[:40]

    @admin.display(description="耗时", ordering="latency_ms")
    def latency(self, obj):
        return f"{obj.latency_ms:.1f} ms"

    def _pretty(self, value):
        if value is None:
            return "—"
        return format_html(
            "<pre style='white-space:pre-wrap'>{}</pre>", json.dumps(value, ensure_ascii=False, indent=2)
        )

    @admin.display(description="请求数据（已脱敏）")
    def request_pretty(self, obj):
        return self._pretty(obj.request)

    @admin.display(description="响应数据（已脱敏）")
    def response_pretty(self, obj):
        return self._pretty(obj.response)


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyAdminMixin, ModelAdmin):
    list_display = [
        "started", "operator", "interface", "full", "status", "pages", "created_count", "updated_count",
        "unchanged_count", "rejected_count", "removed_count", "duration", "error_short",
    ]  # fmt: skip
    list_filter = ["interface", "status", "full", ("operator", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["=operator__operator_id", "operator__operator_name"]
    list_select_related = ["operator"]
    ordering = ["-started"]
    date_hierarchy = "started"
    show_full_result_count = False

    @admin.display(description="耗时")
    def duration(self, obj):
        return f"{(obj.finished - obj.started).total_seconds():.1f} s" if obj.finished else "—"

    @admin.display(description="错误")
    def error_short(self, obj):
        return obj.error[:60]


@admin.register(RejectedRecord)
class RejectedRecordAdmin(ReadOnlyAdminMixin, ExtensibleAdminMixin, ModelAdmin):
    """Records operators sent that broke a rule; supervision adds the rule filter and the data-quality report
    (`extensions`, filled in SupervisionConfig.ready())."""

    list_display = ["created", "operator", "interface", "record_key", "rules", "first_reason"]
    list_filter = ["interface", ("operator", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["=record_key", "=operator__operator_id"]
    list_select_related = ["operator"]
    ordering = ["-created"]
    date_hierarchy = "created"
    show_full_result_count = False

    @admin.display(description="原因")
    def first_reason(self, obj):
        return obj.reasons[0] if obj.reasons else ""
