"""Admin for the protocol layer: key sets (never their secrets), tokens, and the read-only message journal."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from apps.core.admin import ReadOnlyAdminMixin
from apps.operators.choices import OperatorKind
from apps.operators.models import Operator

from .choices import KeyDirection
from .keys import keyset_rotate
from .models import AccessToken, DirectoryChange, Exchange, OperatorKeySet, RejectedRecord, SyncRun
from .quality import RULE_LABELS
from .selectors import (
    BUCKETS,
    TARGET,
    Correctness,
    QualityReport,
    correctness_by_operator,
    day_bounds,
    period_last_day,
    quality_report_by_operator,
)

REPORT_DAYS = 30  # the data-quality report's default period, ending today
MAX_REPORT_DAYS = 366  # a longer period is cut: one row per day must stay a readable page
BUCKET_LABELS = {"day": "按日", "week": "按周", "month": "按月"}
# Dates the report accepts; also keeps date arithmetic clear of year 1 and 9999 (OverflowError, not a message).
REPORT_FIRST_DAY, REPORT_LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)


@admin.register(OperatorKeySet)
class OperatorKeySetAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
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
class AccessTokenAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    def has_delete_permission(self, request, obj=None):
        return admin.ModelAdmin.has_delete_permission(self, request, obj)  # revoking is deleting

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
class ExchangeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The journal is evidence: read-only, and retention is the purge task's job."""

    list_display = ["created", "direction", "interface", "operator", "ret", "msg_short", "latency", "timestamp", "seq"]
    list_filter = ["direction", "interface", "ret", ("operator", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["=claimed_operator_id", "=interface", "=seq", "=timestamp"]
    list_select_related = ["operator"]
    ordering = ["-created"]
    date_hierarchy = "created"
    show_full_result_count = False
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
class SyncRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
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


class RuleListFilter(admin.SimpleListFilter):
    title = "违反的规则"
    parameter_name = "rule"

    def lookups(self, request, model_admin):
        return [(code, label) for code, label in RULE_LABELS.items()]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        # The list is stored as JSON text on SQLite and jsonb on PostgreSQL; both render a code inside quotes, so
        # `"power"` matches that element and not a longer code containing it. (`contains` does not work on SQLite.)
        return queryset.filter(rules__icontains=json.dumps(self.value()))


@admin.register(RejectedRecord)
class RejectedRecordAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created", "operator", "interface", "record_key", "rules", "first_reason"]
    list_filter = ["interface", ("operator", admin.RelatedOnlyFieldListFilter), RuleListFilter]
    search_fields = ["=record_key", "=operator__operator_id"]
    list_select_related = ["operator"]
    ordering = ["-created"]
    date_hierarchy = "created"
    show_full_result_count = False
    change_list_template = "admin/interconnect/rejectedrecord/change_list.html"

    @admin.display(description="原因")
    def first_reason(self, obj):
        return obj.reasons[0] if obj.reasons else ""

    def get_urls(self):
        # Before the default URLs: "<path:object_id>/" would otherwise take "quality/" for a record's key.
        report = path(
            "quality/",
            self.admin_site.admin_view(self.quality_view),
            name=f"{self.opts.app_label}_{self.opts.model_name}_quality",
        )
        return [report, *super().get_urls()]

    # -- the data-quality report ------------------------------------------------------------------------------------

    def quality_view(self, request: HttpRequest) -> TemplateResponse:
        """Per operator in the user's scope: correctness against 99.99 % and rejected records by rule over time."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        since, until = self._report_period(request)
        bucket = request.GET.get("bucket", "day")
        if bucket not in BUCKETS:
            messages.warning(request, "统计粒度无效，已按日统计。")
            bucket = "day"
        in_scope = Operator.objects.for_user(request.user).filter(kind=OperatorKind.OPERATOR).order_by("operator_id")
        chosen = request.GET.get("operator", "").strip()
        operators = list(in_scope.filter(pk=chosen)) if chosen else list(in_scope)
        if chosen and not operators:
            messages.warning(request, f"运营商“{chosen[:20]}”不存在或不在您的查看范围内，已显示全部运营商。")
            chosen, operators = "", list(in_scope)
        ids = [operator.pk for operator in operators]
        figures = correctness_by_operator(ids, since, until)
        reports = quality_report_by_operator(ids, since, until, bucket=bucket)
        rows = [
            self._report_section(operator, figures[operator.pk], reports[operator.pk], since, until)
            for operator in operators
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": "数据质量报告",
            "opts": self.opts,
            "since": since,
            "until": until,
            "bucket": bucket,
            "bucket_choices": list(BUCKET_LABELS.items()),
            "operator_choices": list(in_scope) if len(ids) > 1 or chosen else [],
            "chosen": chosen,
            "target": TARGET,
            "sections": rows,
            # Only operators with rejections get a table; the others are one line in the summary.
            "details": [row for row in rows if row["report"].total_records or chosen],
            "changelist_url": self._records_url(since=since, until=until),
        }
        return TemplateResponse(request, "admin/interconnect/quality_report.html", context)

    def _report_period(self, request: HttpRequest) -> tuple[date, date]:
        today = timezone.localdate()
        until = self._date_param(request, "until", today)
        since = self._date_param(request, "since", until - timedelta(days=REPORT_DAYS - 1))
        if since > until:
            messages.warning(request, "开始日期晚于结束日期，已改为结束日期前30天。")
            since = until - timedelta(days=REPORT_DAYS - 1)
        if (until - since).days >= MAX_REPORT_DAYS:
            messages.warning(request, f"统计期最长{MAX_REPORT_DAYS}天，已从结束日期往前截取。")
            since = until - timedelta(days=MAX_REPORT_DAYS - 1)
        return since, until

    @staticmethod
    def _date_param(request: HttpRequest, name: str, default: date) -> date:
        value = request.GET.get(name, "").strip()
        if not value:
            return default
        try:
            day = date.fromisoformat(value)
        except ValueError:
            day = None
        if day is None or not REPORT_FIRST_DAY <= day <= REPORT_LAST_DAY:
            label = "开始日期" if name == "since" else "结束日期"
            messages.warning(
                request, f"{label}“{value[:20]}”无法识别，请使用 YYYY-MM-DD 格式；已改用 {default:%Y-%m-%d}。"
            )
            return default
        return day

    def _records_url(self, *, since: date, until: date, **filters: str) -> str:
        """The rejected-records changelist narrowed to Beijing days since..until (and any list filters)."""
        start, end = day_bounds(since, until)
        # ISO datetimes with their offset: a bare date on a DateTimeField would be taken as a naive datetime.
        query = {**filters, "created__gte": start.isoformat(), "created__lt": end.isoformat()}
        return f"{reverse(f'admin:{self.opts.app_label}_{self.opts.model_name}_changelist')}?{urlencode(query)}"

    def _report_section(
        self, operator: Operator, figure: Correctness, report: QualityReport, since: date, until: date
    ) -> dict[str, Any]:
        own = {"operator__operator_id__exact": operator.pk}
        rows = []
        for period, records, counts in report.rows():
            last = min(period_last_day(period, report.bucket), until)
            url = self._records_url(since=max(period, since), until=last, **own) if records else ""
            rows.append((period, records, counts, url))
        return {
            "operator": operator,
            "correctness": figure,
            "report": report,
            "rows": rows,
            "url": self._records_url(since=since, until=until, **own),
            "rule_columns": [
                (code, label, total, self._records_url(since=since, until=until, rule=code, **own))
                for code, label, total in report.rule_columns
            ],
        }


@admin.register(DirectoryChange)
class DirectoryChangeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
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
